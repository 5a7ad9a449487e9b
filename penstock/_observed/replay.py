"""One run, replayed: the steps it called, in order, with durations, status and hops."""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from penstock._errors import ObservedError
from penstock._graph.model import FlowGraph, get_flow
from penstock._observed.files import expand
from penstock._observed.record import DUPLICATE, Record, Skipped
from penstock._observed.rule import DEFER, EdgeRule, rebuild_edges
from penstock._observed.source import read_records
from penstock._observed.store_url import StoreURL, store_of

__all__ = ["ReplayStep", "RunReplay", "replay_run"]


@dataclass(frozen=True)
class ReplayStep:
    """One call of the run, in start order.

    Attributes:
        index: 1-based position in start order.
        name: the step's name.
        status: ``ok``, ``error`` or ``cancelled``.
        duration_ms: how long the call took.
        start: when it started, seconds since the epoch (``None`` when the record did not say).
        depth: how many callers deep (0 for the run's first step).
        edge: the edge of the flow this call observed (``None`` for the first step).
        declared: whether ``edge`` is declared.
        via: the transport of a cross-process hop into this call (``"celery"``...), else
            ``None``.
        failed_here: whether the run's failure started in this call.
        where: ``file:line`` of the record.
        caller: the calling step the record names (across a hop, the remote one).
    """

    index: int
    name: str
    status: str
    duration_ms: float
    start: float | None
    depth: int
    edge: tuple[str, str] | None
    declared: bool
    via: str | None
    failed_here: bool
    where: str
    caller: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The call as in ``penstock observe --run ... --format json``."""
        return {
            "index": self.index,
            "step": self.name,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "start": self.start,
            "depth": self.depth,
            "from": self.edge[0] if self.edge else None,
            "declared": self.declared,
            "via": self.via,
            "failed_here": self.failed_here,
            "caller": self.caller,
        }


@dataclass(frozen=True)
class RunReplay:
    """The path one run took through a flow.

    Attributes:
        flow: the flow's name.
        correlation_id: the run's correlation ID.
        steps: its calls in the flow, in start order.
        skipped: input left out, by reason (other runs and flows included).
        files: the files read.
    """

    flow: str
    correlation_id: str
    steps: tuple[ReplayStep, ...]
    skipped: dict[str, int]
    files: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """``error`` when any call failed, else ``ok``."""
        return "error" if any(s.status == "error" for s in self.steps) else "ok"

    @property
    def failed_at(self) -> ReplayStep | None:
        """The call the failure started in, if the run failed."""
        return next((s for s in self.steps if s.failed_here), None)

    def as_dict(self) -> dict[str, Any]:
        """The ``penstock observe --run ... --format json`` object."""
        return {
            "flow": self.flow,
            "run": self.correlation_id,
            "status": self.status,
            "skipped": dict(sorted(self.skipped.items())),
            "steps": [s.as_dict() for s in self.steps],
        }


def replay_run(
    flow: str | FlowGraph,
    files: Iterable[str | os.PathLike[str]],
    run: str,
    *,
    base: str | Path | None = None,
) -> RunReplay:
    """The calls of run ``run`` (a correlation ID, or a unique prefix of one) in ``flow``.

    Raises:
        ObservedError: no such run in the files (or the prefix names several), bad files.
        FlowNotFoundError: unknown flow.
    """
    graph = get_flow(flow) if isinstance(flow, str) else flow
    wanted = run.strip().lower()
    if not wanted:
        raise ObservedError("--run needs a correlation ID (or a unique prefix of one)")
    store = store_of(files)
    if store is not None:
        return _from_store(graph, store, run, wanted)
    paths = expand(files, base)
    skipped = Skipped()
    mine: list[Record] = []
    runs: set[str] = set()
    seen: set[tuple[str, str]] = set()
    name = graph.name
    for raw in read_records(paths, skipped):
        # The run's records only are made Records: the others are counted, no more.
        if raw[1] != name:
            skipped["other flow"] += 1
            continue
        cid = raw[0]
        if cid.startswith(wanted):
            runs.add(cid)
            if len(runs) == 1:  # an ambiguous prefix keeps no records, only the IDs it matched
                span_id = raw[8]
                if span_id is not None:
                    if (cid, span_id) in seen:
                        skipped[DUPLICATE] += 1
                        continue
                    seen.add((cid, span_id))
                mine.append(Record(*raw))
        else:
            skipped["other run"] += 1
    if not mine:
        raise ObservedError(
            f"no record of run {run!r} in flow {graph.name!r} in {len(paths)} file(s); "
            "runs are named by their correlation ID (32 hex digits)"
        )
    if len(runs) > 1:
        sample = ", ".join(sorted(runs)[:3])
        raise ObservedError(f"run {run!r} is ambiguous: it starts {len(runs)} IDs ({sample}...)")
    return RunReplay(
        flow=graph.name,
        correlation_id=mine[0].correlation_id,
        steps=tuple(_ordered(graph, mine)),
        skipped=dict(skipped),
        files=tuple(str(p) for p in paths),
    )


def _from_store(graph: FlowGraph, store: StoreURL, run: str, wanted: str) -> RunReplay:
    """One run fetched from a trace store: only its trace is read."""
    from penstock._observed.store import run_records

    if any(c not in "0123456789abcdef" for c in wanted) or len(wanted) > 32:
        raise ObservedError(
            f"run {run!r}: in a trace store a run is its trace id (up to 32 hex digits)"
        )
    records, skipped, matched = run_records(store, graph.name, wanted)
    if matched > 1:
        raise ObservedError(
            f"run {run!r} is ambiguous: it starts several trace ids in {store.display()}"
        )
    if not records:
        raise ObservedError(
            f"no record of run {run!r} in flow {graph.name!r} in {store.display()}; "
            "runs are named by their trace id (32 hex digits)"
        )
    return RunReplay(
        flow=graph.name,
        correlation_id=records[0].correlation_id,
        steps=tuple(_ordered(graph, records)),
        skipped=dict(skipped),
        files=(store.display(),),
    )


def _ordered(graph: FlowGraph, records: list[Record]) -> list[ReplayStep]:
    # Every step here is O(n log n) or better: a run of 100,000 records replays in a second.
    if all(r.start is not None for r in records):
        records.sort(key=itemgetter(7, 10, 11))  # (start, file, line), without a lambda
    else:
        records.sort(key=lambda r: (r.start if r.start is not None else 0.0, r.file, r.line))
    by_span = {r.span_id: r for r in records if r.span_id}
    failed_children = {r.parent_span_id for r in records if r.status == "error"}
    starts: dict[str, list[float]] = {}
    calls: dict[str, list[Record]] = {}
    for r in records:  # in start order, so each list is sorted
        starts.setdefault(r.step, []).append(r.start or 0.0)
        calls.setdefault(r.step, []).append(r)

    def caller_of(r: Record) -> Record | None:
        found = by_span.get(r.parent_span_id) if r.parent_span_id else None
        if found is not None or r.parent_step is None:
            return found
        # The parent span is not a step's (another instrumentation's span of the hop, say):
        # the caller is the latest call of the parent step that started before this one.
        index = bisect_right(starts.get(r.parent_step, []), r.start or 0.0) - 1
        candidates = calls.get(r.parent_step, [])
        while index >= 0 and candidates[index] is r:
            index -= 1
        return candidates[index] if index >= 0 else None

    depths: dict[int, int] = {}

    def depth_of(r: Record) -> int:
        # The common case first: the caller started earlier, so its depth is known.
        caller = caller_of(r)
        if caller is None:
            depths[id(r)] = 0
            return 0
        known = depths.get(id(caller)) if caller is not r else None
        if known is not None:
            depths[id(r)] = known + 1
            return known + 1
        chain: list[Record] = []
        seen: set[int] = set()
        cur: Record | None = r
        while cur is not None and id(cur) not in depths and id(cur) not in seen:
            seen.add(id(cur))
            chain.append(cur)
            cur = caller_of(cur)
        base = -1 if cur is None or id(cur) in seen else depths[id(cur)]
        for node in reversed(chain):
            base += 1
            depths[id(node)] = base
        return depths[id(r)]

    rule = EdgeRule(graph)
    edges: dict[int, tuple[str, str] | None] = {}
    wanted: set[tuple[str, str | None, str, int]] = set()
    for r in records:
        if r.has_edge:
            edges[id(r)] = None if r.edge_from is None else (r.edge_from, r.step)
            continue
        found = rule.edge(r.step, r.parent_step, r.predecessor)
        if found is DEFER:
            wanted.add((r.correlation_id, r.span_id, r.file, r.line))
        else:
            edges[id(r)] = found
    if wanted:
        for r, found in rebuild_edges(rule, records, wanted):
            edges[id(r)] = found
    out: list[ReplayStep] = []
    for index, r in enumerate(records, 1):
        edge = edges.get(id(r))
        via = None
        if r.parent_step is not None:
            node = graph.step(r.step) if r.step in graph else None
            via = node.transport if node is not None else None
            parent = by_span.get(r.parent_span_id) if r.parent_span_id else None
            if via is None and parent is not None and parent.file != r.file:
                via = "another process"
        out.append(
            ReplayStep(
                index=index,
                name=r.step,
                status=r.status,
                duration_ms=r.duration_ms,
                start=r.start,
                depth=depth_of(r),
                edge=edge,
                declared=edge is None or edge in rule.declared,
                via=via,
                failed_here=r.status == "error" and r.span_id not in failed_children,
                where=f"{r.file}:{r.line}",
                caller=r.parent_step,
            )
        )
    return out
