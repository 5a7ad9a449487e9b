"""Flow coverage from recorded runs (production logs, OTLP exports), for ``penstock coverage``.

Every format ``penstock observe`` reads is read here, by the same readers, and each record's
edge is decided as ``observe`` decides it (the happens-before rule): the ``edge_from`` a record
of layout 2 carries, else `penstock._observed.rule.EdgeRule` on its caller and predecessor, else,
when only the run's tree can tell, `penstock._observed.rule.rebuild_edges` over the run's
records (the files are read a second time for those runs only). A run is a correlation ID; a
record read twice (at-least-once delivery) changes nothing, since coverage only asks whether
something happened.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from penstock._coverage.hits import Hits
from penstock._graph.model import FlowGraph
from penstock._observed.files import expand
from penstock._observed.record import EDGE_FROM_SINCE, Record, Skipped
from penstock._observed.rule import DEFER, EdgeRule, rebuild_edges
from penstock._observed.source import read_records

__all__ = ["RecordedHits", "hits_from_files"]


class RecordedHits:
    """What the files showed: the runs, plus what was left out.

    Attributes:
        hits: the distinct runs per declared flow.
        records: step records of the declared flows read.
        other_flows: records of flows the code does not declare, by flow name.
        skipped: input that was not a step record, by reason.
        files: the files read.
    """

    def __init__(
        self,
        hits: Hits,
        records: int,
        other_flows: Counter[str],
        skipped: Skipped,
        files: list[Path],
    ) -> None:
        self.hits = hits
        self.records = records
        self.other_flows = other_flows
        self.skipped = skipped
        self.files = files


def hits_from_files(
    graphs: Mapping[str, FlowGraph],
    files: Iterable[str | os.PathLike[str]],
    *,
    base: str | Path | None = None,
) -> RecordedHits:
    """Read ``files`` (globs allowed) and reduce the runs of the flows in ``graphs``.

    Raises:
        ObservedError: a file that does not exist, a glob that matches nothing.
    """
    paths = expand(files, base)
    skipped = Skipped()
    rules = {name: EdgeRule(g) for name, g in graphs.items()}
    runs: dict[tuple[str, str], tuple[set[str], set[tuple[str, str]]]] = {}
    other: Counter[str] = Counter()
    records = 0
    #: (run, span id, file, line) of older records whose edge only their run's tree decides.
    deferred: dict[str, set[tuple[str, str | None, str, int]]] = {}
    for record in read_records(paths, skipped):
        cid, flow, step, parent, pred = record[0], record[1], record[2], record[3], record[4]
        rule = rules.get(flow) if flow is not None else None
        if rule is None or flow is None:
            other[flow or "(no flow)"] += 1
            continue
        records += 1
        steps, edges = runs.setdefault((cid, flow), (set(), set()))
        if step in rule.names:
            steps.add(step)
        if record[13] >= EDGE_FROM_SINCE:
            source = record[12]
            edge = None if source is None else (source, step)
        else:
            edge = rule.edge(step, parent, pred)
            if edge is DEFER:
                deferred.setdefault(flow, set()).add((cid, record[8], record[10], record[11]))
                continue
        if edge is not None and edge in rule.declared:
            edges.add(edge)
    if deferred:
        _settle(rules, deferred, runs, paths)
    hits = Hits()
    for (_, flow), (steps, edges) in runs.items():
        hits.add(flow, steps, edges)
    return RecordedHits(hits, records, other, skipped, paths)


def _settle(
    rules: Mapping[str, EdgeRule],
    deferred: dict[str, set[tuple[str, str | None, str, int]]],
    runs: dict[tuple[str, str], tuple[set[str], set[tuple[str, str]]]],
    paths: list[Path],
) -> None:
    """Decide the deferred edges from all the records of their runs (as observe settles)."""
    wanted_runs = {key[0] for keys in deferred.values() for key in keys}
    by_run: dict[tuple[str, str], list[Record]] = {}
    seen: set[tuple[str, str]] = set()
    for raw in read_records(paths, Skipped()):
        cid, flow = raw[0], raw[1]
        if flow not in deferred or cid not in wanted_runs:
            continue
        span_id = raw[8]
        if span_id is not None:
            if (cid, span_id) in seen:
                continue
            seen.add((cid, span_id))
        by_run.setdefault((cid, flow), []).append(Record(*raw))
    for (cid, flow), run_records in by_run.items():
        rule = rules[flow]
        edges = runs[(cid, flow)][1]
        for _, edge in rebuild_edges(rule, run_records, deferred[flow]):
            if edge is not None and edge in rule.declared:
                edges.add(edge)
