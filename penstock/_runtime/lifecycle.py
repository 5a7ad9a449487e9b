"""Run state: which step is running in this context, and the step lifecycle around a call.

Run semantics: a step called while another is active in the same context is its child; a step
called with no active step starts a run of its own. Each record names its *predecessor*: the
step that last completed before it under the same parent, else the parent itself. A
transition that the flow does not declare is logged once as drift (`penstock._runtime.drift`).

This module is imported with ``import penstock`` (the wrappers call it), so it imports nothing
costly; the backend is decided on the first run by `penstock._runtime.selection`.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar, Token
from time import time_ns

from penstock._runtime import active as active_module
from penstock._runtime import selection
from penstock._runtime.active import Active, hook_failed, reset_failures
from penstock._runtime.backend import StepRun, note_done
from penstock._runtime.drift import SEARCH, first_transition, search_transition
from penstock._runtime.drift import reset as reset_drift

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from penstock._runtime.shapes import RunShapes
    from penstock._runtime.stepinfo import SpecInfo

__all__ = [
    "CURRENT",
    "SCOPE",
    "activate",
    "begin",
    "current_correlation_id",
    "current_ids",
    "current_run",
    "current_step",
    "deactivate",
    "end",
    "install",
    "keep_shapes",
    "nest",
    "recheck",
    "reset_state",
    "resolve",
    "restore",
]

#: The innermost active step (or remote parent) of this context.
CURRENT: ContextVar[StepRun | None] = ContextVar("penstock_current_step", default=None)
_CURRENT = CURRENT

#: The runs started in a `penstock.propagation.RunScope` block (a server integration answering
#: with the correlation ID of the run a request started): the first root run begun while it is
#: set is appended. ``None`` outside such a block.
SCOPE: ContextVar[list[StepRun] | None] = ContextVar("penstock_run_scope", default=None)
_scope_get = SCOPE.get
#: Whether a scope was ever opened: until then begin() does not look (one global read).
SCOPED = False

#: Exceptions that end a step without making it a failure.
_NOT_FAILURES: tuple[type[BaseException], ...] = (KeyboardInterrupt, GeneratorExit)

_MISSING = Token.MISSING
_UNSEEN = object()
_new_run = object.__new__
_modules = sys.modules


# --- the active backend --------------------------------------------------------------------

#: The backend the next run uses; None until configure() or the first run decides it.
ACTIVE: Active | None = None
#: While "otel" waits for an SDK tracer provider: asked at each root step (see selection).
RECHECK: Callable[[], Active | None] | None = None
#: Where every run's shape goes while flow coverage measures (`keep_shapes`); else None.
SHAPES: RunShapes | None = None


def install(active: Active | None, recheck: Callable[[], Active | None] | None = None) -> None:
    """Make ``active`` the backend of the next runs (None: decide again at the next run)."""
    global ACTIVE, RECHECK
    with selection.lock:
        ACTIVE = active
        RECHECK = recheck


def keep_shapes(shapes: RunShapes | None) -> None:
    """Keep the shape of every run from now on in ``shapes`` (None: stop keeping them).

    Calls already running keep adding to their run. The installed backend stays the same
    object; while shapes are kept it never takes the bare path, which keeps none.
    """
    global SHAPES, ACTIVE
    with selection.lock:
        SHAPES = shapes
        active_module.SHAPED = shapes is not None
        if ACTIVE is not None:
            ACTIVE = Active(ACTIVE.backend)


def resolve() -> Active:
    """The active backend, deciding it now if configure() did not (the first run)."""
    global ACTIVE, RECHECK
    with selection.lock:
        if ACTIVE is None:
            ACTIVE, RECHECK = selection.decide()
        return ACTIVE


def recheck() -> Active:
    """While "otel" falls back to logging: switch as soon as an SDK provider is installed."""
    global ACTIVE, RECHECK
    check = RECHECK
    if check is not None:
        found = check()
        if found is not None:
            with selection.lock:
                if RECHECK is check:
                    ACTIVE, RECHECK = found, None
    active = ACTIVE
    assert active is not None
    return active


# --- the step lifecycle (hot path) ---------------------------------------------------------


def begin(si: SpecInfo, current: bool = True) -> StepRun:
    """Create the record of a call of the step ``si`` and tell the backend it started.

    With ``current`` (functions and coroutines), also make it the current step, as
    `activate` does; generators activate on each resume instead. (One call instead of
    two: this is the per-call hot path.)
    """
    active = ACTIVE
    if active is None:
        active = resolve()
    parent = _CURRENT.get()
    if parent is None and RECHECK is not None:
        active = recheck()
    enabled = active.enabled
    if enabled is not None:
        try:
            if not enabled():
                active = active.idle
        except Exception as exc:
            hook_failed(active.backend, "enabled", exc)
    # No StepRun.__init__ call (object.__new__ and the stores it needs): a Python frame less
    # per call, a sixth of what the noop backend costs.
    run = _new_run(StepRun)
    run._active = active
    if parent is None:
        run._info = si.default
        if active.adopt_otel and "opentelemetry.trace" in _modules:
            _adopt_otel_trace(run)
        if SCOPED:
            started = _scope_get()
            if started is not None and not started:
                started.append(run)
        if SHAPES is not None:
            # RunShapes.opened, inline: a call less per run while coverage measures.
            run._shape = SHAPES.open[run] = {run._info: None}
    else:
        nest(run, parent, si)
    if active.timed:
        run.start_ns = time_ns()
    on_start = active.on_start
    if on_start is not None:
        try:
            on_start(step=run)
        except Exception as exc:
            hook_failed(active.backend, "on_start", exc)
    if current:
        run._token = _CURRENT.set(run)
        on_enter = active.on_enter
        if on_enter is not None:
            try:
                run._enter_token = on_enter(step=run)
            except Exception as exc:
                hook_failed(active.backend, "on_enter", exc)
    return run


def nest(run: StepRun, parent: StepRun, si: SpecInfo) -> None:
    """Make ``run`` a call inside ``parent``: its flow, its predecessor, drift.

    A step in several flows is recorded in its caller's flow. The predecessor is the step that
    last completed under the same parent, else the parent. The edge the call takes follows the
    happens-before rule (`penstock._runtime.rule`); an undeclared one is reported as drift
    (`penstock._runtime.drift`).
    """
    pflow = parent._info.flow
    info = si.default if pflow is None else si.by_flow.get(pflow, si.default)
    run._info = info
    if parent.link:
        run.linked = parent
        if SHAPES is not None:
            SHAPES.opened(run, {info: None})  # a run of its own, as a root
        return
    run.parent = parent
    last = parent._last_child
    pred = parent._info if last is None else last
    run._pred = pred
    # The edge this call takes: known from (predecessor, caller) alone in the common cases,
    # cached per step; else looked up among earlier siblings and enclosing calls.
    key: object = pred if last is None else (pred, parent._info)
    edge = info.seen.get(key, _UNSEEN)
    if edge is _UNSEEN:
        edge = first_transition(run, info, key)
    if edge is SEARCH:
        edge = search_transition(run, info)
    run._edge = edge  # type: ignore[assignment]  # SEARCH was replaced above
    if SHAPES is not None:
        items = parent._shape
        if items is None:
            # The caller started before shapes were kept, or is a remote parent: this
            # call's subtree is a run of its own here.
            items = {}
            SHAPES.opened(run, items)
        else:
            run._shape = items
        items[info, edge] = None


def activate(run: StepRun) -> None:
    """Make ``run`` the current step of this context (on each resume for generators)."""
    run._token = _CURRENT.set(run)
    on_enter = run._active.on_enter
    if on_enter is not None:
        try:
            run._enter_token = on_enter(step=run)
        except Exception as exc:
            hook_failed(run.backend, "on_enter", exc)


def deactivate(run: StepRun) -> None:
    """Undo `activate`, in the same context it ran in."""
    on_exit = run._active.on_exit
    if on_exit is not None:
        try:
            on_exit(step=run, token=run._enter_token)
        except Exception as exc:
            hook_failed(run.backend, "on_exit", exc)
    restore(run._token)


def end(run: StepRun, exc: BaseException | None, current: bool = True) -> None:
    """Finish ``run``: status, duration, the parent's last child, the backend's record.

    With ``current``, first undo what `begin` made current (as `deactivate`).
    """
    active = run._active
    if current:
        on_exit = active.on_exit
        if on_exit is not None:
            try:
                on_exit(step=run, token=run._enter_token)
            except Exception as exc2:
                hook_failed(active.backend, "on_exit", exc2)
        token = run._token
        try:
            _CURRENT.reset(token)  # type: ignore[arg-type]
        except (ValueError, RuntimeError):
            restore(token)
    if exc is None:
        run.status = "ok"
    else:
        run.error = exc
        run.status = "cancelled" if _is_cancellation(exc) else "error"
    parent = run.parent
    if parent is not None and parent._last_child is not run._info:
        note_done(parent, run._info)
    if SHAPES is not None:
        shape = run._shape
        # The first call of its run here: the caller, if any, is not in the same run.
        if shape is not None and (parent is None or parent._shape is not shape):
            try:
                SHAPES.ended(run)
            except Exception as exc:  # pragma: no cover - a bug in penstock, not the app's
                hook_failed("penstock runtime", "end", exc)
    if active.timed:
        run.end_ns = time_ns()
    on_end = active.on_end
    if on_end is not None:
        try:
            on_end(step=run)
        except Exception as exc2:
            hook_failed(run.backend, "on_end", exc2)


def restore(token: Token[StepRun | None] | None) -> None:
    """Reset the current step with ``token``, even from another context (put back its value)."""
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
    if run is None or (run.remote and run._info.flow is None):
        return None
    return run._info.flow or "", run._info.name


def current_correlation_id() -> str | None:
    """The current run's correlation ID (32 hex digits), or ``None`` outside a run.

    Under the otel backend it is the trace id of the active spans; log lines and traces join on
    it.
    """
    run = _CURRENT.get()
    return None if run is None else run.correlation_id


def reset_state() -> None:
    """Forget observed edges, reported drift and failed hooks (for tests)."""
    reset_drift()
    reset_failures()
