"""The immutable description a decorator attaches to a function."""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`: importing typing alone costs more than penstock.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal, TypeAlias

    #: A predecessor named in ``after=``: a step name or the decorated function itself.
    AfterRef: TypeAlias = str | Callable[..., Any]
    StepKind: TypeAlias = Literal["entrypoint", "step"]


class Membership:
    """One flow a step belongs to, with an optional per-flow ``after``."""

    __slots__ = ("after", "flow")

    def __init__(self, flow: str, after: tuple[AfterRef, ...] | None = None) -> None:
        self.flow = flow
        #: ``None`` means "use the step's own ``after``".
        self.after = after

    def __repr__(self) -> str:
        return f"Membership({self.flow!r}, after={self.after!r})"


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
        "transport",
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
