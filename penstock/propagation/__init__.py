"""Carry a run across processes as W3C Trace Context: the contract for integrations.

A producer calls `inject` with a carrier (message headers, call metadata) and the carrier's
setter; a consumer calls `extract` (or `continue_from`) with the carrier and its getter, and
the steps it then calls continue the producer's run: same correlation ID, same trace, parent =
the producer's step. The "Writing an integration" page shows a whole integration built on this
module alone, as `penstock.contrib` is.

Reading and writing headers:

- `inject`, `extract`, `continue_from`; `trace_headers` (what `inject` writes, as pairs).
- `Getter` and `Setter` (OpenTelemetry's) to write your own carrier's; ready-made ones:

| carrier | getter | setter |
| --- | --- | --- |
| `dict[str, str]` | `dict_getter` | `dict_setter` |
| Celery message headers or `task.request` | `celery_getter` | `dict_setter` |
| Kafka `list[tuple[str, bytes]]` | `kafka_getter` | `kafka_setter` |
| gRPC metadata | `grpc_getter` | `grpc_setter` |

Continuing a run, and asking about the current one:

- `RemoteContext` (what `extract` returns) and `continue_remote` (a context manager from ids).
- How the run came (``kind="consumer"`` for a message, ``"server"`` for a call, and the hop's
  attributes): under the otel backend the first step that continues it is a ``CONSUMER`` or
  ``SERVER`` span, unless another instrumentation already made that span.
- `current_ids` and `current_step` (and `penstock.current_correlation_id`).
- `RunScope`, for a server that answers with the correlation ID of the run a request
  continued or started (the ``X-Correlation-ID`` response header of `penstock.contrib.asgi`).

With OpenTelemetry's default propagators (W3C ``traceparent``/``tracestate`` and ``baggage``)
penstock reads and writes these headers itself, as the W3C Trace Context recommendation says
(the W3C validation harness runs in penstock's tests) and, wherever OpenTelemetry's W3C
propagator is conformant, exactly as it does; propagators a user configures otherwise
(``OTEL_PROPAGATORS``: B3, Jaeger...) are used through ``opentelemetry.propagate``. Under the
logging and noop backends the context carries penstock's own ids (the trace id *is* the
correlation ID), under the otel backend the current span's.

Besides the trace context, `inject` (unless ``names=False``) puts the sending step's name in
W3C baggage (``penstock.flow``, ``penstock.step``, and ``penstock.trace``, the trace id they
belong to), so the consumer's records can name their parent step (``parent_step``) and
cross-process transitions count as observed edges. Baggage travels only when the ``baggage``
propagator is configured (it is by default); without it the run still continues, with
``parent_step`` unset.

Incoming carriers are untrusted: malformed, oversized (> 8192 bytes per value), non-ASCII or
undecodable values, wrong types and all-zero ids are ignored with a debug log on the
``penstock.propagation`` logger, and `extract` returns ``None`` (a fresh run starts). No
function here raises because of a carrier.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

from opentelemetry.propagators.textmap import CarrierT, Getter, Setter

from penstock._runtime.lifecycle import current_ids, current_run, current_step
from penstock._runtime.remote import RunScope, continue_remote, remote_info
from penstock._runtime.remote import remote_infos as _infos
from penstock.propagation import _w3c
from penstock.propagation._carriers import (
    celery_getter,
    dict_getter,
    dict_setter,
    grpc_getter,
    grpc_setter,
    kafka_getter,
    kafka_setter,
)
from penstock.propagation._fields import cached_fields, context_of
from penstock.propagation._propagators import default_propagators as _default_propagators
from penstock.propagation._remote import RemoteContext
from penstock.propagation._w3c import SafeGetter, names_from_items

__all__ = [
    "Getter",
    "RemoteContext",
    "RunScope",
    "Setter",
    "celery_getter",
    "continue_from",
    "continue_remote",
    "current_ids",
    "current_step",
    "dict_getter",
    "dict_setter",
    "extract",
    "grpc_getter",
    "grpc_setter",
    "inject",
    "kafka_getter",
    "kafka_setter",
    "trace_headers",
]

_log = logging.getLogger("penstock.propagation")


# --- writing -------------------------------------------------------------------------------


def inject(
    carrier: CarrierT,
    setter: Setter[CarrierT] = dict_setter,  # type: ignore[assignment]
    *,
    names: bool = True,
) -> bool:
    """Write the current run's context into ``carrier`` (no-op outside a run).

    Args:
        carrier: the outgoing headers or metadata; changed in place.
        setter: how to write into it (default: a ``dict``).
        names: also name the sending step in W3C baggage (``penstock.step``,
            ``penstock.flow``, ``penstock.trace``), so that the receiver's records carry
            ``parent_step`` and cross-process transitions count as observed edges.

    Returns:
        Whether a context was written.
    """
    try:
        run = current_run()
        if run is None:
            return False
        if _default_propagators():
            fields = cached_fields(run, names)
            if fields is not None:
                for key, value in fields:
                    setter.set(carrier, key, value)
                return True
        from opentelemetry import propagate

        propagate.inject(carrier, context=context_of(run, names), setter=setter)
        return True
    except Exception as exc:
        _log.debug("penstock could not inject the trace context: %r", exc, exc_info=True)
        return False


def trace_headers(*, names: bool = True) -> tuple[tuple[str, str], ...]:
    """The headers `inject` writes for the current run, as ``(name, value)`` pairs.

    Names are lower-case (as HTTP/2 and gRPC metadata want them). With the default
    propagators the same tuple is returned while the same step makes call after call, so a
    client can send it as it is.

    Args:
        names: also name the sending step in W3C baggage (see `inject`).

    Returns:
        The pairs; empty outside a run.
    """
    run = current_run()
    if run is None:
        return ()
    fields = cached_fields(run, names)
    if fields is not None:
        return fields
    carrier: list[tuple[str, Any]] = []
    inject(carrier, grpc_setter, names=names)
    return tuple(carrier)


# --- reading -------------------------------------------------------------------------------


def extract(carrier: Any, getter: Getter[Any] = dict_getter) -> RemoteContext | None:
    """Read a trace context from an incoming ``carrier``.

    Args:
        carrier: the incoming headers or metadata (any object ``getter`` understands).
        getter: how to read it (default: a ``dict``). It should return every value of a
            header that came several times: several ``traceparent`` headers make the
            context invalid, as W3C Trace Context says.

    Returns:
        The validated context, or ``None`` when the carrier has none, or a malformed one.
    """
    try:
        if carrier is None:
            return None
        if _default_propagators():
            if getter is grpc_getter:
                return _from_metadata(carrier)  # every call a gRPC server receives
            if getter is dict_getter and type(carrier) is dict:
                # Most carriers (HTTP requests, message headers): read in this frame.
                traceparent = carrier.get("traceparent")
                if traceparent is None:
                    return None
                parsed = _w3c.parse_common(
                    traceparent, carrier.get("tracestate"), carrier.get("baggage")
                ) or _parse(carrier, getter)
            else:
                parsed = _parse(carrier, getter)
            if parsed is None:
                return None
            trace_id, span_id, flags, state, flow, step = parsed
            return RemoteContext(trace_id, span_id, flags, state, step, flow)
        from opentelemetry import baggage, propagate, trace
        from opentelemetry.context import Context

        # An empty base context: otherwise a span current in *this* process would be
        # mistaken for one read from the carrier.
        ctx = propagate.extract(carrier, context=Context(), getter=SafeGetter(getter))
        sc = trace.get_current_span(ctx).get_span_context()
        if not sc.is_valid or not sc.is_remote:
            return None
        state = sc.trace_state.to_header() if len(sc.trace_state) else None
        names = names_from_items(baggage.get_all(ctx), f"{sc.trace_id:032x}")
        flow, step = names if names is not None else (None, None)
        return RemoteContext(sc.trace_id, sc.span_id, int(sc.trace_flags), state, step, flow)
    except Exception as exc:
        _log.debug("penstock ignored an unreadable trace context: %r", exc, exc_info=True)
        return None


def _parse(carrier: Any, getter: Getter[Any]) -> _w3c.Parsed | None:
    """What the default propagators' headers in ``carrier`` say (penstock's own reading)."""
    if getter is grpc_getter:
        return _w3c.parse_metadata(carrier)
    try:
        # One value per header, as most carriers hold them: the flat reading.
        traceparent = _single(getter.get(carrier, "traceparent"))
        if traceparent is None:
            return None
        parsed = _w3c.parse_common(
            traceparent,
            _single(getter.get(carrier, "tracestate")),
            _single(getter.get(carrier, "baggage")),
        )
        if parsed is not None:
            return parsed
    except Exception:  # the general reading below logs what failed
        pass
    safe = SafeGetter(getter)
    traceparent = safe.raw(carrier, "traceparent")
    if not traceparent:
        return None
    return _w3c.parse_headers(
        traceparent, safe.raw(carrier, "tracestate"), safe.raw(carrier, "baggage")
    )


def _single(values: object) -> object:
    """The value of a header a getter found once (a one-item list, or a string): else as is.

    ``None`` stays ``None``; anything else `_w3c.parse_common` leaves to the general reading.
    """
    if type(values) is list and len(values) == 1:
        return values[0]
    return values


def _from_metadata(metadata: Any) -> RemoteContext | None:
    """`extract` of gRPC metadata under the default propagators.

    Servers get lower-case keys and ``str`` values (gRPC decodes only ``-bin`` keys to
    bytes): penstock's own headers are picked up in one pass. Anything else (``tracestate``,
    a repeated header, a key in another case, bytes, items that are not pairs, another
    traceparent form) is read the general way, by `_w3c.parse_metadata`.
    """
    global _last_read
    traceparent = baggage = None
    try:
        for key, value in metadata:
            if key == "traceparent" and traceparent is None:
                traceparent = value
            elif key == "baggage" and baggage is None:
                baggage = value
            elif key in _HEADERS or (not key.islower() and key.lower() in _HEADERS):
                return _context_of(_w3c.parse_metadata(metadata))
    except (TypeError, ValueError, AttributeError):
        return _context_of(_w3c.parse_metadata(metadata))
    if traceparent is None:
        return None
    last = _last_read
    if traceparent == last[0] and baggage == last[1]:
        # The headers of the call before (a client calling from one step): read already.
        remote = RemoteContext(*last[2])
        remote._info = last[3]
        return remote
    if (
        type(traceparent) is not str
        or (baggage is not None and type(baggage) is not str)
        or _OWN_TRACEPARENT(traceparent) is None
    ):
        return _context_of(_w3c.parse_metadata(metadata))
    # Valid by the pattern (non-zero ids too).
    trace_hex = traceparent[3:35]
    names = _w3c.parse_names(baggage, trace_hex) if baggage is not None else None
    flow, step = names if names is not None else (None, None)
    fields = (
        int(trace_hex, 16),
        int(traceparent[36:52], 16),
        int(traceparent[53:55], 16),
        None,
        step,
        flow,
    )
    remote = RemoteContext(*fields)
    key = (flow, step or "")
    remote._info = _infos.get(key) or remote_info(*key)
    _last_read = (traceparent, baggage, fields, remote._info)
    return remote


def _context_of(parsed: _w3c.Parsed | None) -> RemoteContext | None:
    if parsed is None:
        return None
    trace_id, span_id, flags, state, flow, step = parsed
    return RemoteContext(trace_id, span_id, flags, state, step, flow)


#: (traceparent, baggage, then the RemoteContext fields read from them and the sender's
#: StepInfo) of the last gRPC metadata read the short way: reading depends on those two
#: strings alone, and a client calling from one step sends the same ones call after call.
_last_read: tuple[Any, ...] = (None, None, (), None)
_HEADERS = _w3c.HEADERS
_OWN_TRACEPARENT = _w3c.OWN_TRACEPARENT


@contextmanager
def continue_from(
    carrier: Any,
    getter: Getter[Any] = dict_getter,
    *,
    link: bool = False,
    kind: Literal["consumer", "server"] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[RemoteContext | None]:
    """Continue the run found in ``carrier`` while the block runs (a fresh run if none).

    Args:
        carrier: the incoming headers or metadata.
        getter: how to read it.
        link: start a new run linked to the remote one instead of continuing it.
        kind: how the run came, ``"consumer"`` (a message) or ``"server"`` (a call): under
            the otel backend the first step in the block gets that span kind (see
            `continue_remote`).
        attributes: span attributes of the hop for that step (``messaging.system``...).

    Yields:
        The remote context, or ``None`` when the carrier has none (steps then start new runs).
    """
    remote = extract(carrier, getter)
    if remote is None:
        yield None
        return
    with remote.continue_run(link=link, kind=kind, attributes=attributes):
        yield remote
