"""What a tally of recorded runs says: per step, per edge, and for the flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["NOT_DECLARED_NOTE", "ObservedEdge", "ObservedFlow", "ObservedStep"]


#: What the outputs say of a step the records name that the flow does not declare now.
NOT_DECLARED_NOTE = "not a step of the flow now: renamed or removed?"


@dataclass(frozen=True)
class ObservedStep:
    """What the records say about one step.

    Attributes:
        name: the step's name.
        calls: how many calls the records show.
        errors: how many of them failed (status ``error``).
        p50_ms: the median duration in milliseconds (within 1 %), ``None`` when never called.
        p95_ms: the 95th percentile duration in milliseconds (within 1 %), or ``None``.
        declared: whether the flow declares this step (a record may name one the code no
            longer has).
        last_seen: when the latest call started (seconds since the epoch), or ``None``.
        runs: how many distinct runs called it, when that was asked for (``penstock diff
            --observed`` asks it of the steps a change touches), else ``None``.
    """

    name: str
    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    declared: bool = True
    # Not compared: two tallies of the same calls are equal whenever they were read.
    last_seen: float | None = field(default=None, compare=False)
    runs: int | None = field(default=None, compare=False)

    @property
    def error_rate(self) -> float:
        """``errors / calls`` (0 when never called)."""
        return self.errors / self.calls if self.calls else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The step as in ``penstock observe --format json``."""
        return {
            "name": self.name,
            "calls": self.calls,
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "declared": self.declared,
            **({} if self.declared else {"note": NOT_DECLARED_NOTE}),
        }


@dataclass(frozen=True)
class ObservedEdge:
    """A declared edge with how often runs took it, or a transition runs took undeclared.

    Attributes:
        source: the step the transition came from.
        target: the step it went to.
        declared: whether the flow declares the edge.
        count: how many calls observed it (0 for a declared edge no run took).
        seen_at: for an undeclared transition, ``file:line`` of the first record showing it.
        last_seen: when the latest call that took it started (seconds since the epoch).
        runs: how many distinct runs took it, when that was asked for, else ``None``.
    """

    source: str
    target: str
    declared: bool
    count: int
    seen_at: str | None = None
    #: Whether the edge names a step the flow no longer declares (set by `ObservedFlow`).
    ghost: bool = False
    last_seen: float | None = field(default=None, compare=False)
    runs: int | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The edge as in ``penstock observe --format json``."""
        return {
            "from": self.source,
            "to": self.target,
            "declared": self.declared,
            "count": self.count,
            **({"note": NOT_DECLARED_NOTE} if self.ghost else {}),
        }


@dataclass(frozen=True)
class ObservedFlow:
    """The recorded runs of a flow, laid over its declaration.

    Attributes:
        flow: the flow's name.
        runs: distinct correlation IDs with at least one call in the flow.
        skipped: input left out, by reason (lines that are not step records, damaged ones,
            foreign spans, records of other flows or outside the time window).
        steps: every declared step (in the flow's order), then the steps the records name that
            the flow does not declare.
        edges: every declared edge (count 0 when never observed), then every observed
            undeclared transition.
        files: the files read.
    """

    flow: str
    runs: int
    skipped: dict[str, int]
    steps: tuple[ObservedStep, ...]
    edges: tuple[ObservedEdge, ...]
    files: tuple[str, ...] = field(default=())
    #: Records of other flows read in the files, by flow ("" for records of no flow).
    other_flows: dict[str, int] = field(default_factory=dict)
    #: Spans in the files that are not penstock's.
    foreign_spans: int = 0

    def step(self, name: str) -> ObservedStep | None:
        """The step called ``name``, or ``None``."""
        return next((s for s in self.steps if s.name == name), None)

    def edge(self, source: str, target: str) -> ObservedEdge | None:
        """The edge ``source -> target``, or ``None``."""
        return next((e for e in self.edges if (e.source, e.target) == (source, target)), None)

    def as_dict(self) -> dict[str, Any]:
        """The ``penstock observe --format json`` object."""
        return {
            "flow": self.flow,
            "runs": self.runs,
            "skipped": dict(sorted(self.skipped.items())),
            "steps": [s.as_dict() for s in self.steps],
            "edges": [e.as_dict() for e in self.edges],
            "other_flows": dict(self.other_flows),
            "foreign_spans": self.foreign_spans,
        }
