"""Tally recorded runs of one flow: calls, errors and percentiles per step, counts per edge."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import ceil, log
from pathlib import Path
from typing import Any

from penstock._graph.model import FlowGraph, get_flow
from penstock._observed.files import expand
from penstock._observed.record import Skipped
from penstock._observed.rule import EdgeRule
from penstock._observed.sketch import INV_LOG_GAMMA, TINY, TINY_BUCKET, Sketch
from penstock._observed.source import read_records
from penstock._observed.store_url import StoreURL, store_of

__all__ = ["ObservedEdge", "ObservedFlow", "ObservedStep", "observe", "to_epoch"]


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
    """

    name: str
    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    declared: bool = True

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
    """

    source: str
    target: str
    declared: bool
    count: int
    seen_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The edge as in ``penstock observe --format json``."""
        return {
            "from": self.source,
            "to": self.target,
            "declared": self.declared,
            "count": self.count,
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
        }


class _Stats:
    __slots__ = ("calls", "errors", "sketch")

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
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
        files: JSON log files or OTLP JSON files (``.gz`` too), or glob patterns; or one
            trace store: ``clickhouse://USER@HOST:PORT/DATABASE?table=otel_traces``
            (``clickhouses://`` for TLS) or ``chdb:PATH``, asked for the counts.
        since: keep only calls that started at or after this time (ISO string, datetime or
            epoch seconds; naive times are UTC).
        until: keep only calls that started before this time.
        base: the folder relative paths and globs are resolved against.

    Returns:
        The counts, with every declared step and edge.

    Raises:
        ObservedError: a file that does not exist, a glob that matches nothing, a bad time,
            a store that cannot be asked (`penstock._observed.store_conn.StoreError`).
        FlowNotFoundError: unknown flow.
    """
    graph = get_flow(flow) if isinstance(flow, str) else flow
    low = to_epoch(since, "since")
    high = to_epoch(until, "until")
    store = store_of(files)
    if store is not None:
        return _from_store(graph, store, low, high)
    paths = expand(files, base)
    name = graph.name
    rule = EdgeRule(graph)
    edge_of = rule.edge
    declared = rule.declared
    skipped = Skipped()
    stats: dict[str, _Stats] = {}
    edges: dict[tuple[str, str], int] = {}
    first_seen: dict[tuple[str, str], str] = {}
    runs: set[str] = set()
    windowed = low is not None or high is not None
    inv_log_gamma, tiny, tiny_bucket = INV_LOG_GAMMA, TINY, TINY_BUCKET
    for record in read_records(paths, skipped):
        cid, rflow, step, parent, pred, duration, status, start, _, _, file, line = record
        if rflow != name:
            skipped["other flow"] += 1
            continue
        if windowed:
            if start is None:
                skipped["no start_time (needed by since/until)"] += 1
                continue
            if (low is not None and start < low) or (high is not None and start >= high):
                skipped["outside since/until"] += 1
                continue
        runs.add(cid)
        st = stats.get(step)
        if st is None:
            st = stats[step] = _Stats()
        st.calls += 1
        if status == "error":
            st.errors += 1
        # Sketch.add, inlined: this loop runs once per record.
        sketch = st.sketch
        bucket = ceil(log(duration) * inv_log_gamma) if duration > tiny else tiny_bucket
        buckets = sketch.buckets
        buckets[bucket] = buckets.get(bucket, 0) + 1
        sketch.count += 1
        edge = edge_of(step, parent, pred)
        if edge is not None:
            edges[edge] = edges.get(edge, 0) + 1
            if edge not in declared and edge not in first_seen:
                first_seen[edge] = f"{file}:{line}"
    return _result(graph, stats, edges, first_seen, len(runs), skipped, [str(p) for p in paths])


def _from_store(
    graph: FlowGraph, store: StoreURL, low: float | None, high: float | None
) -> ObservedFlow:
    """The counts asked of a trace store; the edge rule applied to what it returns."""
    from penstock._observed.store import tally_store

    rule = EdgeRule(graph)
    counted = tally_store(store, graph.name, low, high)
    stats: dict[str, _Stats] = {}
    edges: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for g in counted.groups:
        st = stats.get(g.step)
        if st is None:
            st = stats[g.step] = _Stats()
        st.calls += g.calls
        st.errors += g.errors
        buckets = st.sketch.buckets
        buckets[g.bucket] = buckets.get(g.bucket, 0) + g.calls
        st.sketch.count += g.calls
        edge = rule.edge(g.step, g.parent, g.pred)
        if edge is not None:
            edges[edge] = edges.get(edge, 0) + g.calls
            seen = counted.first_seen.get((g.step, g.parent, g.pred))
            if edge not in rule.declared and seen is not None:
                first[edge] = min(first.get(edge, seen), seen)
    first_seen = {edge: where for edge, (_, where) in first.items()}
    for edge in edges:  # a drift whose first span the store could not name
        if edge not in rule.declared:
            first_seen.setdefault(edge, store.display())
    return _result(
        graph, stats, edges, first_seen, counted.runs, counted.skipped, [store.display()]
    )


def _result(
    graph: FlowGraph,
    stats: dict[str, _Stats],
    edges: dict[tuple[str, str], int],
    first_seen: dict[tuple[str, str], str],
    runs: int,
    skipped: Skipped,
    sources: list[str],
) -> ObservedFlow:
    steps: list[ObservedStep] = []
    names = [s.name for s in graph.steps]
    extra = sorted(n for n in stats if n not in graph)
    for n in [*names, *extra]:
        st = stats.get(n)
        if st is None:
            steps.append(ObservedStep(n, 0, 0, None, None, declared=n in graph))
            continue
        p50, p95 = st.sketch.quantile(0.5), st.sketch.quantile(0.95)
        steps.append(
            ObservedStep(
                n,
                st.calls,
                st.errors,
                None if p50 is None else round(p50, 3),
                None if p95 is None else round(p95, 3),
                declared=n in graph,
            )
        )
    out = [
        ObservedEdge(e.source, e.target, True, edges.get((e.source, e.target), 0))
        for e in graph.edges
    ]
    out.extend(
        ObservedEdge(src, dst, False, count, first_seen.get((src, dst)))
        for (src, dst), count in sorted(edges.items())
        if (src, dst) in first_seen
    )
    return ObservedFlow(
        flow=graph.name,
        runs=runs,
        skipped=dict(skipped),
        steps=tuple(steps),
        edges=tuple(out),
        files=tuple(sources),
    )
