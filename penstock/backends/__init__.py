"""Recording backends: the API every backend implements, and the built-in ones.

A backend receives four hooks per step call, each with keyword-only arguments (so penstock can
pass new fields later without breaking implementations: accept ``**kwargs``):

- ``on_start(step=...)`` when the call starts (``step.start_ns`` is set);
- ``on_enter(step=...)`` each time the step's code becomes current in its context (once for a
  function, on every resume for a generator); whatever it returns is given back to
- ``on_exit(step=..., token=...)`` when the code stops being current (in the same context);
- ``on_end(step=...)`` when the call has finished (``status``, ``error``, ``end_ns`` set).

``step`` is a `StepRun`. Subclass `BaseBackend`, whose hooks do nothing, and
override only what you need: hooks left as they are are never called. A hook that raises is
logged once (with traceback, on the ``penstock`` logger) and otherwise ignored.

Built-in backends, chosen with ``penstock.configure(backend=NAME)``: ``"logging"``
(`penstock.backends.logging.LoggingBackend`), ``"otel"``
(`penstock.backends.otel.OtelBackend`), ``"noop"``
(`penstock.backends.noop.NoopBackend`), and ``"recording"``
(`penstock.testing.RecordingBackend`). Third-party backends register a class or
instance under the entry-point group ``penstock.backends``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from penstock._runtime import StepRun

__all__ = ["Backend", "BaseBackend", "StepRun"]


@runtime_checkable
class Backend(Protocol):
    """What penstock calls to record step calls. All hooks take keyword-only arguments."""

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        """A call of a step started."""

    def on_enter(self, *, step: StepRun, **kwargs: Any) -> Any:
        """The step's code is about to run in this context; the result goes to ``on_exit``."""

    def on_exit(self, *, step: StepRun, token: Any, **kwargs: Any) -> None:
        """The step's code stopped running in this context (returned, raised or yielded)."""

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        """The call finished: ``step.status``, ``step.error`` and ``step.end_ns`` are set."""


class BaseBackend:
    """A backend whose hooks do nothing; penstock skips the hooks a subclass leaves alone.

    Class attributes a subclass may set:

    Attributes:
        provides_ids: the backend sets ``step._trace_id``/``step._span_id`` itself in
            ``on_start`` (the otel backend); otherwise penstock generates W3C ids on demand.
        adopt_otel_trace: a root step joins the trace of a current OpenTelemetry span when
            ``opentelemetry.trace`` is already imported (default True).
        timed: set ``start_ns``/``end_ns`` (default True; skipped anyway when no hook is
            overridden).
    """

    provides_ids = False
    adopt_otel_trace = True
    timed = True

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        """A call of a step started."""

    def on_enter(self, *, step: StepRun, **kwargs: Any) -> Any:
        """The step's code is about to run in this context."""

    def on_exit(self, *, step: StepRun, token: Any, **kwargs: Any) -> None:
        """The step's code stopped running in this context."""

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        """The call finished."""

    def close(self) -> None:
        """Release what the backend installed (called when another backend replaces it)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
