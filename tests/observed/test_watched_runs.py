"""Distinct runs per step and edge, for the few a caller watches (a diff's changes).

The expected sets are made straight from the records; the tally must agree read in one pass,
cut over two processes, and within a time window.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from penstock._graph.model import get_flow
from penstock._observed.split import tally_in_two
from penstock._observed.tally import Tally, tally_files
from tests.observed import shop


def _records(log: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in log.read_text().splitlines()
        if line.startswith("{") and '"duration_ms"' in line
    ]


def _copies(path: Path, records: list[dict[str, Any]], copies: int) -> list[dict[str, Any]]:
    """``copies`` of the records, each copy a run of its own (its own run and span ids)."""
    out = []
    with path.open("w") as stream:
        for copy in range(copies):
            for record in records:
                again = {
                    **record,
                    "correlation_id": f"{record['correlation_id']}-{copy}",
                    "span_id": f"{copy:08x}{record['span_id'][8:]}",
                }
                out.append(again)
                stream.write(json.dumps(again) + "\n")
    return out


def _expected(
    records: list[dict[str, Any]], low: float | None = None
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    steps: dict[str, set[str]] = defaultdict(set)
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in records:
        if low is not None and r["start_time"] < low:
            continue
        steps[r["step"]].add(r["correlation_id"])
        if r.get("edge_from"):
            edges[(r["edge_from"], r["step"])].add(r["correlation_id"])
    return {k: len(v) for k, v in steps.items()}, {k: len(v) for k, v in edges.items()}


@pytest.mark.parametrize("cores", [1, 2])
def test_runs_of_watched_steps_and_edges(json_log: Path, tmp_path: Path, cores: int) -> None:
    """Every watched step and edge says how many distinct runs it saw; the others say None;
    a record read twice (a file given twice) changes no count of runs."""
    path = tmp_path / "runs.log"
    records = _copies(path, _records(json_log), 40)
    graph = get_flow(shop.FLOW)
    steps, edges = _expected(records)
    assert len(steps) >= 3
    assert edges
    watched_steps = sorted(steps)[:2]
    watched_edges = sorted(edges)[:2]
    watch = (watched_steps, watched_edges)
    if cores == 2:

        def new() -> Tally:
            tally = Tally(graph)
            tally.watch(*watch)
            return tally

        tally = tally_in_two(new, [path, path], force=True)
        assert tally is None  # the same calls in both halves: read in one pass instead
        tally = tally_in_two(new, [path], force=True)
        assert tally is not None
        result = tally.result([str(path)])
    else:
        result = tally_files(graph, [path, path], None, None, watch)
    for step in result.steps:
        want = steps.get(step.name, 0) if step.name in watched_steps else None
        assert step.runs == want, step
    for edge in result.edges:
        key = (edge.source, edge.target)
        assert edge.runs == (edges.get(key, 0) if key in watched_edges else None), edge


def test_runs_within_the_window(json_log: Path, tmp_path: Path) -> None:
    """Runs are counted from the calls inside since/until only."""
    path = tmp_path / "runs.log"
    records = _copies(path, _records(json_log), 5)
    starts = sorted(r["start_time"] for r in records)
    low = starts[len(starts) // 2]
    steps, edges = _expected(records, low)
    graph = get_flow(shop.FLOW)
    result = tally_files(graph, [path], low, None, (list(steps), list(edges)))
    assert {s.name: s.runs for s in result.steps if s.runs} == {k: v for k, v in steps.items() if v}
    assert {(e.source, e.target): e.runs for e in result.edges if e.runs} == edges
