"""Which propagators OpenTelemetry is configured with, checked once per global propagator.

With the default pair (W3C trace context, then W3C baggage) penstock reads and writes those
headers itself (`penstock.propagation._w3c`, `penstock.propagation._fields`); any other
configuration (``OTEL_PROPAGATORS``, B3, Jaeger...) goes through ``opentelemetry.propagate``.
"""

from __future__ import annotations

from functools import partial
from operator import getitem
from typing import Any

#: The key under which ``opentelemetry.propagate`` keeps the global propagator.
TEXTMAP_KEY = "_HTTP_TEXT_FORMAT"
#: [the global propagator last checked, whether it is the default pair, a mapping whose
#: `TEXTMAP_KEY` is the global propagator now]. The mapping is the module's namespace once
#: checked (a subscript is the cheapest reading for a server's hot path); until then, and if
#: the API ever keeps the propagator elsewhere, one whose propagator never matches.
textmap_checked: list[Any] = [None, False, {TEXTMAP_KEY: object()}]
#: Bound on the first check: OpenTelemetry's own traceparent pattern and baggage validator,
#: so that penstock's reading accepts what OpenTelemetry's propagators accept (where those
#: are conformant).
traceparent_re: Any = None
valid_pair: Any = None


def _global_textmap() -> Any:
    """``opentelemetry.propagate.get_global_textmap()``.

    The module is imported on first use, then this name is rebound to `textmap_reader`'s
    reader.
    """
    global _global_textmap, _namespace
    from opentelemetry import propagate

    _global_textmap, _namespace = textmap_reader(propagate)
    return _global_textmap()


#: Where the global propagator is kept (see `textmap_checked`); set with the reader.
_namespace: Any = textmap_checked[2]


def textmap_reader(propagate: Any) -> tuple[Any, Any]:
    """A reader of the global propagator that runs no Python frame, and where it reads.

    ``get_global_textmap()`` returns the module's ``_HTTP_TEXT_FORMAT``, which
    ``set_global_textmap`` replaces; reading it through C (``partial`` of ``getitem``) saves
    a frame on every propagated call, where each costs a microsecond on a live server. If the
    API ever keeps it elsewhere, the function itself is used, with a mapping whose
    propagator never matches.
    """
    namespace = vars(propagate)
    if namespace.get(TEXTMAP_KEY, namespace) is propagate.get_global_textmap():
        return partial(getitem, namespace, TEXTMAP_KEY), namespace
    return propagate.get_global_textmap, {TEXTMAP_KEY: object()}


def default_propagators() -> bool:
    """Whether the global propagator is OpenTelemetry's default pair (checked once per object)."""
    textmap = _global_textmap()
    if textmap is textmap_checked[0]:
        return bool(textmap_checked[1])
    global traceparent_re, valid_pair
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    validator: Any = None
    pattern: Any = None
    try:
        from opentelemetry.baggage import _is_valid_pair as validator

        pattern = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE
    except (ImportError, AttributeError):  # pragma: no cover - another API release
        pass
    inner = getattr(textmap, "_propagators", None)
    ok = (
        pattern is not None
        and type(textmap) is CompositePropagator
        and isinstance(inner, list)
        and [type(p) for p in inner] == [TraceContextTextMapPropagator, W3CBaggagePropagator]
    )
    traceparent_re, valid_pair = pattern, validator
    textmap_checked[:] = [textmap, ok, _namespace]
    return ok
