"""The ``otel`` backend: one OpenTelemetry span per step call (needs only opentelemetry-api).

Span name ``"{flow}.{step}"`` (just ``"{step}"`` for a function in no flow), kind INTERNAL,
attributes ``penstock.flow``, ``penstock.step``, ``penstock.entrypoint``, ``penstock.schema``
(the record layout's version), ``penstock.parent_step`` and ``penstock.predecessor`` (for a
call inside a run, as in log records), ``code.function``
(qualified name), ``code.namespace`` (module), ``code.filepath``, ``code.lineno``. A failed step
records the exception and sets the status to ERROR (``"{type}: {message}"``); a cancelled one
gets ``penstock.cancelled = true``. The span is current while the step's code runs, so spans
of other instrumentations nest under it, and it nests under theirs.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    Status,
    StatusCode,
    TraceFlags,
    TracerProvider,
    TraceState,
)

from penstock._version import __version__
from penstock.backends import BaseBackend, StepRun

__all__ = ["OtelBackend", "remote_span_context"]

_attach = otel_context.attach
_detach = otel_context.detach
_set_span_in_context = trace.set_span_in_context
_EMPTY = otel_context.Context()


class OtelBackend(BaseBackend):
    """Emit a span per step call.

    Args:
        tracer_provider: where spans go; default: the global tracer provider (looked up when
            the backend is made; a provider installed later is still used, through the API's
            proxy).
    """

    provides_ids = True

    def __init__(self, *, tracer_provider: TracerProvider | None = None) -> None:
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        self.tracer = provider.get_tracer("penstock", __version__)

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        """Start the step's span under the current span (or the remote parent)."""
        parent = step.parent
        ctx = None
        links = None
        if parent is not None:
            if parent.remote:
                ctx = _set_span_in_context(NonRecordingSpan(remote_span_context(parent)))
        elif step.linked is not None:
            ctx = _EMPTY
            links = [Link(remote_span_context(step.linked))]
        info = step.info
        attributes = info.attributes
        if parent is not None:
            # The run's structure, as the logging backend records it: read back by
            # ``penstock observe`` even when a foreign span sits between this one and its caller.
            attributes = {**attributes, "penstock.parent_step": parent.info.name}
            pred = step.pred
            if pred is not None:
                attributes["penstock.predecessor"] = pred.name
        span = self.tracer.start_span(
            info.span_name,
            context=ctx,
            attributes=attributes,
            links=links,
            start_time=step.start_ns,
        )
        step.state = span
        sc = span.get_span_context()
        if sc.is_valid:
            step.set_ids(sc.trace_id, sc.span_id)

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
        """Make a remote parent's span current (inside ``continue_remote``)."""
        return _attach(_set_span_in_context(NonRecordingSpan(remote_span_context(step))))

    def detach_remote(self, *, token: Any, **kwargs: Any) -> None:
        """Undo `attach_remote`."""
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
        trace_state=TraceState.from_header([state]) if state else None,
    )
