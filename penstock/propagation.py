"""Carry a run across processes as W3C Trace Context.

A producer calls :func:`inject` with a carrier (message headers, call metadata) and the
carrier's setter; a consumer calls :func:`extract` (or :func:`continue_from`) with the carrier
and its getter, and the steps it then calls continue the producer's run: same correlation ID,
same trace, parent = the producer's step.

Both go through :mod:`opentelemetry.propagate`, so the propagators a user configures with
``OTEL_PROPAGATORS`` apply (W3C ``traceparent``/``tracestate`` and ``baggage`` by default), and
they work the same under every penstock backend: under the logging backend the context carries
penstock's own ids (the trace id *is* the correlation ID), under the otel backend the current
span's.

Besides the trace context, :func:`inject` (unless ``names=False``) puts the sending step's name
in W3C baggage
(``penstock.flow``, ``penstock.step``, and ``penstock.trace``, the trace id they belong to), so
the consumer's records can name their parent step (``parent_step``) and cross-process
transitions count as observed edges. Baggage travels only when the ``baggage`` propagator is
configured (it is by default); without it the run still continues, with ``parent_step`` unset.

Getter/setter pairs are provided for the carriers penstock's integrations use; each follows
OpenTelemetry's :class:`~opentelemetry.propagators.textmap.Getter` and
:class:`~opentelemetry.propagators.textmap.Setter`:

=================================  ==========================  ===========================
carrier                            getter                      setter
=================================  ==========================  ===========================
``dict[str, str]``                 :data:`dict_getter`         :data:`dict_setter`
Celery message headers / request   :data:`celery_getter`       :data:`dict_setter`
Kafka ``list[tuple[str, bytes]]``  :data:`kafka_getter`        :data:`kafka_setter`
gRPC metadata                      :data:`grpc_getter`         :data:`grpc_setter`
=================================  ==========================  ===========================

Incoming carriers are untrusted: malformed, oversized (> 8192 bytes per value), non-ASCII or
undecodable values, wrong types and all-zero ids are ignored with a debug log on the
``penstock.propagation`` logger, and :func:`extract` returns ``None`` (a fresh run starts).
Neither function ever raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.propagators.textmap import CarrierT, Getter, Setter

from penstock import _w3c
from penstock._carriers import (
    MAX_VALUE_BYTES as MAX_VALUE_BYTES,
)
from penstock._carriers import (
    CeleryGetter,
    DictGetter,
    DictSetter,
    GrpcMetadataGetter,
    GrpcMetadataSetter,
    KafkaHeadersGetter,
    KafkaHeadersSetter,
    celery_getter,
    dict_getter,
    dict_setter,
    grpc_getter,
    grpc_setter,
    kafka_getter,
    kafka_setter,
)
from penstock._runtime.lifecycle import current_run
from penstock._runtime.remote import continue_remote, remote_info
from penstock._runtime.steprun import StepRun
from penstock._w3c import (
    BAGGAGE_FLOW,
    BAGGAGE_STEP,
    BAGGAGE_TRACE,
    MAX_NAME_CHARS,
    SafeGetter,
    cached_fields,
    remote_origin,
    scan_metadata,
)
from penstock._w3c import default_propagators as _default_propagators

__all__ = [
    "CeleryGetter",
    "DictGetter",
    "DictSetter",
    "GrpcMetadataGetter",
    "GrpcMetadataSetter",
    "KafkaHeadersGetter",
    "KafkaHeadersSetter",
    "RemoteContext",
    "celery_getter",
    "continue_from",
    "dict_getter",
    "dict_setter",
    "extract",
    "grpc_getter",
    "grpc_setter",
    "inject",
    "kafka_getter",
    "kafka_setter",
]

_log = logging.getLogger("penstock.propagation")

_MAX_TRACE_ID = (1 << 128) - 1
_MAX_SPAN_ID = (1 << 64) - 1


# --- the remote context --------------------------------------------------------------------


class RemoteContext:
    """A validated trace context read from a carrier.

    Attributes:
        trace_id: 128-bit W3C trace id (non-zero); its 32-hex form is the correlation ID.
        span_id: 64-bit W3C span id of the sender (non-zero).
        trace_flags: the W3C trace-flags byte (bit 0: sampled).
        trace_state: the W3C ``tracestate`` header, re-serialized, or ``None``.
        parent_step: the sending penstock step's name, from baggage, or ``None``.
        parent_flow: that step's flow, or ``None``.
    """

    __slots__ = (
        "_entry",
        "parent_flow",
        "parent_step",
        "span_id",
        "trace_flags",
        "trace_id",
        "trace_state",
    )
    _FIELDS = ("trace_id", "span_id", "trace_flags", "trace_state", "parent_step", "parent_flow")

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        trace_flags: int = 1,
        trace_state: str | None = None,
        parent_step: str | None = None,
        parent_flow: str | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        self.trace_state = trace_state
        self.parent_step = parent_step
        self.parent_flow = parent_flow
        #: enter_remote's arguments (link=False), made once: a server reuses this context
        #: for every call that brings the same metadata.
        self._entry = (
            trace_id,
            span_id,
            remote_info(parent_flow, parent_step or ""),
            False,
            bool(trace_flags & 1),
            trace_state,
        )

    @property
    def sampled(self) -> bool:
        """Whether the sender sampled the trace (W3C flag bit 0)."""
        return bool(self.trace_flags & 1)

    @property
    def correlation_id(self) -> str:
        """The run's correlation ID: the trace id as 32 lower-case hex digits."""
        return f"{self.trace_id:032x}"

    @property
    def traceparent(self) -> str:
        """The W3C ``traceparent`` header value of this context."""
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{self.trace_flags & 0xFF:02x}"

    def continue_run(self, *, link: bool = False) -> continue_remote:
        """A context manager in which steps continue this run (or, ``link=True``, link to it)."""
        return continue_remote(
            self.trace_id,
            self.span_id,
            sampled=bool(self.trace_flags & 1),
            trace_state=self.trace_state,
            parent_step=self.parent_step,
            parent_flow=self.parent_flow,
            link=link,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteContext):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __hash__(self) -> int:
        return hash(self.traceparent)

    def __repr__(self) -> str:
        step = f" from {self.parent_flow}.{self.parent_step}" if self.parent_step else ""
        return f"<RemoteContext {self.traceparent}{step}>"


# --- inject / extract ----------------------------------------------------------------------


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

        propagate.inject(carrier, context=_context_of(run, names), setter=setter)
        return True
    except Exception as exc:
        _log.debug("penstock could not inject the trace context: %r", exc, exc_info=True)
        return False


def extract(carrier: Any, getter: Getter[Any] = dict_getter) -> RemoteContext | None:
    """Read a trace context from an incoming ``carrier``.

    Args:
        carrier: the incoming headers or metadata (any object ``getter`` understands).
        getter: how to read it (default: a ``dict``).

    Returns:
        The validated context, or ``None`` when the carrier has none, or a malformed one.
    """
    try:
        if carrier is None:
            return None
        if _default_propagators():
            if getter is grpc_getter:
                # gRPC metadata: penstock's three headers found in one pass.
                return _from_metadata(carrier)
            safe = SafeGetter(getter)
            traceparent = safe.raw(carrier, "traceparent")
            if not traceparent:
                return None
            parsed = _w3c.parse_default(
                traceparent, safe.raw(carrier, "tracestate"), safe.raw(carrier, "baggage")
            )
            return None if parsed is None else _remote(*parsed)
        from opentelemetry import baggage, propagate, trace
        from opentelemetry.context import Context

        # An empty base context: otherwise a span current in *this* process would be
        # mistaken for one read from the carrier.
        ctx = propagate.extract(carrier, context=Context(), getter=SafeGetter(getter))
        sc = trace.get_current_span(ctx).get_span_context()
        if not sc.is_valid or not sc.is_remote:
            return None
        state = sc.trace_state.to_header() if len(sc.trace_state) else None
        return _remote(sc.trace_id, sc.span_id, int(sc.trace_flags), state, baggage.get_all(ctx))
    except Exception as exc:
        _log.debug("penstock ignored an unreadable trace context: %r", exc, exc_info=True)
        return None


def _from_metadata(metadata: Any) -> RemoteContext | None:
    found = scan_metadata(metadata)
    parsed = None if found is None else _w3c.parse_metadata(found)
    return None if parsed is None else _remote(*parsed)


def _remote(
    trace_id: int, span_id: int, flags: int, state: str | None, items: Mapping[str, object]
) -> RemoteContext | None:
    if not (0 < trace_id <= _MAX_TRACE_ID and 0 < span_id <= _MAX_SPAN_ID):
        return None
    step = flow = None
    if _name(items.get(BAGGAGE_TRACE)) == f"{trace_id:032x}":
        step = _name(items.get(BAGGAGE_STEP))
        flow = _name(items.get(BAGGAGE_FLOW)) if step else None
    return RemoteContext(trace_id, span_id, flags & 0xFF, state or None, step, flow)


@contextmanager
def continue_from(
    carrier: Any, getter: Getter[Any] = dict_getter, *, link: bool = False
) -> Iterator[RemoteContext | None]:
    """Continue the run found in ``carrier`` while the block runs (a fresh run if none).

    Args:
        carrier: the incoming headers or metadata.
        getter: how to read it.
        link: start a new run linked to the remote one instead of continuing it.

    Yields:
        The remote context, or ``None`` when the carrier has none (steps then start new runs).
    """
    remote = extract(carrier, getter)
    if remote is None:
        yield None
        return
    with remote.continue_run(link=link):
        yield remote


def _name(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable():
        return value
    return None


def _context_of(run: StepRun, names: bool = True) -> Any:
    """The OpenTelemetry context to inject for ``run``, with penstock's baggage."""
    from opentelemetry import baggage, trace
    from opentelemetry import context as otel_context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

    base = otel_context.get_current()
    trace_id, span_id = run.trace_id, run.span_id
    current = trace.get_current_span(base).get_span_context()
    if (
        getattr(run.active, "provides_ids", False)
        and current.is_valid
        and (current.trace_id == trace_id)
    ):
        # otel backend: the current span is the step's span or a descendant of it (say the
        # producer span of an OpenTelemetry instrumentation): the most precise parent.
        ctx = base
    else:
        origin = remote_origin(run)
        sampled = origin.sampled if origin is not None else True
        state = origin.trace_state if origin is not None else None
        span_context = SpanContext(
            trace_id=trace_id,
            span_id=span_id,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
            trace_state=TraceState.from_header([state]) if state else None,
        )
        ctx = trace.set_span_in_context(NonRecordingSpan(span_context), base)
    info = run.info
    if names and info.name:
        ctx = baggage.set_baggage(BAGGAGE_TRACE, f"{trace_id:032x}", ctx)
        ctx = baggage.set_baggage(BAGGAGE_STEP, info.name, ctx)
        if info.flow:
            ctx = baggage.set_baggage(BAGGAGE_FLOW, info.flow, ctx)
        else:
            ctx = baggage.remove_baggage(BAGGAGE_FLOW, ctx)
    return ctx
