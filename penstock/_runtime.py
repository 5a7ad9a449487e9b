"""Run state: which step is running in this context, and the step lifecycle around a call.

Contract for integrations (``penstock.propagation``, ``penstock.contrib``); stable under every
backend:

- `current_ids` returns ``(trace_id, span_id)`` of the innermost active step as ints
  (128-bit W3C trace id, 64-bit span id), or ``None`` outside a run. Under the logging, noop and
  recording backends penstock makes these ids itself (random, W3C-valid); the 32-hex trace id
  *is* the correlation ID. Under the otel backend they are the step's span ids.
- `current_step` returns ``(flow, step)`` of the innermost active step, or ``None``.
- `continue_remote` is a context manager: steps called directly inside it continue the
  remote run (same trace id; their parent is the remote span, named by ``parent_step``), or,
  with ``link=True``, each start a new run that carries a link to the remote one. Leaving it
  restores the previous state, whether or not a step ran.
- Under the otel backend a step started while a foreign OpenTelemetry span is current nests
  under it, and the run's correlation ID is that span's trace id. Under the logging backend a
  root step adopts the trace id of a valid current span when ``opentelemetry.trace`` is already
  imported (it is never imported for this), so logs and traces join.

Run semantics: a step called while another is active in the same context is its child; a step
called with no active step starts a run of its own. Each record names its *predecessor*: the
step that last completed before it under the same parent, else the parent itself. A
transition that the flow does not declare is logged once as drift; `observed_edges`
lists the transitions seen.

This module is imported with ``import penstock`` (the wrappers call it), so it imports nothing
costly; backends are resolved on the first run by `penstock._configure`.
"""

from __future__ import annotations

import sys
from _contextvars import ContextVar, Token
from time import time_ns

from penstock._records import SpecInfo, StepInfo, StepRun, new_span_id, new_trace_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import Any

    from penstock.backends import Backend

__all__ = [
    "SpecInfo",
    "StepInfo",
    "StepRun",
    "continue_remote",
    "current_correlation_id",
    "current_ids",
    "current_step",
    "enter_remote",
    "exit_remote",
    "new_span_id",
    "new_trace_id",
    "remote_info",
]

#: The innermost active step (or remote parent) of this context.
_CURRENT: ContextVar[StepRun | None] = ContextVar("penstock_current_step", default=None)

#: Exceptions that end a step without making it a failure.
_NOT_FAILURES: tuple[type[BaseException], ...] = (KeyboardInterrupt, GeneratorExit)

_MISSING = Token.MISSING
_modules = sys.modules


# --- the active backend --------------------------------------------------------------------


class Active:
    """The resolved backend and which of its hooks to call (hooks left as no-ops are skipped)."""

    __slots__ = (
        "adopt_otel",
        "attach_remote",
        "backend",
        "enabled",
        "idle",
        "on_end",
        "on_enter",
        "on_exit",
        "on_start",
        "provides_ids",
        "timed",
    )

    def __init__(self, backend: Backend) -> None:
        from penstock.backends import BaseBackend

        cls = type(backend)
        self.backend = backend

        def hook(name: str) -> Any:
            if getattr(cls, name, None) is getattr(BaseBackend, name):
                return None
            return getattr(backend, name)

        self.on_start = hook("on_start")
        self.on_enter = hook("on_enter")
        self.on_exit = hook("on_exit")
        self.on_end = hook("on_end")
        # Optional hooks of continued runs (the otel backend makes the remote span current):
        # looked up once here, not on each call that continues a run.
        self.attach_remote: Any = getattr(backend, "attach_remote", None)
        self.provides_ids = bool(getattr(backend, "provides_ids", False))
        self.adopt_otel = bool(getattr(backend, "adopt_otel_trace", True)) and not self.provides_ids
        # A backend with no hooks at all records nothing: skip the clock too.
        self.timed = bool(getattr(backend, "timed", True)) and any(
            (self.on_start, self.on_enter, self.on_exit, self.on_end)
        )
        #: Optional ``backend.enabled() -> bool``, asked at each call: when it says no (a
        #: disabled logger), the call is tracked (ids, current step) but not recorded.
        self.enabled: Callable[[], bool] | None = getattr(backend, "enabled", None)
        self.idle: Active = self
        if self.enabled is not None:
            idle = Active.__new__(Active)
            for slot in Active.__slots__:
                setattr(idle, slot, None)
            idle.backend = backend
            idle.provides_ids = idle.adopt_otel = idle.timed = False
            idle.idle = idle
            self.idle = idle


#: Set by penstock._configure; None until the first run resolves the configured backend.
ACTIVE: Active | None = None
#: While "otel" waits for an SDK tracer provider: called at each root step, returns the Active.
RECHECK: Callable[[], Active] | None = None


def _resolve() -> Active:
    from penstock._configure import resolve

    return resolve()


_failed_hooks: set[tuple[int, str]] = set()


def hook_failed(backend: object, hook: str, exc: BaseException) -> None:
    """Log a backend's failure once per (backend, hook), with its traceback; never raise."""
    key = (id(backend), hook)
    if key in _failed_hooks:
        return
    _failed_hooks.add(key)
    try:
        import logging

        logging.getLogger("penstock").error(
            "penstock backend %r failed in %s; the step ran normally, this is logged once",
            backend,
            hook,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    except Exception:  # pragma: no cover - logging itself broken
        pass


# --- the step lifecycle (hot path) ---------------------------------------------------------


def begin(si: SpecInfo, current: bool = True) -> StepRun:
    """Create the record of a call of the step ``si`` and tell the backend it started.

    With ``current`` (functions and coroutines), also make it the current step, as
    `activate` does; generators activate on each resume instead. (One call instead of
    two: this is the per-call hot path.)
    """
    active = ACTIVE
    if active is None:
        active = _resolve()
    parent = _CURRENT.get()
    if parent is None and RECHECK is not None:
        active = RECHECK()
    enabled = active.enabled
    if enabled is not None:
        try:
            if not enabled():
                active = active.idle
        except Exception as exc:
            hook_failed(active.backend, "enabled", exc)
    if parent is None:
        info = si.default
        run = StepRun(info, None, active)
        if active.adopt_otel and "opentelemetry.trace" in _modules:
            _adopt_otel_trace(run)
    else:
        pflow = parent.info.flow
        info = si.default if pflow is None else si.by_flow.get(pflow, si.default)
        if parent.link:
            run = StepRun(info, None, active)
            run.linked = parent
        else:
            run = StepRun(info, parent, active)
            last = parent.last_child
            pred = parent.info if last is None else last
            run.pred = pred
            if pred is not info:
                key: object = pred if last is None else (pred, parent.info)
                if key not in info.seen:
                    _first_transition(run, info, key)
    if active.timed:
        run.start_ns = time_ns()
    on_start = active.on_start
    if on_start is not None:
        try:
            on_start(step=run)
        except Exception as exc:
            hook_failed(active.backend, "on_start", exc)
    if current:
        run.token = _CURRENT.set(run)
        on_enter = active.on_enter
        if on_enter is not None:
            try:
                run.enter_token = on_enter(step=run)
            except Exception as exc:
                hook_failed(active.backend, "on_enter", exc)
    return run


def activate(run: StepRun) -> None:
    """Make ``run`` the current step of this context (on each resume for generators)."""
    run.token = _CURRENT.set(run)
    on_enter = run.active.on_enter
    if on_enter is not None:
        try:
            run.enter_token = on_enter(step=run)
        except Exception as exc:
            hook_failed(run.backend, "on_enter", exc)


def deactivate(run: StepRun) -> None:
    """Undo `activate`, in the same context it ran in."""
    on_exit = run.active.on_exit
    if on_exit is not None:
        try:
            on_exit(step=run, token=run.enter_token)
        except Exception as exc:
            hook_failed(run.backend, "on_exit", exc)
    _restore(run.token)


def end(run: StepRun, exc: BaseException | None, current: bool = True) -> None:
    """Finish ``run``: status, duration, the parent's last child, the backend's record.

    With ``current``, first undo what `begin` made current (as `deactivate`).
    """
    active = run.active
    if current:
        on_exit = active.on_exit
        if on_exit is not None:
            try:
                on_exit(step=run, token=run.enter_token)
            except Exception as exc2:
                hook_failed(active.backend, "on_exit", exc2)
        token = run.token
        try:
            _CURRENT.reset(token)  # type: ignore[arg-type]
        except (ValueError, RuntimeError):
            _restore(token)
    if exc is None:
        run.status = "ok"
    else:
        run.error = exc
        run.status = "cancelled" if _is_cancellation(exc) else "error"
    parent = run.parent
    if parent is not None:
        parent.last_child = run.info
    if active.timed:
        run.end_ns = time_ns()
    on_end = active.on_end
    if on_end is not None:
        try:
            on_end(step=run)
        except Exception as exc2:
            hook_failed(run.backend, "on_end", exc2)


def _restore(token: Token[StepRun | None] | None) -> None:
    if token is None:
        return
    try:
        _CURRENT.reset(token)
    except (ValueError, RuntimeError):
        # The token belongs to another context (a generator closed from another task or
        # thread), or was used already: put back the value it replaced rather than fail
        # like OpenTelemetry's detach does.
        old = token.old_value
        _CURRENT.set(None if old is _MISSING else old)


def _first_transition(run: StepRun, info: StepInfo, key: object) -> None:
    """A (predecessor, caller) -> step transition not seen before: check it (slow path)."""
    from penstock._drift import first_transition

    first_transition(run, info, key)


def _is_cancellation(exc: BaseException) -> bool:
    if isinstance(exc, _NOT_FAILURES):
        return True
    # asyncio is imported by anyone who can be cancelled; never import it here.
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


def _adopt_otel_trace(run: StepRun) -> None:
    """Join a current OpenTelemetry span's trace, if OpenTelemetry is already in use."""
    otel_trace = sys.modules.get("opentelemetry.trace")
    if otel_trace is None:
        return
    try:
        ctx = otel_trace.get_current_span().get_span_context()
        if ctx.is_valid:
            run._trace_id = ctx.trace_id
    except Exception:  # pragma: no cover - a broken API install must not break the app
        pass


# --- asking about the current run ----------------------------------------------------------


#: The innermost active step (or remote parent) of this context, or ``None``. (The
#: ContextVar's own method: no Python frame, it runs on every propagated call.)
current_run: Callable[[], StepRun | None] = _CURRENT.get


def current_ids() -> tuple[int, int] | None:
    """``(trace_id, span_id)`` of the innermost active step, or ``None`` outside a run."""
    run = _CURRENT.get()
    if run is None:
        return None
    return run.trace_id, run.span_id


def current_step() -> tuple[str, str] | None:
    """``(flow, step)`` of the innermost active step, or ``None`` (flow ``""`` if it has none)."""
    run = _CURRENT.get()
    if run is None or (run.remote and run.info.flow is None):
        return None
    return run.info.flow or "", run.info.name


def current_correlation_id() -> str | None:
    """The current run's correlation ID (32 hex digits), or ``None`` outside a run.

    Under the otel backend it is the trace id of the active spans; log lines and traces join on
    it.
    """
    run = _CURRENT.get()
    return None if run is None else run.correlation_id


# --- runs continued from another process ---------------------------------------------------

_REMOTE = Active.__new__(Active)
for _slot in Active.__slots__:
    setattr(_REMOTE, _slot, None)
del _slot


class _RemoteRun(StepRun):
    """The parent that steps continuing a remote run see.

    Made with ``object.__new__`` and class defaults, without an ``__init__`` call: a server
    makes one per call it receives.
    """

    remote = True
    status = "remote"
    parent = None
    active = _REMOTE


_new_remote = object.__new__


def enter_remote(
    trace_id: int,
    span_id: int,
    info: StepInfo,
    link: bool = False,
    sampled: bool = True,
    trace_state: str | None = None,
) -> Any:
    """Make a remote parent current (what entering `continue_remote` does), for integrations
    whose hot path is one received call or message; `exit_remote` undoes it.

    ``info`` is `remote_info` of the remote step's (flow, name). Returns what `exit_remote`
    needs.
    """
    run = _new_remote(_RemoteRun)
    run.info = info
    run._trace_id = trace_id
    run._span_id = span_id
    if link:
        run.link = True
    if not sampled:
        run.sampled = False
    if trace_state is not None:
        run.trace_state = trace_state
    token = _CURRENT.set(run)
    active = ACTIVE
    if active is None:
        active = _resolve()
    if RECHECK is not None:
        active = RECHECK()
    attach = active.attach_remote
    if attach is None or link:
        return token
    # The otel backend makes the remote span current, so that spans of other
    # instrumentations inside the block join the remote trace too.
    backend = active.backend
    try:
        return (token, backend, attach(step=run))
    except Exception as exc:
        hook_failed(backend, "attach_remote", exc)
        return token


def exit_remote(entered: Any) -> None:
    """Undo `enter_remote`: the previous step is current again."""
    if type(entered) is tuple:
        entered, backend, attach_token = entered
        try:
            backend.detach_remote(token=attach_token)
        except Exception as exc:
            hook_failed(backend, "detach_remote", exc)
    try:
        _CURRENT.reset(entered)
    except (ValueError, RuntimeError):
        _restore(entered)


class continue_remote:
    """Continue a run that another process started (or link to it), while the block runs.

    Steps called directly inside the block continue the remote run: same correlation ID and
    trace id, their parent is the remote span ``span_id`` (named ``parent_step`` in records).
    With ``link=True`` each of them starts a new run instead, whose record carries a link to
    the remote one (an OpenTelemetry span link; ``linked_correlation_id`` in log records).
    Leaving the block restores the previous state even if no step ran.

    Args:
        trace_id: the remote 128-bit trace id.
        span_id: the remote 64-bit span id (the parent of the next step).
        sampled: the remote sampling decision (W3C ``trace-flags``).
        trace_state: the remote W3C ``tracestate`` header, if any.
        parent_step: the remote step's name.
        parent_flow: the remote step's flow.
        link: start a new run linked to the remote one rather than continue it.
    """

    __slots__ = ("_args", "_entered")

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        *,
        sampled: bool = True,
        trace_state: str | None = None,
        parent_step: str | None = None,
        parent_flow: str | None = None,
        link: bool = False,
    ) -> None:
        info = remote_info(parent_flow, parent_step or "")
        self._args = (trace_id, span_id, info, link, sampled, trace_state)
        self._entered: Any = None

    def __enter__(self) -> None:
        self._entered = enter_remote(*self._args)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entered, self._entered = self._entered, None
        if entered is not None:
            exit_remote(entered)


remote_infos: dict[tuple[str | None, str], StepInfo] = {}


def remote_info(flow: str | None, step: str) -> StepInfo:
    """One shared StepInfo per remote (flow, step), so drift checks run once per transition."""
    key = (flow, step)
    info = remote_infos.get(key)
    if info is None:
        if len(remote_infos) > 4096:  # names come from the wire: keep the cache bounded
            remote_infos.clear()
        info = remote_infos[key] = StepInfo(None, flow, step)
    return info


def reset_state() -> None:
    """Forget observed edges, reported drift and failed hooks (for tests)."""
    drift = sys.modules.get("penstock._drift")
    if drift is not None:
        drift.reset()
    _failed_hooks.clear()
