"""What penstock precomputes once per step, and the ids of a call.

`StepInfo` and `SpecInfo` are computed once per step; `StepRun` (one call) is part of the
backend contract, in `penstock._runtime.backend`.

Imported with ``import penstock``: nothing costly here (``random`` is imported at the first
id generated).
"""

from __future__ import annotations

from penstock._runtime.rule import SCHEMA_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from penstock._declared.spec import StepSpec

__all__ = ["SpecInfo", "StepInfo", "new_span_id", "new_trace_id"]


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
