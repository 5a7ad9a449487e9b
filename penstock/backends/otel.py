"""The ``otel`` backend: one OpenTelemetry span per step call (needs only opentelemetry-api).

Span name ``"{flow}.{step}"`` (just ``"{step}"`` for a function in no flow); attributes
``penstock.flow``, ``penstock.step``, ``penstock.entrypoint``, ``penstock.schema`` (the record
layout's version), ``penstock.parent_step``, ``penstock.predecessor`` and ``penstock.edge_from``
(for a call inside a run, as in log records), and OpenTelemetry's code attributes: the stable
``code.function.name`` (fully qualified), ``code.file.path`` and ``code.line.number`` by default,
the deprecated ``code.function``/``code.namespace``/``code.filepath``/``code.lineno`` with
``code_attributes="deprecated"``, both with ``"both"`` (or
``OTEL_SEMCONV_STABILITY_OPT_IN=code/dup``). A failed step records the exception and sets the
status to ERROR (``"{type}: {message}"``); a cancelled one gets ``penstock.cancelled = true``. The
span is current while the step's code runs, so spans of other instrumentations nest under it, and
it nests under theirs.

Kind ``INTERNAL``, except for the first step of a run continued from another process when the
integration says how the run came: ``CONSUMER`` for a message (Celery, Kafka), ``SERVER`` for a
call (gRPC), with the hop's attributes (``messaging.system``, ``rpc.method``...). When another
instrumentation (OpenTelemetry's Celery or gRPC instrumentation) already made the span of the
hop, that span stays current and the step is an ``INTERNAL`` child of it: one span per hop.
"""

from __future__ import annotations

import re
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TracerProvider,
    TraceState,
)

from penstock._version import __version__
from penstock.backends import BaseBackend, StepRun
from penstock.backends._semconv import CodeAttributes, code_attributes, code_mode, span_kind

__all__ = ["OtelBackend", "remote_span_context"]

_attach = otel_context.attach
_detach = otel_context.detach
_set_span_in_context = trace.set_span_in_context
_get_current_span = trace.get_current_span
_EMPTY = otel_context.Context()
_INTERNAL = SpanKind.INTERNAL


class OtelBackend(BaseBackend):
    """Emit a span per step call.

    Args:
        tracer_provider: where spans go; default: the global tracer provider (looked up when
            the backend is made; a provider installed later is still used, through the API's
            proxy).
        code_attributes: ``"stable"`` code attribute names (the default), their
            ``"deprecated"`` names, or ``"both"``; default: from
            ``OTEL_SEMCONV_STABILITY_OPT_IN`` (``code/dup``: both), else stable.
    """

    provides_ids = True

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        code_attributes: CodeAttributes | None = None,
    ) -> None:
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        self.tracer = provider.get_tracer("penstock", __version__)
        self.code_attributes = code_mode(code_attributes)
        #: StepInfo -> the span attributes of its calls (made on the first call).
        self._attributes: dict[Any, dict[str, Any]] = {}

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        """Start the step's span under the current span (or the remote parent)."""
        info = step._info
        attributes = self._attributes.get(info)
        if attributes is None:
            attributes = self._attributes_of(info)
        parent = step.parent
        ctx = None
        links = None
        kind = _INTERNAL
        if parent is not None:
            if parent.remote:
                ctx, kind, attributes = self._hop(parent, attributes)
        elif step.linked is not None:
            ctx = _EMPTY
            links = [Link(remote_span_context(step.linked))]
            _, kind, attributes = self._hop(step.linked, attributes)
        if parent is not None:
            # The run's structure, as the logging backend records it: read back by
            # ``penstock observe`` even when a foreign span sits between this one and its caller.
            attributes = {**attributes, "penstock.parent_step": parent._info.name}
            pred = step._pred
            if pred is not None:
                attributes["penstock.predecessor"] = pred.name
            edge = step._edge
            if edge is not None:
                attributes["penstock.edge_from"] = edge.name
        span = self.tracer.start_span(
            info.span_name,
            context=ctx,
            kind=kind,
            attributes=attributes,
            links=links,
            start_time=step.start_ns,
        )
        step.state = span
        sc = span.get_span_context()
        if sc.is_valid:
            step.set_ids(sc.trace_id, sc.span_id)

    def _attributes_of(self, info: Any) -> dict[str, Any]:
        """The span attributes of a step's calls: penstock's, and the code attributes."""
        attributes = {k: v for k, v in info.attributes.items() if not k.startswith("code.")}
        spec = info.spec
        if spec is not None:
            attributes.update(
                code_attributes(
                    spec.qualname, spec.module, spec.file, spec.line, self.code_attributes
                )
            )
        if len(self._attributes) > 10_000:  # remote parents' infos come from the wire
            self._attributes.clear()
        self._attributes[info] = attributes
        return attributes

    @staticmethod
    def _hop(remote: StepRun, attributes: dict[str, Any]) -> tuple[Any, SpanKind, dict[str, Any]]:
        """Context, kind and attributes of the first step continuing a remote run.

        The hop's kind and attributes go to the first step only; and when another
        instrumentation already made a span for the hop (it is recording and current, in the
        remote trace), the step nests under it as ``INTERNAL``.
        """
        current = _get_current_span()
        if current.is_recording() and current.get_span_context().trace_id == remote.trace_id:
            remote.hop = None  # type: ignore[attr-defined]
            return None, _INTERNAL, attributes
        ctx = _set_span_in_context(NonRecordingSpan(remote_span_context(remote)))
        hop = getattr(remote, "hop", None)
        if hop is None:
            return ctx, _INTERNAL, attributes
        remote.hop = None  # type: ignore[attr-defined]
        kind, extra = hop
        return ctx, span_kind(kind), {**attributes, **extra} if extra else attributes

    def on_enter(self, *, step: StepRun, **kwargs: Any) -> Any:
        """Make the step's span current."""
        return _attach(_set_span_in_context(step.state))

    def on_exit(self, *, step: StepRun, token: Any, **kwargs: Any) -> None:
        """Restore the span that was current before."""
        _detach(token)

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        """Record the outcome and end the span."""
        span = step.state
        if span is None:
            return
        status = step.status
        if status == "error":
            error = step.error
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        elif status == "cancelled":
            span.set_attribute("penstock.cancelled", True)
        span.end(end_time=step.end_ns)

    def attach_remote(self, *, step: StepRun, **kwargs: Any) -> Any:
        """Make a remote parent's span current (inside ``continue_remote``).

        Unless another instrumentation's span for the hop is current already: it stays the
        parent.
        """
        current = _get_current_span()
        if current.is_recording() and current.get_span_context().trace_id == step.trace_id:
            return None
        return _attach(_set_span_in_context(NonRecordingSpan(remote_span_context(step))))

    def detach_remote(self, *, token: Any, **kwargs: Any) -> None:
        """Undo `attach_remote`."""
        if token is not None:
            _detach(token)

    def __repr__(self) -> str:
        return "<OtelBackend>"


def remote_span_context(remote: StepRun) -> SpanContext:
    """The OpenTelemetry ``SpanContext`` of a remote parent made by ``continue_remote``."""
    state = remote.trace_state
    return SpanContext(
        trace_id=remote.trace_id,
        span_id=remote.span_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if remote.sampled else TraceFlags.DEFAULT),
        trace_state=_trace_state(state) if state else None,
    )


#: tracestate header -> its TraceState (a server sees the same few headers call after call).
_trace_states: dict[str, TraceState] = {}
#: A tracestate member by W3C Trace Context level 1 (2020), the grammar OpenTelemetry's
#: ``TraceState`` checks (and warns about, member by member): a key of a lower-case letter
#: and up to 255 more characters, or a multi-tenant ``tenant@system`` key with a system id of
#: up to 14; a value of 1 to 256 printable characters but ``,`` and ``=``, not ending with a
#: space. The tests compare this with ``TraceState`` itself.
_LEVEL1_KEY = re.compile(
    r"[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}"
).fullmatch
_LEVEL1_VALUE = re.compile(
    r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
).fullmatch


def _trace_state(header: str) -> TraceState:
    """OpenTelemetry's ``TraceState`` of a tracestate header penstock accepted.

    penstock reads keys by the W3C level-2 grammar; OpenTelemetry's ``TraceState`` still
    refuses some of them (``foo@``, a system id over 14 characters) and, through
    ``from_header``, drops the whole tracestate with a WARNING. Here only the members it
    refuses are left out, quietly: a peer's header must not flood the logs.
    """
    found = _trace_states.get(header)
    if found is not None:
        return found
    entries = []
    for member in header.split(","):
        key, _, value = member.partition("=")
        if _LEVEL1_KEY(key) is not None and _LEVEL1_VALUE(value) is not None:
            entries.append((key, value))
    state = TraceState(entries)
    if len(_trace_states) >= 1024:  # headers come from the wire: keep the cache bounded
        _trace_states.clear()
    _trace_states[header] = state
    return state
