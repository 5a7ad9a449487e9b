"""The contract between the runtime and a recording backend: `BaseBackend` and its hooks.

Public as ``penstock.backends.BaseBackend``. Every hook a backend may implement is declared
here, optional ones included, with its signature; `HOOKS` lists them for validation. The
runtime calls only the hooks a backend overrides (see `penstock._runtime.active`).

Imported with ``import penstock`` once a step runs: no ``typing`` at run time here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from penstock._runtime.steprun import StepRun

__all__ = ["HOOKS", "OPTIONAL_HOOKS", "REQUIRED_HOOKS", "BaseBackend"]


class BaseBackend:
    """A backend whose hooks do nothing; penstock calls only the hooks a subclass overrides.

    Every hook takes keyword-only arguments and should accept ``**kwargs``, so penstock can pass
    new fields later without breaking implementations. A hook that raises is logged once (with
    its traceback, on the ``penstock`` logger) and otherwise ignored: the step runs normally.

    The four step hooks, in the order they are called for one call of a step:

    - `on_start` when the call starts (``step.start_ns`` is set);
    - `on_enter` each time the step's code becomes current in its context (once for a
      function, on every resume for a generator); what it returns is given back to
    - `on_exit` when the code stops being current (in the same context);
    - `on_end` when the call has finished (``status``, ``error``, ``end_ns`` set).

    Optional hooks: `enabled` (asked at each call), `attach_remote`/`detach_remote` (around
    a run continued from another process), `close` (when another backend replaces this one).

    Attributes:
        provides_ids: the backend gives each step its ids itself, by calling
            `StepRun.set_ids` in `on_start` (the otel backend uses its span's ids); otherwise
            penstock generates W3C ids on demand.
        adopt_otel_trace: a root step joins the trace of a current OpenTelemetry span when
            ``opentelemetry.trace`` is already imported (default True).
        timed: set ``start_ns``/``end_ns`` (default True; skipped anyway when no step hook is
            overridden).
    """

    provides_ids = False
    adopt_otel_trace = True
    timed = True

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        """A call of a step started."""

    def on_enter(self, *, step: StepRun, **kwargs: Any) -> Any:
        """The step's code is about to run in this context; the result goes to `on_exit`."""

    def on_exit(self, *, step: StepRun, token: Any, **kwargs: Any) -> None:
        """The step's code stopped running in this context (returned, raised or yielded)."""

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        """The call finished: ``step.status``, ``step.error`` and ``step.end_ns`` are set."""

    def enabled(self) -> bool:
        """Whether to record the next call; when False it is tracked (ids, current step) only.

        Asked at every call when overridden (the logging backend asks its logger), so keep it
        cheap.
        """
        return True

    def attach_remote(self, *, step: StepRun, **kwargs: Any) -> Any:
        """A run continued from another process begins: ``step`` is its remote parent.

        The otel backend makes the remote span current here, so that spans of other
        instrumentations inside the block join the remote trace. What it returns is given to
        `detach_remote`. Not called for linked (``link=True``) continuations.
        """

    def detach_remote(self, *, token: Any, **kwargs: Any) -> None:
        """Undo `attach_remote`, with what it returned."""

    def close(self) -> None:
        """Release what the backend installed (called when another backend replaces it)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


#: The step hooks every backend implements.
REQUIRED_HOOKS = ("on_start", "on_enter", "on_exit", "on_end")
#: Hooks a backend may implement.
OPTIONAL_HOOKS = ("enabled", "attach_remote", "detach_remote", "close")
HOOKS = REQUIRED_HOOKS + OPTIONAL_HOOKS
