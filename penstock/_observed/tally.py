"""Tally recorded runs of one flow: calls, errors and percentiles per step, counts per edge."""

from __future__ import annotations

import datetime as dt
import gc
import os
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from math import ceil, log
from pathlib import Path
from typing import Any

from penstock._graph.model import FlowGraph, get_flow
from penstock._observed.fast import APP_LINE, BlockSink, compiled_scan
from penstock._observed.files import expand
from penstock._observed.record import (
    DUPLICATE,
    EDGE_FROM_SINCE,
    SCHEMA_VERSION,
    RawRecord,
    Record,
    Skipped,
)
from penstock._observed.results import ObservedEdge, ObservedFlow, ObservedStep
from penstock._observed.rule import DEFER, EdgeRule, rebuild_edges
from penstock._observed.sketch import INV_LOG_GAMMA, TINY, TINY_BUCKET, Sketch
from penstock._observed.source import read_batches, read_records
from penstock._observed.store_url import StoreURL, store_of

__all__ = [
    "DUPLICATE",
    "ObservedEdge",
    "ObservedFlow",
    "ObservedStep",
    "Tally",
    "observe",
    "to_epoch",
]


class _Stats:
    __slots__ = ("calls", "errors", "last", "sketch")

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.last: float | None = None
        self.sketch = Sketch()


def to_epoch(value: dt.datetime | str | float | None, what: str) -> float | None:
    """``since``/``until`` as seconds since the epoch (naive times are UTC)."""
    from penstock._errors import ObservedError

    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ObservedError(
                f"{what} {value!r} is not an ISO time (e.g. 2026-11-30T12:00:00Z)"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


class Tally:
    """Counts of one flow's records, fed from any source (files, a database).

    Feed it `RawRecord` tuples with `add_all`, then call `result`. Records of older layouts
    whose edge needs their run's span tree are settled in `result`, from the records of
    those runs only, which it asks the ``again`` callable for.

    Args:
        graph: the flow.
        since: keep only calls that started at or after this time (seconds since the epoch).
        until: keep only calls that started before this time.
    """

    def __init__(
        self, graph: FlowGraph, since: float | None = None, until: float | None = None
    ) -> None:
        self.graph = graph
        self.low = since
        self.high = until
        self.rule = EdgeRule(graph)
        self.skipped = Skipped()
        self.stats: dict[str, _Stats] = {}
        self.edges: dict[tuple[str, str], int] = {}
        #: Where each undeclared edge was first seen: its record (or, from a store, the text).
        self.first_seen: dict[tuple[str, str], RawRecord | str] = {}
        #: When each edge was last taken (the latest start of a call that took it).
        self.last_seen: dict[tuple[str, str], float] = {}
        self.runs: set[str] = set()
        #: Calls counted by (step, edge source, status): [calls, latest start, durations].
        self.groups: dict[tuple[str, Any, str], list[Any]] = {}
        self.other_flows: dict[str, int] = {}
        #: Hashes of (run, span id) already counted: one int per call, not two strings.
        self.seen: set[int] = set()
        #: (run, span id, file, line) of older records whose edge the run's tree decides.
        self.deferred: set[tuple[str, str | None, str, int]] = set()
        self.deferred_runs: set[str] = set()
        #: The run count when a source counted the runs itself (a trace store), else None.
        self.run_count: int | None = None
        #: Distinct runs of the steps and edges a caller asked about (`watch`), by key.
        self.step_runs: dict[str, set[str]] = {}
        self.edge_runs: dict[tuple[str, str], set[str]] = {}

    def watch(self, steps: Iterable[str], edges: Iterable[tuple[str, str]]) -> None:
        """Also count the distinct runs that called ``steps`` and took ``edges``.

        Only for the few a caller names (a diff's changes): a set of runs per step for every
        step would hold every run id once per step.
        """
        self.step_runs = {name: set() for name in steps}
        self.edge_runs = {edge: set() for edge in edges}

    def add_all(self, records: Iterable[RawRecord]) -> None:
        """Count ``records`` (the same run and span id read again counts once)."""
        # Runs once per record (the observe rows of make bench): a record only bumps the
        # counts of its group (step, edge source, status) and adds its duration to the
        # group's array; steps, edges and percentiles are made of the groups in `fold`.
        # Kept in one method: a helper call per record costs more than the rest of it.
        if self.step_runs or self.edge_runs:  # once per batch, not per record
            records = list(records)
            self._add_runs(records)
        name = self.graph.name
        low, high = self.low, self.high
        windowed = low is not None or high is not None
        rule = self.rule
        edge_of = rule.edge
        declared = rule.declared
        skipped = self.skipped
        groups = self.groups
        first_seen = self.first_seen
        runs_add = self.runs.add
        other = self.other_flows
        seen = self.seen
        seen_add = seen.add
        deferred = self.deferred
        defer = DEFER
        since = EDGE_FROM_SINCE
        source: Any
        for record in records:
            (cid, rflow, step, parent, pred, duration, status, start, span_id) = record[:9]
            if rflow != name:
                key = rflow or ""
                other[key] = other.get(key, 0) + 1
                continue
            if windowed:
                if start is None:
                    skipped["no start_time (needed by since/until)"] += 1
                    continue
                if (low is not None and start < low) or (high is not None and start >= high):
                    skipped["outside since/until"] += 1
                    continue
            # Without a span id (hand-made records), the call is its step, start and duration.
            size = len(seen)
            seen_add(hash((cid, span_id) if span_id is not None else (cid, step, start, duration)))
            if len(seen) == size:
                skipped[DUPLICATE] += 1
                continue
            runs_add(cid)
            if record[13] >= since:
                source = record[12]
            else:
                edge = edge_of(step, parent, pred)
                if edge is defer:
                    deferred.add((cid, span_id, record[10], record[11]))
                    self.deferred_runs.add(cid)
                    source = defer
                else:
                    source = None if edge is None else edge[0]
            group = groups.get((step, source, status))
            if group is None:
                group = groups[(step, source, status)] = [0, None, array("d")]
                if source is not None and source is not defer:
                    edge = (source, step)
                    if edge not in declared and edge not in first_seen:
                        first_seen[edge] = record
            group[0] += 1
            if start is not None and (group[1] is None or start > group[1]):
                group[1] = start
            group[2].append(duration)

    def block_sink(self) -> BlockSink | None:
        """What counts plain log lines straight into this tally, in C; ``None`` without it.

        Only for the counts `add_all` makes of such a line alone: not with a time window
        or watched steps (the lines go through `add_all` then).
        """
        scan = compiled_scan()
        if scan is None or self.low is not None or self.high is not None:
            return None
        if self.step_runs or self.edge_runs:
            return None
        flow = self.graph.name.encode("utf-8", "surrogatepass")
        args = (flow, EDGE_FROM_SINCE, SCHEMA_VERSION, self.seen, self.runs, self.groups)
        other, skipped = self.other_flows, self.skipped

        def sink(block: bytes, pos: int) -> tuple[int, int]:
            pos, lines, app, dup = scan(block, pos, *args, other)
            if app:
                skipped[APP_LINE] += app
            if dup:
                skipped[DUPLICATE] += dup
            return pos, lines

        return sink

    def add_batches(self, batches: Iterable[list[RawRecord]]) -> None:
        """`add_all` for records that come in lists (`read_batches`)."""
        add_all = self.add_all
        for batch in batches:
            add_all(batch)

    def _add_runs(self, records: Iterable[RawRecord]) -> None:
        """Note the runs of ``records`` that call a watched step or take a watched edge.

        A record read twice names the same run, so duplicates need no care here; the window
        does. Edges that only the run's tree decides are noted in `settle`.
        """
        name, low, high = self.graph.name, self.low, self.high
        step_runs, edge_runs = self.step_runs, self.edge_runs
        edge_of = self.rule.edge
        for record in records:
            if record[1] != name:
                continue
            start = record[7]
            if (low is not None or high is not None) and (
                start is None
                or (low is not None and start < low)
                or (high is not None and start >= high)
            ):
                continue
            cid, step = record[0], record[2]
            runs = step_runs.get(step)
            if runs is not None:
                runs.add(cid)
            if not edge_runs:
                continue
            if record[13] >= EDGE_FROM_SINCE:
                edge = None if record[12] is None else (record[12], step)
            else:
                edge = edge_of(step, record[3], record[4])
            if edge is not None and edge is not DEFER:
                runs = edge_runs.get(edge)
                if runs is not None:
                    runs.add(cid)

    def fold(self) -> None:
        """Make the per-step and per-edge counts of the groups `add_all` counted."""
        defer = DEFER
        inv_log_gamma, tiny = INV_LOG_GAMMA, TINY
        for (step, source, status), (calls, last, durations) in self.groups.items():
            st = self.stats.get(step)
            if st is None:
                st = self.stats[step] = _Stats()
            st.calls += calls
            if status == "error":
                st.errors += calls
            if last is not None and (st.last is None or last > st.last):
                st.last = last
            # Sketch.add for the whole array at once: the same buckets, in C loops.
            # (Durations at or below TINY share one bucket: filtered out only when present.)
            above: Any = (
                durations if min(durations) > tiny else list(filter(tiny.__lt__, durations))
            )
            buckets = st.sketch.buckets
            counted = Counter(map(ceil, map(inv_log_gamma.__mul__, map(log, above))))
            if len(above) < len(durations):
                counted[TINY_BUCKET] += len(durations) - len(above)
            for bucket, n in counted.items():
                buckets[bucket] = buckets.get(bucket, 0) + n
            st.sketch.count += len(durations)
            if source is None or source is defer:
                continue
            edge = (source, step)
            self.edges[edge] = self.edges.get(edge, 0) + calls
            if last is not None and last > self.last_seen.get(edge, -1e300):
                self.last_seen[edge] = last
        self.groups.clear()

    def state(self, held: set[str]) -> dict[str, Any]:
        """What a process that counted a part sends back (`penstock._observed.split`).

        The seen marks go as one array, not a set; ``held`` are its spans to place.
        """
        tally = self
        tally.fold()
        return {
            "skipped": dict(tally.skipped),
            "stats": {
                step: (st.calls, st.errors, st.last, st.sketch.buckets, st.sketch.count)
                for step, st in tally.stats.items()
            },
            "edges": tally.edges,
            "first_seen": tally.first_seen,
            "last_seen": tally.last_seen,
            "runs": tally.runs,
            "other_flows": tally.other_flows,
            "seen": array("q", tally.seen),
            "deferred": tally.deferred,
            "deferred_runs": tally.deferred_runs,
            "step_runs": tally.step_runs,
            "edge_runs": tally.edge_runs,
            "held": held,
        }

    def merge(self, theirs: dict[str, Any], cut_file: str | None, offset: int) -> bool:
        """Add the `state` of the part after this one; ``False`` when they share a call.

        Line numbers of ``cut_file`` in that part count from its start: ``offset`` is
        added to them.
        """
        tally = self
        # Their marks are not added to ours: only a later add_all (spans placed from the
        # tree) would need them, and the caller adds them then.
        if not tally.seen.isdisjoint(theirs["seen"]):
            return False

        def moved(record: Any) -> Any:
            # Line numbers of the second part of the cut file count from its start.
            if isinstance(record, tuple) and record[10] == cut_file:
                return (*record[:11], record[11] + offset, *record[12:])
            return record

        tally.skipped.update(theirs["skipped"])
        for step, (calls, errors, last, buckets, count) in theirs["stats"].items():
            st = tally.stats.get(step)
            if st is None:
                st = tally.stats[step] = _Stats()
            st.calls += calls
            st.errors += errors
            if last is not None and (st.last is None or last > st.last):
                st.last = last
            mine = st.sketch.buckets
            for bucket, n in buckets.items():
                mine[bucket] = mine.get(bucket, 0) + n
            st.sketch.count += count
        for edge, n in theirs["edges"].items():
            tally.edges[edge] = tally.edges.get(edge, 0) + n
        for edge, record in theirs["first_seen"].items():
            if edge not in tally.first_seen:
                tally.first_seen[edge] = moved(record)
        for edge, start in theirs["last_seen"].items():
            if start > tally.last_seen.get(edge, -1e300):
                tally.last_seen[edge] = start
        tally.runs |= theirs["runs"]
        for flow, n in theirs["other_flows"].items():
            tally.other_flows[flow] = tally.other_flows.get(flow, 0) + n
        for cid, span_id, file, line in theirs["deferred"]:
            tally.deferred.add((cid, span_id, file, line + offset if file == cut_file else line))
        tally.deferred_runs |= theirs["deferred_runs"]
        for step, runs in theirs["step_runs"].items():
            tally.step_runs.setdefault(step, set()).update(runs)
        for edge, runs in theirs["edge_runs"].items():
            tally.edge_runs.setdefault(edge, set()).update(runs)
        return True

    def settle(self, records: Iterable[RawRecord]) -> None:
        """Decide the deferred edges from ``records`` (all the records of the deferred runs)."""
        self.fold()
        if not self.deferred:
            return
        name = self.graph.name
        by_run: dict[str, list[Record]] = {}
        seen: set[tuple[str, str]] = set()
        for raw in records:
            cid = raw[0]
            if raw[1] != name or cid not in self.deferred_runs:
                continue
            span_id = raw[8]
            if span_id is not None:
                if (cid, span_id) in seen:
                    continue
                seen.add((cid, span_id))
            by_run.setdefault(cid, []).append(Record(*raw))
        declared = self.rule.declared
        for run_records in by_run.values():
            for record, edge in rebuild_edges(self.rule, run_records, self.deferred):
                if edge is None:
                    continue
                self.edges[edge] = self.edges.get(edge, 0) + 1
                start = record.start
                if start is not None and start > self.last_seen.get(edge, -1e300):
                    self.last_seen[edge] = start
                if edge not in declared and edge not in self.first_seen:
                    self.first_seen[edge] = tuple(record)  # type: ignore[assignment]
                runs = self.edge_runs.get(edge)
                if runs is not None:
                    runs.add(record.correlation_id)
        self.deferred.clear()

    def result(self, files: Sequence[str] = ()) -> ObservedFlow:
        """The counts, with every declared step and edge."""
        self.fold()
        skipped = Skipped(self.skipped)
        foreign = skipped.pop("foreign span", 0)
        first_seen = {e: w if isinstance(w, str) else _where(w) for e, w in self.first_seen.items()}
        return _result(
            self.graph,
            self.stats,
            self.edges,
            first_seen,
            self.runs if self.run_count is None else self.run_count,
            skipped,
            files,
            self.other_flows,
            foreign,
            self.last_seen,
            {step: len(runs) for step, runs in self.step_runs.items()},
            {edge: len(runs) for edge, runs in self.edge_runs.items()},
        )


def _where(record: RawRecord) -> str:
    """``file:line`` of a record, and for a span its trace and span id (a line holds many)."""
    where = f"{record[10]}:{record[11]}"
    if record[14]:
        where += f" (trace {record[0]} span {record[8]})"
    return where


def observe(
    flow: str | FlowGraph,
    files: Iterable[str | os.PathLike[str]],
    *,
    since: dt.datetime | str | float | None = None,
    until: dt.datetime | str | float | None = None,
    base: str | Path | None = None,
) -> ObservedFlow:
    """Read recorded runs of ``flow`` from ``files`` and count what they did.

    Args:
        flow: the flow's name, or its graph.
        files: JSON log files or OTLP JSON files (``.gz``/zstd too, container logs), or glob
            patterns; or one trace store, asked for the counts:
            ``clickhouse://USER@HOST:PORT/DATABASE?table=otel_traces`` (``clickhouses://``
            for TLS) or ``chdb:PATH``.
        since: keep only calls that started at or after this time (ISO string, datetime or
            epoch seconds; naive times are UTC).
        until: keep only calls that started before this time.
        base: the folder relative paths and globs are resolved against.

    Returns:
        The counts, with every declared step and edge.

    Raises:
        ObservedError: a file that does not exist, a glob that matches nothing, a bad time.
        FlowNotFoundError: unknown flow.
    """
    graph = get_flow(flow) if isinstance(flow, str) else flow
    store = store_of(files)
    if store is not None:
        return _from_store(graph, store, to_epoch(since, "since"), to_epoch(until, "until"))
    paths = expand(files, base)
    return tally_files(graph, paths, to_epoch(since, "since"), to_epoch(until, "until"))


def tally_files(
    graph: FlowGraph,
    paths: Sequence[Path],
    low: float | None,
    high: float | None,
    watch: tuple[Iterable[str], Iterable[tuple[str, str]]] = ((), ()),
) -> ObservedFlow:
    """`observe` of files already expanded, the window in epoch seconds.

    ``watch`` names steps and edges whose distinct runs are counted too (`Tally.watch`).
    """
    from penstock._observed.split import tally_in_two

    def new() -> Tally:
        tally = Tally(graph, low, high)
        tally.watch(*watch)
        return tally

    # The reading makes millions of small objects and no cycle: the cyclic garbage
    # collector's passes over them would only cost time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        tally = tally_in_two(new, paths)
        if tally is None:
            tally = new()
            tally.add_batches(read_batches(paths, tally.skipped, tally.block_sink()))
    finally:
        if collecting:
            gc.enable()
    if tally.deferred:
        tally.settle(read_records(paths, Skipped()))
    return tally.result([str(p) for p in paths])


def _from_store(
    graph: FlowGraph, store: StoreURL, low: float | None, high: float | None
) -> ObservedFlow:
    """The counts asked of a trace store, with the same rule applied to what it returns."""
    from penstock._observed.store import runs_of, tally_store

    counted = tally_store(store, graph.name, low, high)
    tally = Tally(graph, low, high)
    tally.skipped.update(counted.skipped)
    tally.run_count = counted.runs
    rule = tally.rule
    first: dict[tuple[str, str], tuple[int, str, str]] = {}
    deferred: set[tuple[str, str | None, str | None]] = set()
    for g in counted.groups:
        st = tally.stats.get(g.step)
        if st is None:
            st = tally.stats[g.step] = _Stats()
        st.calls += g.calls
        st.errors += g.errors
        if st.last is None or g.last > st.last:
            st.last = g.last
        buckets = st.sketch.buckets
        buckets[g.bucket] = buckets.get(g.bucket, 0) + g.calls
        st.sketch.count += g.calls
        if g.schema >= EDGE_FROM_SINCE:
            edge = None if g.edge_from is None else (g.edge_from, g.step)
        else:
            edge = rule.edge(g.step, g.parent, g.pred)
            if edge is DEFER:  # the run's tree decides: fetched below, for these runs only
                deferred.add((g.step, g.parent, g.pred))
                continue
        if edge is not None:
            tally.edges[edge] = tally.edges.get(edge, 0) + g.calls
            if g.last > tally.last_seen.get(edge, -1e300):
                tally.last_seen[edge] = g.last
            if edge not in rule.declared:
                first[edge] = min(first.get(edge, g.first), g.first)
    if deferred:
        records = runs_of(store, graph.name, low, high, sorted(deferred, key=str))
        wanted = {
            (r.correlation_id, r.span_id, r.file, r.line)
            for r in records
            if r.schema < EDGE_FROM_SINCE
            and (r.step, r.parent_step, r.predecessor) in deferred
            and (low is None or (r.start or 0.0) >= low)
            and (high is None or (r.start or 0.0) < high)
        }
        by_run: dict[str, list[Record]] = {}
        for r in records:
            by_run.setdefault(r.correlation_id, []).append(r)
        for run_records in by_run.values():
            for record, edge in rebuild_edges(rule, run_records, wanted):
                if edge is None:
                    continue
                tally.edges[edge] = tally.edges.get(edge, 0) + 1
                start = record.start
                if start is not None and start > tally.last_seen.get(edge, -1e300):
                    tally.last_seen[edge] = start
                if edge not in rule.declared and record.start is not None:
                    seen = (round(record.start * 1e9), record.correlation_id, record.span_id or "")
                    first[edge] = min(first.get(edge, seen), seen)
    where = store.display()
    for edge, (_, trace, span) in first.items():
        tally.first_seen[edge] = f"{where} (trace {trace} span {span})"
    return tally.result([where])


def _sig(value: float | None) -> float | None:
    """A duration kept to 4 significant digits (the sketch is good to 1 %)."""
    if value is None or value == 0:
        return value
    return float(f"{value:.4g}")


def _result(
    graph: FlowGraph,
    stats: dict[str, _Stats],
    edges: dict[tuple[str, str], int],
    first_seen: dict[tuple[str, str], str],
    runs: set[str] | int,
    skipped: Skipped,
    paths: Sequence[str],
    other_flows: dict[str, int],
    foreign: int,
    last_seen: dict[tuple[str, str], float],
    step_runs: dict[str, int] | None = None,
    edge_runs: dict[tuple[str, str], int] | None = None,
) -> ObservedFlow:
    step_runs = step_runs or {}
    edge_runs = edge_runs or {}
    steps: list[ObservedStep] = []
    names = [s.name for s in graph.steps]
    extra = sorted(n for n in stats if n not in graph)
    for n in [*names, *extra]:
        st = stats.get(n)
        if st is None:
            steps.append(
                ObservedStep(n, 0, 0, None, None, declared=n in graph, runs=step_runs.get(n))
            )
            continue
        steps.append(
            ObservedStep(
                n,
                st.calls,
                st.errors,
                _sig(st.sketch.quantile(0.5)),
                _sig(st.sketch.quantile(0.95)),
                declared=n in graph,
                last_seen=st.last,
                runs=step_runs.get(n),
            )
        )
    out = [
        ObservedEdge(
            e.source,
            e.target,
            True,
            edges.get((e.source, e.target), 0),
            last_seen=last_seen.get((e.source, e.target)),
            runs=edge_runs.get((e.source, e.target)),
        )
        for e in graph.edges
    ]
    out.extend(
        ObservedEdge(
            src,
            dst,
            False,
            count,
            first_seen.get((src, dst)),
            ghost=src not in graph or dst not in graph,
            last_seen=last_seen.get((src, dst)),
            runs=edge_runs.get((src, dst)),
        )
        for (src, dst), count in sorted(edges.items())
        if (src, dst) in first_seen
    )
    return ObservedFlow(
        flow=graph.name,
        runs=runs if isinstance(runs, int) else len(runs),
        skipped=dict(skipped),
        steps=tuple(steps),
        edges=tuple(out),
        files=tuple(paths),
        other_flows=dict(sorted(other_flows.items())),
        foreign_spans=foreign,
    )
