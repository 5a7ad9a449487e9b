"""The contract between the runtime and a recording backend: `BaseBackend`, `Backend`, `StepRun`.

Public as ``penstock.backends``. Every hook a backend may implement is declared on
`BaseBackend`, optional ones included, with its signature; `HOOKS` lists them for validation.
`Backend` is the same contract as a `typing.Protocol` of the four step hooks; `StepRun` is
what the hooks receive. The runtime calls only the hooks a backend overrides (see
`penstock._runtime.active`).

The three live together because they name each other (a hook takes a `StepRun`, whose
``backend`` is a `Backend`): apart, their modules would import each other, if only for type
checking.
"""

from __future__ import annotations

from penstock._runtime.stepinfo import new_span_id, new_trace_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextvars import Token
    from typing import Any, Protocol, runtime_checkable

    from penstock._runtime.stepinfo import StepInfo

__all__ = [
    "HOOKS",
    "OPTIONAL_HOOKS",
    "REQUIRED_HOOKS",
    "Backend",
    "BaseBackend",
    "StepRun",
    "note_done",
]


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


if TYPE_CHECKING:

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


def _backend_protocol() -> Any:
    """The `Backend` protocol, made at its first use.

    ``import penstock`` loads this module but must not import ``typing``: only code that
    names the protocol does (its class statement above is for type checkers).
    """
    from typing import Protocol, runtime_checkable

    def on_start(self: Any, *, step: StepRun, **kwargs: Any) -> None:
        """A call of a step started."""

    def on_enter(self: Any, *, step: StepRun, **kwargs: Any) -> Any:
        """The step's code is about to run in this context; the result goes to ``on_exit``."""

    def on_exit(self: Any, *, step: StepRun, token: Any, **kwargs: Any) -> None:
        """The step's code stopped running in this context (returned, raised or yielded)."""

    def on_end(self: Any, *, step: StepRun, **kwargs: Any) -> None:
        """The call finished: ``step.status``, ``step.error`` and ``step.end_ns`` are set."""

    namespace = {
        "__doc__": "What penstock calls to record step calls. All hooks take keyword-only "
        "arguments.",
        "__module__": "penstock.backends",
        "on_start": on_start,
        "on_enter": on_enter,
        "on_exit": on_exit,
        "on_end": on_end,
    }
    return runtime_checkable(type("Backend", (Protocol,), namespace))


def __getattr__(name: str) -> Any:
    if name == "Backend":
        made = globals()["Backend"] = _backend_protocol()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class StepRun:
    """One call of a step, as backends see it.

    Attributes read by backends: ``flow``, ``step``, ``kind``, ``correlation_id``, ``trace_id``,
    ``span_id``, ``parent`` (the calling `StepRun`, or a remote parent, or ``None``),
    ``parent_step``, ``predecessor``, ``location`` (``file:line`` of the function),
    ``start_ns``/``end_ns`` (wall clock, ns since the epoch;
    0 under the noop backend), ``status`` (``"running"``, ``"ok"``, ``"error"``,
    ``"cancelled"``), ``error`` (the exception that ended the step, if any), ``linked`` (the
    remote parent this run links to), ``attributes`` (span attributes, shared: do not mutate)
    and ``state``, a slot each backend may use for its own data (a span, a timer...).
    """

    # Not slotted: class-level defaults let a call set three attributes instead of twenty
    # (this object is made on every call). Underscored fields are the runtime's own.
    #: Set by penstock for every run (no __init__: see penstock._runtime.lifecycle.begin).
    _info: StepInfo
    #: The backend (and hooks) that started this run also ends it, even if reconfigured: a
    #: `penstock._runtime.active.Active`, not named here because that module uses this one.
    _active: Any
    parent: StepRun | None = None
    _pred: StepInfo | None = None
    #: The step of the child call that completed last (see `note_done`).
    _last_child: StepInfo | None = None
    #: The steps of completed child calls, most recent last, once two different steps have
    #: completed under this call (the happens-before rule looks at earlier siblings).
    _done: dict[StepInfo, None] | None = None
    #: The step this call came from under the happens-before rule (`penstock._runtime.rule`).
    _edge: StepInfo | None = None
    _trace_id = 0
    _span_id = 0
    _corr: str | None = None
    start_ns = 0
    end_ns = 0
    status = "running"
    error: BaseException | None = None
    state: Any = None
    _token: Token[StepRun | None] | None = None
    _enter_token: Any = None
    remote = False
    link = False
    linked: StepRun | None = None
    sampled = True
    trace_state: str | None = None
    #: The items of this call's run while run shapes are kept (`penstock._runtime.shapes`).
    _shape: dict[Any, None] | None = None

    @property
    def backend(self) -> Backend | None:
        """The backend recording this run (``None`` for a remote parent)."""
        return None if self.remote else self._active.backend

    @property
    def flow(self) -> str | None:
        """The flow this call ran in (a step in several flows takes its caller's)."""
        return self._info.flow

    @property
    def step(self) -> str:
        """The step's name."""
        return self._info.name

    @property
    def kind(self) -> str | None:
        """``"entrypoint"``, ``"step"``, or ``None`` for a function only put in a flow."""
        return self._info.kind

    @property
    def location(self) -> str | None:
        """``file:line`` of the decorated function (``None`` for a remote parent)."""
        spec = self._info.spec
        return None if spec is None else spec.location

    @property
    def attributes(self) -> dict[str, Any]:
        """Span attributes (``penstock.*`` and ``code.*``); shared between calls: read only."""
        return self._info.attributes

    @property
    def parent_step(self) -> str | None:
        """Name of the calling step (or of the remote step this run continues)."""
        parent = self.parent
        return (parent._info.name or None) if parent is not None else None

    @property
    def predecessor(self) -> str | None:
        """The step that completed last before this one under the same parent, else the parent."""
        pred = self._pred
        return pred.name if pred is not None else None

    @property
    def edge_from(self) -> str | None:
        """The step this call's transition came from, under the happens-before rule.

        The source of the declared edge the call took (a step that completed earlier under
        the same caller, else an enclosing one), or, when none is declared, its immediate
        predecessor (else its caller); ``None`` for a run's first step and for recursion.
        """
        edge = self._edge
        return edge.name if edge is not None else None

    @property
    def trace_id(self) -> int:
        """128-bit W3C trace id of the run; its 32-hex form is the correlation ID."""
        tid = self._trace_id
        if not tid:
            parent = self.parent
            tid = parent.trace_id if parent is not None else new_trace_id()
            self._trace_id = tid
        return tid

    @property
    def span_id(self) -> int:
        """64-bit W3C span id of this step."""
        sid = self._span_id
        if not sid:
            sid = self._span_id = new_span_id()
        return sid

    @property
    def correlation_id(self) -> str:
        """The run's correlation ID: its trace id as 32 lower-case hex digits."""
        corr = self._corr
        if corr is None:
            parent = self.parent
            tid = self.trace_id
            if parent is not None and parent.trace_id == tid:
                corr = parent.correlation_id
            else:
                corr = f"{tid:032x}"
            self._corr = corr
        return corr

    def set_ids(self, trace_id: int, span_id: int) -> None:
        """Give this step its W3C ids (for a backend with ``provides_ids``, in ``on_start``).

        Args:
            trace_id: the run's 128-bit trace id (non-zero); its hex form is the correlation ID.
            span_id: this step's 64-bit span id (non-zero).
        """
        self._trace_id = trace_id
        self._span_id = span_id

    @property
    def duration_ns(self) -> int:
        """Wall-clock duration in nanoseconds (0 while running or under the noop backend)."""
        return self.end_ns - self.start_ns if self.end_ns else 0

    def __repr__(self) -> str:
        return f"<StepRun {self._info.flow}.{self._info.name} {self.status}>"


def note_done(parent: StepRun, info: StepInfo) -> None:
    """Remember that a child call of step ``info`` completed under ``parent``.

    Costs one attribute store while a call's children are all the same step; the ordered
    history is kept only once a second step completes under it.
    """
    last = parent._last_child
    if last is info:
        return
    parent._last_child = info
    if last is None:
        return
    done = parent._done
    if done is None:
        parent._done = {last: None, info: None}
    else:
        done.pop(info, None)
        done[info] = None


#: The step hooks every backend implements.
REQUIRED_HOOKS = ("on_start", "on_enter", "on_exit", "on_end")
#: Hooks a backend may implement.
OPTIONAL_HOOKS = ("enabled", "attach_remote", "detach_remote", "close")
HOOKS = REQUIRED_HOOKS + OPTIONAL_HOOKS
