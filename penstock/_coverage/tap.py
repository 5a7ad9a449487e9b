"""Watch every run of this process (a test session) and keep what each run did.

The runtime keeps the shape of every run while asked to (`penstock._runtime.shapes`): beside
whatever backend the tests configure, recording nothing anywhere else and logging nothing.
A shape holds, per call, the declared edge the call took as the runtime decided it by the
happens-before rule of `penstock._runtime.rule` (``step._edge``: the same answer drift
detection gives and log records carry as ``edge_from``). This module turns the distinct
shapes into steps and edges per flow, once each, when the result is asked for.
"""

from __future__ import annotations

from typing import Any

from penstock._coverage.hits import Hits
from penstock._errors import FlowNotFoundError
from penstock._graph.model import get_flow
from penstock._runtime import lifecycle
from penstock._runtime.lifecycle import keep_shapes
from penstock._runtime.shapes import RunShapes

__all__ = ["CoverageTap"]


class CoverageTap:
    """Collects the shape of every run while installed (`start` ... `stop`)."""

    def __init__(self) -> None:
        self._shapes = RunShapes()
        #: (StepInfo, StepInfo of its edge's source) -> what the call stands for.
        self._items: dict[tuple[Any, Any], Any] = {}
        #: flow -> its declared edges, as (source, target) names (None: no such flow).
        self._declared: dict[str, frozenset[tuple[str, str]] | None] = {}
        self._before: RunShapes | None = None

    def start(self) -> None:
        """Watch every run from now on (in place of a tap started before, until `stop`)."""
        before = lifecycle.SHAPES
        if before is not self._shapes:
            self._before = before
            keep_shapes(self._shapes)

    def stop(self) -> None:
        """Stop watching, and give the runs back to the tap started before, if any."""
        if lifecycle.SHAPES is self._shapes:
            keep_shapes(self._before)
        self._before = None

    # --- slow path: once per (step, predecessor, caller) ---------------------------------------

    def _item(self, raw: Any) -> Any:
        """What a raw item stands for: a run's first step, or the edge a call took (memoized)."""
        if not isinstance(raw, tuple):
            return raw
        found = self._items.get(raw)
        if found is None:
            try:
                found = self._explain(*raw)
            except Exception:  # a bug here must not lose the run: the call counts as its step
                found = raw[0]
            self._items[raw] = found
        return found

    def _explain(self, info: Any, source: Any) -> Any:
        """What a call stands for: ``(flow, source, target)`` for a declared edge, else its step.

        The step is its `StepInfo` (one in no flow is dropped in `hits`); ``source`` is the
        `StepInfo` the runtime's rule named (``None``: no transition).
        """
        flow = info.flow
        declared = self._edges(flow) if flow is not None else None
        if declared is None or source is None:
            return info
        edge = (source.name, info.name)
        if edge not in declared:
            return info
        return (flow, edge[0], edge[1])

    def _edges(self, flow: str) -> frozenset[tuple[str, str]] | None:
        if flow not in self._declared:
            try:
                graph = get_flow(flow)
            except FlowNotFoundError:  # pragma: no cover - a step's own flow is registered
                self._declared[flow] = None
            else:
                self._declared[flow] = frozenset((e.source, e.target) for e in graph.edges)
        return self._declared[flow]

    # --- the result -----------------------------------------------------------------------------

    def hits(self) -> Hits:
        """What the runs so far did, per flow (a run still going counts as it is now)."""
        hits = Hits()
        for raw, count in self._shapes.counts():
            steps: dict[str, set[str]] = {}
            edges: dict[str, set[tuple[str, str]]] = {}
            for item in {self._item(r) for r in raw}:
                if isinstance(item, tuple):
                    flow, src, dst = item
                    edges.setdefault(flow, set()).add((src, dst))
                    steps.setdefault(flow, set()).add(dst)
                elif item.flow is not None:
                    steps.setdefault(item.flow, set()).add(item.name)
            for flow in steps.keys() | edges.keys():
                hits.add(flow, steps.get(flow, ()), edges.get(flow, ()), count)
        return hits

    def clear(self) -> None:
        """Forget the runs seen so far."""
        self._shapes.clear()
