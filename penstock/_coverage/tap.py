"""Watch every step call of this process (a test session) and keep what each run did.

Installed as a runtime tap (`penstock._runtime.taps`): it runs beside whatever backend the
tests configure, records nothing anywhere else and logs nothing. Per call it looks up which
declared edge the call took (the runtime decides it by the happens-before rule of
`penstock._runtime.rule` before the backend hears of the call: ``step._edge``, the same answer
drift detection gives and log records carry as ``edge_from``) and adds it to its run's set.
Runs are put away in batches: every `BATCH` runs, the sets of the runs that have finished join
the distinct runs of `Hits` (so the tap needs no hook at the end of each call).
"""

from __future__ import annotations

from collections import Counter
from threading import Lock
from typing import Any

from penstock._coverage.hits import Hits
from penstock._errors import FlowNotFoundError
from penstock._graph.model import get_flow
from penstock._observed.rule import EdgeRule
from penstock._runtime.taps import add_tap, remove_tap

__all__ = ["BATCH", "CoverageTap"]

#: How many runs are kept open before the finished ones are put away.
BATCH = 512


class CoverageTap:
    """Collects the shape of every run while installed (`start` ... `stop`)."""

    def __init__(self) -> None:
        self._lock = Lock()
        #: (StepInfo, StepInfo of its edge's source) -> what the call stands for.
        self._items: dict[tuple[Any, Any], Any] = {}
        self._rules: dict[str, EdgeRule | None] = {}
        #: Distinct runs' items (StepInfo objects and (StepInfo, source) pairs) in the order
        #: first seen -> runs. Kept as tuples: runs of the same code list the same items in
        #: the same order, and a tuple of the same objects is told equal by identity.
        self._runs: Counter[tuple[Any, ...]] = Counter()
        #: (first call, its run's items, as the keys of a dict) of the runs not put away yet.
        self._open: list[tuple[Any, dict[Any, None]]] = []

    def start(self) -> None:
        """Watch every step call from now on."""
        add_tap(self)

    def stop(self) -> None:
        """Stop watching."""
        remove_tap(self)

    # --- the hooks: on every step call -------------------------------------------------------

    def on_start(self, *, step: Any) -> None:
        """Add the call's (step, source of its edge) to its run's items.

        Whether that edge is declared is decided when the runs are read (`hits`), once per
        distinct pair: the hot path only adds a pair to a set.
        """
        parent = step.parent
        if parent is None:
            items = step._observed = {step._info: None}
            self._opened(step, items)
            return
        items = parent._observed
        if items is None:
            # The caller started before the tap, or runs in another process: this call's
            # subtree is a run of its own here.
            items = {}
            self._opened(step, items)
        step._observed = items
        items[step._info, step._edge] = None

    def _opened(self, first: Any, items: dict[Any, None]) -> None:
        opened = self._open
        opened.append((first, items))
        if len(opened) >= BATCH:
            self._put_away(finished_only=True)

    def _put_away(self, *, finished_only: bool) -> None:
        """Count the runs whose first call has finished (all of them: at the end)."""
        with self._lock:
            keep: list[tuple[Any, dict[Any, None]]] = []
            runs = self._runs
            # Swapped first: a run opened by another thread meanwhile lands in the new list.
            opened, self._open = self._open, keep
            for first, items in opened:
                if finished_only and first.status == "running":
                    keep.append((first, items))
                else:
                    runs[tuple(items)] += 1

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
        rule = self._rule(flow) if flow is not None else None
        if rule is None or source is None:
            return info
        edge = (source.name, info.name)
        if edge not in rule.declared:
            return info
        return (flow, edge[0], edge[1])

    def _rule(self, flow: str) -> EdgeRule | None:
        if flow not in self._rules:
            try:
                self._rules[flow] = EdgeRule(get_flow(flow))
            except FlowNotFoundError:  # pragma: no cover - a step's own flow is registered
                self._rules[flow] = None
        return self._rules[flow]

    # --- the result -----------------------------------------------------------------------------

    def hits(self) -> Hits:
        """What the runs so far did, per flow (a run still going counts as it is now)."""
        self._put_away(finished_only=False)
        with self._lock:
            runs = list(self._runs.items())
        hits = Hits()
        for raw, count in runs:
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
        with self._lock:
            self._runs.clear()
            self._open.clear()
