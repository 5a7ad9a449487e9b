"""Reading recorded runs back (issue 12).

Target: 1,000,000 step records (100,000 runs of a 10-step flow, as the logging backend's
``format="json"`` writes them) are read and counted by ``penstock.observe`` in under 10 s, in
flat memory (the file is streamed; what grows is one entry per distinct run). The baseline is
reading the same lines with ``json.loads`` alone, in the same process: the ratio says what
penstock adds on top of parsing.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import penstock
from penstock._declared.registry import REGISTRY

FLOW = "bench_observed"
STEPS = 10
RUNS = 100_000
LIMIT_S = 10.0
#: What penstock may add on top of json.loads of the same lines.
RATIO_LIMIT = 2.5


def declare() -> None:
    """A 10-step flow: an entrypoint calling a chain of steps, one with two branches."""
    from penstock import entrypoint, flow, step

    def make(k: int) -> None:
        def fn() -> None: ...

        fn.__name__ = fn.__qualname__ = f"s{k}"
        fn.__module__ = "bench_observed_app"
        if k == 0:
            flow(FLOW)(entrypoint(fn))
        else:
            flow(FLOW)(step(after=f"s{k - 1}" if k != 9 else "s7")(fn))

    for k in range(STEPS):
        make(k)


def write_log(path: Path, runs: int) -> int:
    """``runs`` runs as JSON log lines (one app line every 10 runs); returns the record count."""
    records = 0
    t0 = 1_790_000_000.0
    with path.open("w", encoding="utf-8") as out:
        for r in range(runs):
            cid = f"{r:032x}"
            root_span = f"{r:016x}"
            prev = None
            lines = []
            for k in range(STEPS):
                name = f"s{k}"
                parent = None if k == 0 else "s0"
                pred = None if k == 0 else (prev or "s0")
                status = "error" if (k == 5 and r % 50 == 0) else "ok"
                data = {
                    "time": "2026-09-21T10:00:00.000Z",
                    "level": "info" if status == "ok" else "error",
                    "logger": "penstock",
                    "message": f"{FLOW}.{name} {status} in 1.00 ms",
                    "flow": FLOW,
                    "step": name,
                    "correlation_id": cid,
                    "parent_step": parent,
                    "predecessor": pred,
                    "duration_ms": round(0.5 + (r * 7 + k * 13) % 97 / 10, 3),
                    "status": status,
                    "start_time": t0 + r * 0.01 + k * 0.001,
                    "span_id": f"{r:08x}{k:08x}",
                    "parent_span_id": None if k == 0 else root_span,
                    "penstock_schema": 1,
                }
                lines.append(json.dumps({k2: v for k2, v in data.items() if v is not None}))
                prev = name if k else None
                records += 1
            if r % 10 == 0:
                lines.append(json.dumps({"time": "x", "level": "info", "message": "app line"}))
            out.write("\n".join(lines) + "\n")
    return records


def _baseline(path: Path) -> float:
    start = time.perf_counter()
    loads = json.loads
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            loads(line)
    return time.perf_counter() - start


def _penstock(path: Path) -> tuple[float, penstock.ObservedFlow]:
    start = time.perf_counter()
    observed = penstock.observe(FLOW, [path])
    return time.perf_counter() - start, observed


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(quick: bool = False) -> list[dict[str, object]]:
    runs = RUNS // 10 if quick else RUNS
    saved = REGISTRY.snapshot()
    try:
        declare()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "runs.log"
            records = write_log(path, runs)
            size_mb = os.path.getsize(path) / 1e6
            gc.collect()
            _baseline(path)  # warm the page cache, the same for both
            base = min(_baseline(path) for _ in range(2))
            rss_before = _max_rss_mb()
            ours, observed = _penstock(path)
            rss_growth = _max_rss_mb() - rss_before
            ours = min(ours, _penstock(path)[0])
    finally:
        REGISTRY.restore(saved)
    assert observed.runs == runs, observed.runs
    assert sum(s.calls for s in observed.steps) == records
    ratio = ours / base
    in_time = ours <= LIMIT_S * (records / 1_000_000)
    return [
        {
            "benchmark": f"observe: {records:,} step records ({runs:,} runs) from JSON log lines",
            "baseline": "json.loads of the same lines",
            "baseline_us": base * 1e6,
            "penstock_us": ours * 1e6,
            "ratio": ratio,
            "limit": RATIO_LIMIT,
            "ok": ratio <= RATIO_LIMIT and in_time,
            "note": (
                f"{ours:.2f} s ({records / ours:,.0f} records/s; target < 10 s per million); "
                f"file {size_mb:,.0f} MB, peak memory growth {rss_growth:,.0f} MB"
            ),
        }
    ]


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
