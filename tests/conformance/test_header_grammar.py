"""penstock's own header parsing (the fast path) against the recommendation and OpenTelemetry.

Wherever OpenTelemetry's W3C propagator reads headers as the recommendation says, penstock's
fast path must read exactly what it reads; everywhere, it must read what a conformant receiver
reads (`tests.conformance.oracle`). Inputs: every header list the W3C validation harness sends,
and generated ones stressing optional whitespace, repeated headers and keys, and the key
grammar.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock.propagation import RemoteContext, extract, kafka_getter
from tests.conformance import oracle
from tests.conformance.suite_cases import suite_cases
from tests.conformance.test_w3c_trace_context import HARNESS, LEVEL_1, _require_harness

Headers = list[tuple[str, str]]


def _cases() -> list[Headers]:
    if not (HARNESS / "test.py").is_file():
        return []
    return suite_cases(HARNESS, LEVEL_1)


SUITE = _cases()


def _values(headers: Headers, name: str) -> list[str] | None:
    return [v for k, v in headers if k.lower() == name] or None


def _read(headers: Headers, slow: bool) -> RemoteContext | None:
    import penstock.propagation as propagation

    if not slow:
        return extract(headers, kafka_getter)
    saved = propagation._default_propagators
    propagation._default_propagators = lambda: False  # type: ignore[assignment]
    try:
        return extract(headers, kafka_getter)
    finally:
        propagation._default_propagators = saved


def check(headers: Headers) -> None:
    """penstock reads ``headers`` as the oracle does, and as OpenTelemetry does where it is
    conformant."""
    parents, states = _values(headers, "traceparent"), _values(headers, "tracestate")
    fast = _read(headers, slow=False)
    wanted = oracle.traceparent(parents)
    if wanted is None:
        assert fast is None, headers
    else:
        assert fast is not None, headers
        assert (fast.trace_id, fast.span_id, fast.trace_flags) == wanted
        assert fast.trace_state == oracle.tracestate(states), headers
    if oracle.otel_conformant(parents, states):
        assert fast == _read(headers, slow=True), headers


@pytest.mark.parametrize("headers", SUITE or [None], ids=lambda h: repr(h)[:60])
def test_suite_cases(headers: Headers | None) -> None:
    """Every header list of the W3C validation harness."""
    if headers is None:
        _require_harness()
        return
    check(headers)


ows = st.text(alphabet=" \t", max_size=2)
keys = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_\-*/]{0,6}", fullmatch=True),
    st.from_regex(r"[a-z0-9][a-z0-9_\-*/]{0,5}@[a-z][a-z0-9_\-*/]{0,4}", fullmatch=True),
    st.from_regex(r"[a-z0-9][a-z0-9_\-*/@]{0,6}", fullmatch=True),
    st.integers(min_value=240, max_value=258).flatmap(
        lambda n: st.sampled_from(
            ["k" * n, "t" * (n - 15) + "@" + "v" * 14, "t" * (n - 16) + "@" + "v" * 15]
        )
    ),
    st.sampled_from(["FOO", "@foo", "foo.bar", "foo@", "1a", "a@@b", "a@1"]),
)
values = st.one_of(
    st.from_regex(
        r"[\x21-\x2b\x2d-\x3c\x3e-\x7e][\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,5}", fullmatch=True
    ),
    st.sampled_from(["", "a=b", "x ", "é"]),
)
members = st.tuples(ows, keys, values, ows).map(lambda t: f"{t[0]}{t[1]}={t[2]}{t[3]}")
headers_of_members = st.lists(members, max_size=5).flatmap(
    lambda ms: st.sampled_from([ms, ms + ms[:1], ms[::-1] + ms[:2]])
)
tracestates = st.lists(headers_of_members.map(",".join), max_size=3)
ids = st.tuples(
    st.integers(min_value=0, max_value=(1 << 128) - 1),
    st.integers(min_value=0, max_value=(1 << 64) - 1),
    st.integers(min_value=0, max_value=255),
)
traceparents = st.lists(
    st.one_of(
        st.tuples(ows, ids, ows).map(
            lambda t: f"{t[0]}00-{t[1][0]:032x}-{t[1][1]:016x}-{t[1][2]:02x}{t[2]}"
        ),
        st.tuples(st.sampled_from(["01", "cc", "ff", "0g"]), ids, st.sampled_from(["", "-x"])).map(
            lambda t: f"{t[0]}-{t[1][0]:032x}-{t[1][1]:016x}-{t[1][2]:02x}{t[2]}"
        ),
        st.text(alphabet="0123456789abcdef- \t", max_size=60),
    ),
    max_size=2,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parents=traceparents,
    states=tracestates,
    names=st.sampled_from(["traceparent", "TraceParent"]),
)
def test_generated_headers(parents: list[str], states: list[str], names: str) -> None:
    """Whitespace, repeated headers and keys, and both key grammars."""
    headers: Any = [(names, p) for p in parents] + [("tracestate", s) for s in states]
    check(headers)
