"""The immutable description a decorator attaches to a function."""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`: importing typing alone costs more than penstock.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal, TypeAlias

    #: A predecessor named in ``after=``: a step name, the decorated function itself, or a
    #: step of another flow.
    AfterRef: TypeAlias = "str | Callable[..., Any] | FlowStep"
    StepKind: TypeAlias = Literal["entrypoint", "step"]


class FlowStep:
    """A step of another flow, for ``after=``: the flow hands work over to this one.

    ``@flow("changelog", after=FlowStep("bom_sync", "publish_change_events"))`` says that the
    step runs when ``publish_change_events`` of flow ``bom_sync`` hands work over (a task, a
    message, a call). It is not an edge inside either flow: each flow's diagram draws the
    other flow as a small linked box, and ``penstock map`` draws the link between the flows.

    Args:
        flow: the other flow's name.
        step: the name of the step in that flow.
    """

    __slots__ = ("flow", "step")

    def __init__(self, flow: str, step: str) -> None:
        for what, value in (("flow", flow), ("step", step)):
            if not isinstance(value, str) or not value.strip():
                from penstock._errors import DefinitionError

                raise DefinitionError(
                    f"FlowStep({flow!r}, {step!r}): the {what} must be a non-empty string"
                )
        self.flow = flow
        self.step = step

    def __repr__(self) -> str:
        return f"FlowStep({self.flow!r}, {self.step!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FlowStep) and (self.flow, self.step) == (other.flow, other.step)

    def __hash__(self) -> int:
        return hash((FlowStep, self.flow, self.step))


class Membership:
    """One flow a step belongs to, with an optional per-flow ``after``."""

    __slots__ = ("after", "flow", "when")

    def __init__(
        self, flow: str, after: tuple[AfterRef, ...] | None = None, when: str | None = None
    ) -> None:
        self.flow = flow
        #: ``None`` means "use the step's own ``after``" (and its own ``when``).
        self.after = after
        #: The condition on the edges from this flow's ``after`` (only with ``after``).
        self.when = when

    def __repr__(self) -> str:
        return f"Membership({self.flow!r}, after={self.after!r}, when={self.when!r})"


class StepSpec:
    """Everything penstock knows about one decorated function.

    A new spec replaces the old one each time another decorator is stacked on the function;
    specs are never changed in place. (A plain slotted class rather than a dataclass: this
    module is imported with ``import penstock``, which must stay cheap.)
    """

    __slots__ = (
        "after",
        "description",
        "file",
        "flows",
        "func",
        "kind",
        "line",
        "module",
        "name",
        "qualname",
        "receives",
        "sends",
        "transport",
        "when",
    )

    def __init__(
        self,
        *,
        module: str,
        qualname: str,
        name: str,
        kind: StepKind | None,
        after: tuple[AfterRef, ...],
        flows: tuple[Membership, ...],
        description: str | None,
        file: str,
        line: int,
        func: Callable[..., Any],
        transport: str | None = None,
        when: str | None = None,
        sends: tuple[tuple[str, str], ...] = (),
        receives: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.module = module
        self.qualname = qualname
        self.name = name
        #: ``None`` while only ``@flow`` has been applied.
        self.kind: StepKind | None = kind
        self.after = after
        self.flows = flows
        self.description = description
        self.file = file
        self.line = line
        self.func = func
        #: How the step is reached from its predecessors when it runs in another process
        #: ("celery", "kafka", "grpc"); ``None`` for an in-process call. Diagrams draw it.
        self.transport = transport
        #: The condition under which the step runs after its ``after`` steps (edge label);
        #: ``None`` for "always".
        self.when = when
        #: ``(transport, channel)`` pairs the step hands work to, e.g. ``("kafka", "bom")``;
        #: a step receiving the same pair in another flow continues the work there.
        self.sends = sends
        #: ``(transport, channel)`` pairs the step consumes (a Kafka consumer's topic).
        self.receives = receives

    def replace(self, **changes: Any) -> StepSpec:
        """A copy with ``changes`` applied."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return StepSpec(**fields)

    def __repr__(self) -> str:
        return f"<StepSpec {self.name!r} {self.kind} of {self.module}.{self.qualname}>"

    @property
    def key(self) -> tuple[str, str]:
        """Identity in the registry: re-importing a module replaces the same keys."""
        return (self.module, self.qualname)

    @property
    def location(self) -> str:
        """``file:line`` of the decorated function."""
        return f"{self.file}:{self.line}"

    @property
    def flow_names(self) -> tuple[str, ...]:
        return tuple(m.flow for m in self.flows)

    def after_in(self, flow: str) -> tuple[AfterRef, ...]:
        """The predecessors this step declares in ``flow``."""
        for m in self.flows:
            if m.flow == flow and m.after is not None:
                return m.after
        return self.after

    def when_in(self, flow: str) -> str | None:
        """The condition on the edges into this step in ``flow`` (see `after_in`)."""
        for m in self.flows:
            if m.flow == flow and m.after is not None:
                return m.when
        return self.when

    def summary(self) -> str | None:
        """The description, else the docstring's first paragraph."""
        if self.description is not None:
            return self.description
        return doc_summary(self.func)


class StepHandle:
    """The mutable cell shared by a wrapper and the registry: it points at the current spec.

    The run-time wrapper reads the handle on every call, so stacking ``@flow`` after the
    wrapper was made is seen without re-wrapping. ``info`` is what the runtime derives from
    the spec (opaque here); `set_spec` forgets it, and the runtime derives it again.
    """

    __slots__ = ("info", "spec")

    def __init__(self, spec: StepSpec) -> None:
        self.spec = spec
        self.info: Any = None

    def set_spec(self, spec: StepSpec) -> None:
        """Point at a new spec (a stacked decorator changed it)."""
        self.spec = spec
        self.info = None


HANDLE_ATTR = "__penstock_step__"


def handle_of(obj: object) -> StepHandle | None:
    """Return the handle of a penstock-decorated callable, or ``None``."""
    handle = getattr(obj, HANDLE_ATTR, None)
    return handle if isinstance(handle, StepHandle) else None


def doc_summary(func: Callable[..., Any]) -> str | None:
    """The docstring's first paragraph, joined onto one line."""
    import inspect

    doc = inspect.getdoc(func)
    if not doc:
        return None
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split()) or None
