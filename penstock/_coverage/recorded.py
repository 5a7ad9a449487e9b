"""Flow coverage from recorded runs (production logs, OTLP exports), for ``penstock coverage``.

Every format ``penstock observe`` reads is read here, by the same readers, and each record's
edge comes from the same rule (`penstock._observed.rule.EdgeRule`), so coverage and observe
agree. A run is a correlation ID; a record read twice (at-least-once delivery) changes nothing,
since coverage only asks whether something happened.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from penstock._coverage.hits import Hits
from penstock._graph.model import FlowGraph
from penstock._observed.files import expand
from penstock._observed.record import Skipped
from penstock._observed.rule import EdgeRule
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
        edge = rule.edge(step, parent, pred)
        if edge is not None and edge in rule.declared:
            edges.add(edge)
    hits = Hits()
    for (_, flow), (steps, edges) in runs.items():
        hits.add(flow, steps, edges)
    return RecordedHits(hits, records, other, skipped, paths)
