"""Hostile trace context in every carrier: arbitrary bytes and oversized ``traceparent``,
``tracestate`` and ``baggage`` values in Celery headers, Kafka headers and gRPC metadata never
raise, and never give an id longer or other than W3C allows, neither in the run that
continues nor in what it sends on."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import penstock
from penstock import flow, step
from penstock.propagation import (
    celery_getter,
    continue_from,
    dict_setter,
    grpc_getter,
    inject,
    kafka_getter,
)
from penstock.propagation._carriers import MAX_VALUE_BYTES
from penstock.propagation._w3c import MAX_NAME_CHARS
from penstock.testing import recording

VALID = "00-" + "4bf92f3577b34da6a3ce929d0e0e4736" + "-" + "00f067aa0ba902b7" + "-01"
TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
TRACE_ID = re.compile(r"(?!0{32})[0-9a-f]{32}")
#: W3C Trace Context: at most 32 tracestate members.
MAX_TRACESTATE_MEMBERS = 32


def _repeat(chunk: str | bytes, times: int) -> str | bytes:
    return chunk * times


# Oversized values are built by repetition: cheap to generate, far past every limit.
chunks = st.one_of(st.binary(min_size=1, max_size=12), st.text(min_size=1, max_size=12))
hostile = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=80),
    st.builds(_repeat, chunks, st.integers(MAX_VALUE_BYTES // 12, 12_000)),
    st.builds(lambda a, b: a + VALID + b, st.text(max_size=3), st.text(max_size=3)),
    st.builds(lambda pad: VALID + " " * pad, st.integers(1, MAX_VALUE_BYTES)),
    st.integers(1, 3_000).map(lambda n: ",".join(f"k{i}=v{i}" for i in range(n))),
    st.builds(lambda name: f"penstock.trace=x,penstock.step={name}", st.text(max_size=600)),
    st.just(VALID),
)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("latin-1")


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


#: carrier name -> (make the carrier from header values, its getter).
CARRIERS: dict[str, tuple[Callable[[dict[str, str | bytes]], Any], Any]] = {
    # Celery message headers arrive as a dict; a value may be of any JSON type, or bytes.
    "celery": (dict, celery_getter),
    # Kafka headers: a list of (str, bytes) pairs.
    "kafka": (lambda h: [(k, _bytes(v)) for k, v in h.items()], kafka_getter),
    # gRPC metadata: (lower-case key, str) pairs.
    "grpc": (lambda h: [(k, _text(v)) for k, v in h.items()], grpc_getter),
}


@pytest.fixture
def relay() -> Callable[[], dict[str, str]]:
    """A step that sends the run on: what it writes into an outgoing carrier."""

    @flow("wire")
    @step
    def relay() -> dict[str, str]:
        out: dict[str, str] = {}
        inject(out, dict_setter)
        return out

    return relay


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
@settings(
    max_examples=120,
    deadline=None,
    # The fixture only declares a step; it holds no state between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(traceparent=hostile, tracestate=hostile, baggage=hostile)
def test_hostile_context_in_every_carrier(
    carrier: str,
    traceparent: str | bytes,
    tracestate: str | bytes,
    baggage: str | bytes,
    relay: Callable[[], dict[str, str]],
) -> None:
    """Junk in, one step with a W3C-valid id, and a valid traceparent within limits out."""
    make, getter = CARRIERS[carrier]
    headers = make({"traceparent": traceparent, "tracestate": tracestate, "baggage": baggage})
    with recording() as rec, continue_from(headers, getter) as remote:
        out = relay()
    [run] = rec.records
    event("continued the sender's run" if remote is not None else "started a fresh run")
    assert run.status == "ok"
    assert TRACE_ID.fullmatch(run.correlation_id)
    assert 0 < run.span_id < 1 << 64
    if remote is None:
        assert run.parent is None
    else:
        assert TRACEPARENT.fullmatch(remote.traceparent)
        assert _text(traceparent).strip().startswith(remote.traceparent[:55])
        assert run.correlation_id == remote.correlation_id
        assert remote.parent_step is None or len(remote.parent_step) <= MAX_NAME_CHARS
    assert TRACEPARENT.fullmatch(out["traceparent"])
    assert out["traceparent"][3:35] == run.correlation_id
    state = out.get("tracestate", "")
    assert len(state.encode()) <= MAX_VALUE_BYTES
    assert state.count(",") < MAX_TRACESTATE_MEMBERS
    assert len(out.get("baggage", "").encode()) <= MAX_VALUE_BYTES


def test_forged_parent_names_cannot_flood_drift_reports(caplog: pytest.LogCaptureFixture) -> None:
    """Forged remote parent names add no drift reports or edges; known names still count."""

    @flow("victim")
    @step(after="send")
    def handle() -> str | None:
        return penstock.current_correlation_id()

    @flow("victim")
    @step(after="handle")
    def audit() -> None:
        return None

    trace_id = VALID[3:35]

    def headers(parent: str) -> dict[str, str]:
        return {
            "traceparent": VALID,
            "baggage": f"penstock.trace={trace_id},penstock.step={parent},penstock.flow=victim",
        }

    with recording():
        for i in range(5_000):
            with continue_from(headers(f"forged{i}"), celery_getter):
                assert handle() == trace_id
        assert penstock.observed_edges("victim") == []
        with continue_from(headers("send"), celery_getter):
            handle()
        for _ in range(3):
            with continue_from(headers("audit"), celery_getter):
                handle()
        assert penstock.observed_edges("victim") == [("audit", "handle"), ("send", "handle")]
    drift = [r for r in caplog.records if getattr(r, "penstock_drift", False)]
    assert [(r.predecessor, r.step) for r in drift] == [("audit", "handle")]  # type: ignore[attr-defined]
