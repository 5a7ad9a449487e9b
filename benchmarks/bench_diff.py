"""Comparing two dumps of 10,000 flows (issue 23).

Target: the work of ``penstock diff OLD.json NEW.json`` — reading both dumps, checking them
(nesting, schema, what the schema cannot say), comparing, writing the text report — takes
under 5 s for two dumps of 10,000 flows of 6 steps, where 1 flow in 10 changed (a step added,
one removed, one moved to another flow, a condition changed). And it grows linearly: 4 times
the flows costs at most 6 times the time (the old move search was quadratic: 31 s for 4,000
flows). The JSON report's extra cost is given in the note.

Times are CPU time of this process (``time.process_time``): on a machine shared with other
jobs, wall-clock time measures the neighbours; the diff itself is single-threaded.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from penstock._graph.compare import compare
from penstock._graph.dump import dump_text, read_dump_document
from penstock._render.diff_report import format_json, format_text

BUDGET_S = 5.0
GROWTH_LIMIT = 6.0


def _step(flow: int, name: str, module: int | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "entrypoint" if name == "start" else "step",
        "module": f"app.m{flow if module is None else module}",
        "qualname": name,
        "file": f"app/m{flow}.py",
        "line": 1,
        "doc": f"Step {name} of flow {flow}.",
        "transport": None,
    }


def _flow(i: int, n: int, changed: bool) -> dict[str, Any]:
    names = ["start", "a", "b", "c", "d", f"moved{i}"]
    steps = [_step(i, s) for s in names]
    edges = [(names[k], names[k + 1], None) for k in range(len(names) - 1)]
    if changed:
        # d removed, e added, moved{i} left for the next flow, moved{i-1} came in, a condition.
        steps = [s for s in steps if s["name"] not in ("d", f"moved{i}")]
        j = (i - 10) % n
        steps += [_step(i, "e"), _step(j, f"moved{j}")]
        edges = [("start", "a", "new"), ("a", "b", None), ("b", "c", None), ("c", "e", None)]
        edges.append(("e", f"moved{j}", None))
    return {
        "schema": "penstock.flow",
        "version": 2,
        "flow": f"flow{i:05d}",
        "entrypoints": ["start"],
        "steps": steps,
        "edges": [{"source": a, "target": b, "when": w} for a, b, w in edges],
    }


def dumps(n: int) -> tuple[str, str]:
    old = [_flow(i, n, False) for i in range(n)]
    new = [_flow(i, n, i % 10 == 0) for i in range(n)]
    doc = {"schema": "penstock.flows", "version": 1}
    return dump_text({**doc, "flows": old}), dump_text({**doc, "flows": new})


def once(old: str, new: str) -> tuple[float, float]:
    """CPU seconds of the text report, then of the JSON report of the same comparison."""
    gc.collect()
    start = time.process_time()
    a = read_dump_document(old, "old.json")
    b = read_dump_document(new, "new.json")
    diff = compare(a.flows, b.flows, old_label="old.json", new_label="new.json")
    format_text(diff)
    middle = time.process_time()
    format_json(diff)
    return middle - start, time.process_time() - middle


def run(quick: bool = False) -> list[dict[str, object]]:
    repeats = 1 if quick else 5
    big, small = dumps(10_000), dumps(2_500)
    once(*small)  # warm-up: the schema validators are compiled once per process
    times: dict[str, list[float]] = {"big": [], "small": [], "json": []}
    for _ in range(repeats):  # interleaved: a busy moment hits both sizes alike
        times["small"].append(once(*small)[0])
        text_s, json_s = once(*big)
        times["big"].append(text_s)
        times["json"].append(json_s)
    big_s, small_s = statistics.median(times["big"]), statistics.median(times["small"])
    json_s = statistics.median(times["json"])
    spread = (max(times["big"]) - min(times["big"])) / big_s if big_s else 0.0
    growth = big_s / small_s
    size_mb = (len(big[0]) + len(big[1])) / 1e6
    return [
        {
            "benchmark": "diff of two 10,000-flow dumps: read + check + compare + text report",
            "baseline": f"budget: {BUDGET_S:g} s",
            "baseline_us": BUDGET_S * 1e6,
            "penstock_us": big_s * 1e6,
            "ratio": big_s / BUDGET_S,
            "limit": 1.0,
            "ok": big_s <= BUDGET_S,
            "note": (
                f"CPU time, median of {repeats}, spread {spread:.0%}; {size_mb:.0f} MB of dumps, "
                "1,000 flows changed (moves, removals, additions, conditions); the JSON report "
                f"adds {json_s:.2f} s"
            ),
        },
        {
            "benchmark": "diff growth: time(10,000 flows) / time(2,500 flows)",
            "baseline": "2,500 flows",
            "baseline_us": small_s * 1e6,
            "penstock_us": big_s * 1e6,
            "ratio": growth,
            "limit": GROWTH_LIMIT,
            "ok": growth <= GROWTH_LIMIT,
            "note": f"CPU time, median of {repeats}, interleaved; linear: 4, quadratic: 16",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
