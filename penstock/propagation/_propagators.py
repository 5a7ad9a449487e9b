"""Whether OpenTelemetry's global propagator behaves as its default pair, judged once per object.

With the default pair (W3C trace context, then W3C baggage) penstock reads and writes those
headers itself (`penstock.propagation._w3c`, `penstock.propagation._fields`); any other
configuration (``OTEL_PROPAGATORS``, B3, Jaeger...) goes through ``opentelemetry.propagate``.

Only public OpenTelemetry API is used: the propagator is read with
``get_global_textmap()``, and judged by what it does, not by what it is made of: the header
names it declares (``fields``) and what it writes and reads for a known context. A user's own
composite of the same two propagators passes; any other propagator, or one that writes the
same headers differently, does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: [the global propagator last judged, whether it behaves as the default pair].
textmap_checked: list[Any] = [None, False]

_FIELDS = frozenset({"traceparent", "tracestate", "baggage"})
#: The known context of the probe, and the headers the default pair makes of it.
_TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
_SPAN_ID = 0x00F067AA0BA902B7
_STATE = "congo=t61rcWkgMzE"
_BAGGAGE = ("penstock.probe", "a b/c")
_HEADERS = {
    "traceparent": f"00-{_TRACE_ID:032x}-{_SPAN_ID:016x}-01",
    "tracestate": _STATE,
    "baggage": "penstock.probe=a+b%2Fc",
}


def _first_global_textmap() -> Any:
    """``opentelemetry.propagate.get_global_textmap()``, imported on first use.

    ``opentelemetry.propagate`` loads the configured propagators when imported; once it is,
    `global_textmap` is the function itself (read it as ``_propagators.global_textmap``).
    """
    global global_textmap
    from opentelemetry.propagate import get_global_textmap

    global_textmap = get_global_textmap
    return get_global_textmap()


#: ``opentelemetry.propagate.get_global_textmap``, once imported.
global_textmap: Callable[[], Any] = _first_global_textmap


def default_propagators() -> bool:
    """Whether the global propagator behaves as OpenTelemetry's default pair.

    Judged once per propagator object (``set_global_textmap`` installs a new one).
    """
    textmap = global_textmap()
    if textmap is textmap_checked[0]:
        return bool(textmap_checked[1])
    ok = behaves_as_default(textmap)
    textmap_checked[:] = [textmap, ok]
    return ok


def behaves_as_default(textmap: Any) -> bool:
    """Whether ``textmap`` declares, writes and reads exactly the default pair's headers."""
    try:
        from opentelemetry import baggage, trace
        from opentelemetry.context import Context

        if frozenset(textmap.fields) != _FIELDS:
            return False
        span = trace.NonRecordingSpan(
            trace.SpanContext(
                _TRACE_ID,
                _SPAN_ID,
                is_remote=True,
                trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
                trace_state=trace.TraceState.from_header([_STATE]),
            )
        )
        sent = baggage.set_baggage(*_BAGGAGE, context=trace.set_span_in_context(span, Context()))
        written: dict[str, str] = {}
        textmap.inject(written, context=sent)
        if written != _HEADERS:
            return False
        received = textmap.extract(dict(_HEADERS), context=Context())
        context = trace.get_current_span(received).get_span_context()
        return (
            (context.trace_id, context.span_id, int(context.trace_flags))
            == (_TRACE_ID, _SPAN_ID, 1)
            and context.is_remote
            and context.trace_state.to_header() == _STATE
            and dict(baggage.get_all(received)) == dict([_BAGGAGE])
        )
    except Exception:  # a propagator that fails on a valid context is not the default pair
        return False
