"""The flat reading of the common case equals the general one, for every getter.

`penstock.propagation.extract` reads one value per header (a dict, or any getter returning
one-item lists) in one frame (`penstock.propagation._w3c.parse_common`) and leaves anything
else to the general reading. Both must give the same answer for every input, valid or not;
and a run continued from another process takes the same edge on every request, although the
happens-before search for it runs once.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import entrypoint, flow, step
from penstock.propagation import Getter, RemoteContext, _w3c, continue_from, extract
from penstock.testing import RecordingBackend
from tests.conformance import oracle

TRACE = "0af7651916cd43dd8448eb211c80319c"
OWN = f"00-{TRACE}-b7ad6b7169203331-01"

traceparents = st.one_of(
    st.sampled_from(
        [
            OWN,
            f"00-{TRACE}-b7ad6b7169203331-00",
            f" 00-{TRACE}-b7ad6b7169203331-01\t",
            f"00-{TRACE.upper()}-b7ad6b7169203331-01",
            f"00-{'0' * 32}-b7ad6b7169203331-01",
            f"00-{TRACE}-{'0' * 16}-01",
            f"01-{TRACE}-b7ad6b7169203331-01-later",
            f"00-{TRACE}-b7ad6b7169203331-01-more",
            f"ff-{TRACE}-b7ad6b7169203331-01",
            f"00-0x{TRACE[2:]}-b7ad6b7169203331-01",
            f"00-{TRACE}-b7ad6b7169203331-1",
        ]
    ),
    st.text(max_size=60),
)
tracestates = st.sampled_from(
    [
        "rojo=00f067aa0ba902b7",
        "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE",
        " rojo=1 ,,\tcongo=2",
        "rojo=1,rojo=2",
        "Rojo=1",
        "tenant@vendor=x",
        "bad member",
        "a=" + "b" * 300,
        ",".join(f"k{i}=v" for i in range(33)),
        "",
        "caf\u00e9=1",
    ]
)
baggages = st.one_of(
    st.sampled_from(
        [
            f"penstock.trace={TRACE},penstock.step=checkout,penstock.flow=shop",
            f"penstock.trace={TRACE},penstock.step=checkout",
            f"penstock.flow=shop,penstock.step=checkout,penstock.trace={TRACE}",
            f"userId=alice,penstock.trace={TRACE},penstock.step=check%20out,penstock.flow=a+b",
            f"penstock.trace={TRACE}, penstock.step = s_1 ;p=1",
            f"penstock.trace={TRACE},penstock.step=a,penstock.step=b",
            f"penstock.trace={'f' * 32},penstock.step=checkout",
            f"penstock.trace={TRACE},penstock.step=%0Aforged",
            f"penstock.trace={TRACE},penstock.step=",
            f"penstock.trace={TRACE},penstock.step={'x' * 300}",
            "vendor=abc,other=1",
            "",
        ]
    ),
    st.text(max_size=40),
)
absent = st.none()
carriers = st.fixed_dictionaries(
    {},
    optional={
        "traceparent": traceparents,
        "tracestate": tracestates,
        "baggage": baggages,
    },
)


def general(carrier: dict[str, Any]) -> RemoteContext | None:
    """The general reading: every getter value judged by `clean`, then `parse_headers`."""
    parsed = _w3c.parse_headers(
        *(
            _w3c.clean(key, _one(carrier.get(key)))
            for key in ("traceparent", "tracestate", "baggage")
        )
    )
    if parsed is None:
        return None
    trace_id, span_id, flags, state, flow_name, step_name = parsed
    return RemoteContext(trace_id, span_id, flags, state, step_name, flow_name)


def _one(value: object) -> list[Any] | None:
    return None if value is None else [value]


class ListGetter(Getter[dict[str, Any]]):
    """A third-party carrier's getter: values as one-item lists (as OpenTelemetry's do)."""

    def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
        value = carrier.get(key)
        return None if value is None else [value]

    def keys(self, carrier: dict[str, Any]) -> list[str]:
        return list(carrier)


@settings(max_examples=500, deadline=None)
@given(carrier=carriers)
def test_the_flat_reading_equals_the_general_one(carrier: dict[str, Any]) -> None:
    """A dict, and any getter's one-item lists, read as `clean` + `parse_headers` read."""
    expected = general(carrier)
    assert extract(carrier) == expected
    assert extract(carrier, ListGetter()) == expected
    flat = _w3c.parse_common(
        carrier.get("traceparent"), carrier.get("tracestate"), carrier.get("baggage")
    )
    if flat is not None:  # taken: the common case, read flat
        assert RemoteContext(*flat[:4], flat[5], flat[4]) == expected


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(carrier=carriers)
def test_the_flat_reading_equals_opentelemetry_where_it_is_conformant(
    monkeypatch: pytest.MonkeyPatch, carrier: dict[str, Any]
) -> None:
    """Against OpenTelemetry's own propagators (the reading without penstock's parser)."""
    import penstock.propagation as propagation

    fast = extract(carrier)
    with monkeypatch.context() as patch:
        patch.setattr(propagation, "_default_propagators", lambda: False)
        slow = extract(carrier)
    parents = _one(carrier.get("traceparent"))
    if oracle.otel_conformant(parents, _one(carrier.get("tracestate"))):
        assert fast == slow


def test_the_common_case_reads_every_member_order_and_other_members() -> None:
    """penstock's baggage beside the application's, in any order, names the sending step."""
    for baggage in (
        f"penstock.trace={TRACE},penstock.step=checkout,penstock.flow=shop",
        f"penstock.flow=shop,penstock.step=checkout,penstock.trace={TRACE}",
        f"userId=alice,penstock.trace={TRACE},penstock.flow=shop,penstock.step=checkout",
    ):
        remote = extract({"traceparent": OWN, "baggage": baggage})
        assert remote is not None
        assert (remote.parent_flow, remote.parent_step) == ("shop", "checkout"), baggage
        assert remote.correlation_id == TRACE
        assert remote.span_id == 0xB7AD6B7169203331


def test_repeated_and_odd_values_still_take_the_general_reading() -> None:
    """Lists of several values, bytes and a getter that fails are judged as before."""
    assert extract({"traceparent": [OWN, OWN]}) is None  # repeated: invalid (W3C)
    assert extract({"traceparent": [OWN]}) == extract({"traceparent": OWN})
    assert extract({"traceparent": 55}) is None

    class Failing(ListGetter):
        def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
            if key == "baggage":
                raise RuntimeError("broken getter")
            return super().get(carrier, key)

    remote = extract({"traceparent": OWN, "baggage": "x=1"}, Failing())
    assert remote is not None
    assert remote.parent_step is None


def test_a_remote_parent_takes_its_edge_on_every_request(
    penstock_recorder: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """The edge from the remote step is the same on the 1st and the 50th request (searched
    once, then cached), and drift from it is reported once."""
    from penstock._runtime.drift import observed_edges

    @flow("orders_remote")
    @entrypoint
    def take_order() -> None:
        pass

    @flow("orders_remote")
    @step(after="take_order")
    def ship_order() -> None:
        pass

    @flow("orders_remote")
    @step(after="ship_order")
    def bill_order() -> None:
        pass

    ship_headers = {
        "traceparent": OWN,
        "baggage": f"penstock.trace={TRACE},penstock.step=take_order,penstock.flow=orders_remote",
    }
    caplog.set_level(logging.WARNING, logger="penstock")
    for _ in range(50):
        with continue_from(ship_headers, kind="server"):
            ship_order()  # declared after the remote step: no drift
        with continue_from(ship_headers, kind="server"):
            bill_order()  # declared after ship_order, called after take_order: drift
    records = [r for r in penstock_recorder.records if r.step in ("ship_order", "bill_order")]
    assert len(records) == 100
    assert {r.parent_step for r in records} == {"take_order"}
    assert ("take_order", "ship_order") in observed_edges("orders_remote")
    assert ("take_order", "bill_order") in observed_edges("orders_remote")
    drift = [r for r in caplog.records if "drifted" in r.getMessage()]
    assert len(drift) == 1
    assert "'take_order'" in drift[0].getMessage()
    assert "'bill_order'" in drift[0].getMessage()


asgi_names = st.sampled_from(
    [b"traceparent", b"tracestate", b"baggage", b"Traceparent", b"x-other"]
)
asgi_values = st.one_of(
    traceparents.map(lambda text: text.encode("utf-8")),
    tracestates.map(lambda text: text.encode("utf-8")),
    baggages.map(lambda text: text.encode("utf-8")),
    st.binary(max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(headers=st.lists(st.tuples(asgi_names, asgi_values), max_size=5))
def test_the_asgi_middleware_reads_what_extract_reads(headers: list[tuple[bytes, bytes]]) -> None:
    """The middleware's one-pass reading of a request equals `extract` of its headers."""
    from penstock.contrib.asgi import asgi_headers_getter
    from penstock.propagation._entry import http_entry

    expected = extract(headers, asgi_headers_getter)
    entry = http_entry(headers, False)
    assert http_entry(iter(headers), False) == entry  # any iterable, read once or twice
    if expected is None:
        assert entry is None
        return
    assert entry is not None
    trace_id, span_id, info, link, sampled, state, hop = entry
    assert (trace_id, span_id, sampled, state) == (
        expected.trace_id,
        expected.span_id,
        expected.sampled,
        expected.trace_state,
    )
    assert (info.flow, info.name or None) == (expected.parent_flow, expected.parent_step)
    assert link is False
    assert hop is None
