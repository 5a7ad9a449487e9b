"""penstock's own copies of the header grammars accept exactly what OpenTelemetry's accept.

penstock reads no private name of OpenTelemetry; OpenTelemetry's private validators serve here
as the oracle, so a change on either side fails this test instead of drifting silently.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.baggage import _is_valid_pair as otel_baggage_pair
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import _is_valid_pair as otel_tracestate_pair

from penstock.backends import otel as otel_backend
from penstock.propagation import _w3c

#: Characters that matter to the grammars, and some that must be refused.
alphabet = st.sampled_from(
    [*"abcxyz09AZ_-*/@=;,. \t%+!#$&'^`|~\"\\:<>?[]{}()", "\x7f", "\x00", "é"]
)
texts = st.text(alphabet, max_size=20)


@settings(max_examples=2000, deadline=None)
@given(key=texts, value=texts)
def test_baggage_member_grammar(key: str, value: str) -> None:
    """W3C Baggage key=value;properties: the same verdict as OpenTelemetry's propagator."""
    assert _w3c.valid_baggage_pair(key, value) == otel_baggage_pair(key, value)


@settings(max_examples=2000, deadline=None)
@given(key=texts, value=texts)
def test_tracestate_member_grammar_of_the_otel_backend(key: str, value: str) -> None:
    """The level-1 tracestate grammar the otel backend applies is TraceState's."""
    ours = (
        otel_backend._LEVEL1_KEY(key) is not None and otel_backend._LEVEL1_VALUE(value) is not None
    )
    assert ours == otel_tracestate_pair(key, value)


hexes = st.text(st.sampled_from("0123456789abcdefABx-"), min_size=0, max_size=60)


@settings(max_examples=2000, deadline=None)
@given(
    text=st.one_of(
        hexes,
        st.builds(
            lambda v, t, s, f, rest, pad: f"{pad}{v}-{t}-{s}-{f}{rest}{pad}",
            st.sampled_from(["00", "01", "ff", "0g", "0"]),
            st.sampled_from(["a" * 32, "0" * 32, "a" * 31, "A" * 32]),
            st.sampled_from(["b" * 16, "0" * 16, "b" * 15]),
            st.sampled_from(["01", "00", "1", "zz"]),
            st.sampled_from(["", "-x", "-", " x"]),
            st.sampled_from(["", " ", "\t"]),
        ),
    )
)
def test_traceparent_pattern(text: str) -> None:
    """The traceparent pattern matches (with the same groups) where OpenTelemetry's does."""
    ours = _w3c._TRACEPARENT(text)
    theirs = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE.search(text)
    assert (ours is None) == (theirs is None)
    if ours is not None and theirs is not None:
        assert ours.groups() == theirs.groups()
