"""What penstock knows about one call of a step, and what it precomputes once per step.

`StepRun` is one call; `StepInfo` and `SpecInfo` are computed once per step.

Imported with ``import penstock``: nothing costly here (``random`` is imported at the first
id generated).
"""

from __future__ import annotations

from penstock._runtime.rule import SCHEMA_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextvars import Token
    from typing import Any

    from penstock._declared.spec import StepSpec
    from penstock._runtime.active import Active
    from penstock.backends import Backend

__all__ = ["SpecInfo", "StepInfo", "StepRun", "new_span_id", "new_trace_id", "note_done"]


class StepInfo:
    """What penstock precomputes once per (step spec, flow): names, span attributes, edges."""

    __slots__ = (
        "attributes",
        "declared",
        "flow",
        "is_entrypoint",
        "kind",
        "name",
        "seen",
        "span_name",
        "spec",
    )

    def __init__(self, spec: StepSpec | None, flow: str | None, name: str) -> None:
        self.spec = spec
        self.flow = flow
        self.name = name
        self.kind = spec.kind if spec is not None else None
        self.is_entrypoint = self.kind == "entrypoint"
        self.span_name = f"{flow}.{name}" if flow else name
        attributes: dict[str, Any] = {
            "penstock.step": name,
            "penstock.entrypoint": False,
            "penstock.schema": SCHEMA_VERSION,
        }
        if flow:
            attributes["penstock.flow"] = flow
        if spec is not None:
            attributes["penstock.entrypoint"] = self.is_entrypoint
            attributes["code.function"] = spec.qualname
            attributes["code.namespace"] = spec.module
            attributes["code.filepath"] = spec.file
            attributes["code.lineno"] = spec.line
        #: Read-only for backends: the same dict is shared by every call of the step.
        self.attributes = attributes
        self.declared: frozenset[str] | None = None
        #: (predecessor, caller) keys already classified, with the edge source they decide
        #: (or `penstock._runtime.drift.SEARCH`), by identity of StepInfo objects.
        self.seen: dict[object, StepInfo | None] = {}

    def __repr__(self) -> str:
        return f"<StepInfo {self.flow}.{self.name}>"


class SpecInfo:
    """Per-spec cache: the `StepInfo` of each flow the step is in."""

    __slots__ = ("by_flow", "default", "spec")

    def __init__(self, spec: StepSpec) -> None:
        self.spec = spec
        flows = spec.flow_names
        self.by_flow = {f: StepInfo(spec, f, spec.name) for f in flows}
        self.default = self.by_flow[flows[0]] if flows else StepInfo(spec, None, spec.name)


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
    #: The backend (and hooks) that started this run also ends it, even if reconfigured.
    _active: Active
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
    #: What the taps (`penstock._runtime.taps`) keep per call: the coverage plugin's run items.
    _observed: Any = None

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


def new_trace_id() -> int:
    """A random, valid (non-zero) 128-bit trace id."""
    return _getrandbits(128) or 1


def new_span_id() -> int:
    """A random, valid (non-zero) 64-bit span id."""
    return _getrandbits(64) or 1


def _lazy_getrandbits(k: int) -> int:
    # Replaced by random.getrandbits on first use: `import random` is not cheap.
    global _getrandbits
    from random import getrandbits

    _getrandbits = getrandbits
    return getrandbits(k)


_getrandbits: Callable[[int], int] = _lazy_getrandbits
