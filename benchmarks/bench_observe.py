"""Reading recorded runs back (issues 12 and 20).

Row 1, "observe 1M JSON records vs DuckDB read_json": 1,000,000 step records (100,000 runs of
a 10-step flow, as the logging backend's ``format="json"`` writes them) counted per step
(calls, errors, p50/p95) and per edge by ``penstock.observe``, against what a user would
reach for instead: DuckDB's ``read_json`` with a query computing the same counts (DuckDB is a
bench-only dependency, the ``bench`` extra; the row is skipped without it). The goal is a
ratio of 1.0. Peak memory of a fresh process doing each is measured too (goal: penstock
under 150 MB).

Row 2, "observe 200k OTLP spans vs json.loads": 200,000 of the same calls as OTLP JSON spans
(the Collector's file exporter layout, 50 spans and a foreign span per line), against parsing
the same lines with ``json.loads`` alone. Goal 1.0.

Row 3, "replay one run of 100,000 records": ``penstock observe --run`` (`replay_run`) of a
single run of 100,000 calls (a root and its children), against ``json.loads`` of the same
lines. Goal: under 2 s (the ratio is given for scale).

penstock reads an input this large on two cores (the second half in a forked process):
peak memory is given for both processes. Whether the compiled scanner counted the lines is
said in the note.

Each side runs ``ROUNDS`` times, alternated; the row gives the median, the note the spread.
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import penstock
from penstock._declared.registry import REGISTRY

FLOW = "bench_observed"
STEPS = 10
RUNS = 100_000
LIMIT_S = 10.0
#: What penstock may add on top of json.loads of the same lines.
RATIO_LIMIT = 2.5
#: OTLP JSON against json.loads of the same lines: the goal, 1.0 (json.loads alone does not
#: unwrap each span's typed attributes, which penstock does).
OTLP_RATIO_LIMIT = 1.0
#: Against DuckDB: the goal, 1.0. The plain step lines are counted by the compiled scanner
#: (penstock/_observed/_scan.c); without it (a pure wheel) this row measures about 1.7.
DUCKDB_RATIO_LIMIT = 1.0
ROUNDS = 5
#: DuckDB's query: the same per-step and per-edge counts (and runs) as penstock observe.
DUCKDB_SQL = """
WITH r AS (
  SELECT * FROM read_json(?, format = 'newline_delimited', ignore_errors = true, columns = {
    flow: 'VARCHAR', step: 'VARCHAR', correlation_id: 'VARCHAR', status: 'VARCHAR',
    duration_ms: 'DOUBLE', edge_from: 'VARCHAR', span_id: 'VARCHAR'})
  WHERE flow = ? AND step IS NOT NULL AND duration_ms IS NOT NULL
)
SELECT edge_from, step, count(*) AS calls,
       count(*) FILTER (WHERE status = 'error') AS errors,
       approx_quantile(duration_ms, 0.5) AS p50, approx_quantile(duration_ms, 0.95) AS p95,
       count(DISTINCT correlation_id) AS runs
FROM r GROUP BY GROUPING SETS ((step), (edge_from, step), ())
"""


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
            cid = f"{r + 1:032x}"
            root_span = f"{r + 1:08x}{0:08x}"
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
                    "span_id": f"{r + 1:08x}{k:08x}",
                    "parent_span_id": None if k == 0 else root_span,
                    "edge_from": None if k == 0 else ("s7" if k == 9 else f"s{k - 1}"),
                    "penstock_schema": 2,
                }
                lines.append(json.dumps({k2: v for k2, v in data.items() if v is not None}))
                prev = name if k else None
                records += 1
            if r % 10 == 0:
                lines.append(json.dumps({"time": "x", "level": "info", "message": "app line"}))
            out.write("\n".join(lines) + "\n")
    return records


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def write_otlp(path: Path, runs: int, per_line: int = 50) -> int:
    """The same runs as OTLP JSON spans (the Collector's file exporter layout), 50 per line,
    with a foreign span per run; returns the penstock span count."""
    spans_out = 0
    t0 = 1_790_000_000_000_000_000
    batch: list[dict[str, object]] = []

    def flush() -> None:
        doc = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [_attr("service.name", "bench")]},
                    "scopeSpans": [{"scope": {"name": "penstock"}, "spans": list(batch)}],
                }
            ]
        }
        out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        batch.clear()

    with path.open("w", encoding="utf-8") as out:
        for r in range(runs):
            trace_id = f"{r + 1:032x}"
            prev = None
            for k in range(STEPS):
                name = f"s{k}"
                attrs = [
                    _attr("penstock.step", name),
                    _attr("penstock.entrypoint", k == 0),
                    _attr("penstock.schema", 2),
                    _attr("penstock.flow", FLOW),
                    _attr("code.function", name),
                    _attr("code.namespace", "bench_observed_app"),
                    _attr("code.filepath", "/srv/app/bench_observed_app.py"),
                    _attr("code.lineno", 10 + k),
                ]
                if k:
                    attrs.append(_attr("penstock.parent_step", "s0"))
                    attrs.append(_attr("penstock.predecessor", prev or "s0"))
                    attrs.append(_attr("penstock.edge_from", "s7" if k == 9 else f"s{k - 1}"))
                start = t0 + r * 10_000_000 + k * 1_000_000
                span: dict[str, object] = {
                    "traceId": trace_id,
                    "spanId": f"{r + 1:08x}{k:08x}",
                    "name": f"{FLOW}.{name}",
                    "kind": 1,
                    "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(start + 500_000 + (r * 7 + k * 13) % 97 * 10_000),
                    "attributes": attrs,
                    "status": {"code": 2} if (k == 5 and r % 50 == 0) else {},
                }
                if k:
                    span["parentSpanId"] = f"{r + 1:08x}{0:08x}"
                batch.append(span)
                prev = name if k else None
                spans_out += 1
            batch.append({"traceId": trace_id, "spanId": f"{r + 1:08x}ffffffff", "name": "GET /"})
            if len(batch) >= per_line:
                flush()
        if batch:
            flush()
    return spans_out


def _cpu_s() -> float:
    """CPU seconds of this process (all its threads) and of its finished children: on a
    loaded machine a second process shows in wall time only when a core is free."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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


_CHILD = """
import sys
sys.path.insert(0, {root!r})
import penstock
from benchmarks import bench_observe
bench_observe.declare()
penstock.observe(bench_observe.FLOW, [{path!r}])
import resource
print(bench_observe.high_water_mb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def high_water_mb() -> float:
    """This process's peak resident memory (MB).

    ``VmHWM`` is reset by ``exec``, unlike ``ru_maxrss``, which a child inherits from the
    process that forked it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss_mb(path: Path) -> float:
    """Peak memory (MB) of a fresh process that reads ``path``."""
    return _peak_rss_both(path)[0]


def _peak_rss_both(path: Path) -> tuple[float, float]:
    """Peak memory (MB) of a fresh process that reads ``path``, and of its forked helper
    (0 when it read alone)."""
    code = _CHILD.format(root=str(Path(__file__).resolve().parents[1]), path=str(path))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    mine, helper = done.stdout.strip().splitlines()[-1].split()
    return float(mine), float(helper)


def run(quick: bool = False) -> list[dict[str, object]]:
    runs = RUNS // 10 if quick else RUNS
    rows = [_duckdb_row(runs)]
    # OTLP spans are about twice the bytes of a log line: json.loads alone takes most of
    # the 10 s per million there, so this row is held to the ratio only.
    rows.append(_row("OTLP JSON", runs // 5, write_otlp, timed=False, limit=OTLP_RATIO_LIMIT))
    rows.append(_replay_row(REPLAY_RECORDS // 10 if quick else REPLAY_RECORDS))
    return rows


#: The calls of the one run the replay row reads.
REPLAY_RECORDS = 100_000
#: The replay goal: one run of 100,000 records in under 2 s.
REPLAY_LIMIT_S = 2.0


def write_one_run(path: Path, records: int) -> str:
    """One run of ``records`` calls: the root, then children cycling through the steps, as
    the logging backend writes them; returns the run's id."""
    cid = "4bf92f3577b34da6a3ce929d0e0e4736"
    root = "f" * 16
    t0 = 1_790_000_000.0
    first = {
        "flow": FLOW, "step": "s0", "correlation_id": cid, "duration_ms": 1e5, "status": "ok",
        "span_id": root, "start_time": t0, "penstock_schema": 2,
    }  # fmt: skip
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(first) + "\n")
        pred = "s0"
        for i in range(1, records):
            k = 1 + (i - 1) % (STEPS - 1)
            name = f"s{k}"
            data = {
                "time": "2026-09-21T10:00:00.000Z", "level": "info", "logger": "penstock",
                "message": f"{FLOW}.{name} ok in 0.50 ms", "flow": FLOW, "step": name,
                "correlation_id": cid, "parent_step": "s0", "predecessor": pred,
                "edge_from": "s7" if k == 9 else f"s{k - 1}", "duration_ms": 0.5,
                "status": "ok", "start_time": t0 + i / 1000, "span_id": f"{i:016x}",
                "parent_span_id": root, "penstock_schema": 2,
            }  # fmt: skip
            out.write(json.dumps(data) + "\n")
            pred = name
    return cid


def _replay_row(records: int) -> dict[str, object]:
    from penstock._observed.replay import replay_run

    saved = REGISTRY.snapshot()
    try:
        declare()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "run.jsonl"
            cid = write_one_run(path, records)
            size_mb = os.path.getsize(path) / 1e6
            _baseline(path)  # warm the page cache, the same for both
            bases, ours_all = [], []
            for _ in range(ROUNDS):
                bases.append(_baseline(path))
                start = time.perf_counter()
                replay = replay_run(FLOW, [path], cid)
                ours_all.append(time.perf_counter() - start)
    finally:
        REGISTRY.restore(saved)
    assert len(replay.steps) == records, len(replay.steps)
    base, ours = statistics.median(bases), statistics.median(ours_all)
    limit_s = REPLAY_LIMIT_S * records / REPLAY_RECORDS
    return {
        "benchmark": f"replay one run of {records:,} records (--run)",
        "baseline": "json.loads of the same lines",
        "baseline_us": base * 1e6,
        "penstock_us": ours * 1e6,
        "ratio": ours / base,
        "limit": math.nan,
        "ok": ours < limit_s,
        "note": (
            f"{ROUNDS} rounds alternated; penstock {_spread(ours_all)}, json.loads "
            f"{_spread(bases)}; goal < {limit_s:g} s ({REPLAY_LIMIT_S:g} s per 100,000 "
            f"records); file {size_mb:,.0f} MB"
        ),
    }


def _duckdb(path: Path) -> tuple[float, list[tuple[object, ...]]]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        found = con.execute(DUCKDB_SQL, [str(path), FLOW]).fetchall()
    finally:
        con.close()
    return time.perf_counter() - start, found


_DUCKDB_CHILD = """
import sys
sys.path.insert(0, {root!r})
from benchmarks import bench_observe
bench_observe._duckdb(__import__("pathlib").Path({path!r}))
print(bench_observe.high_water_mb())
"""


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s, {min(values):.2f}-{max(values):.2f} s"


def _duckdb_row(runs: int) -> dict[str, object]:
    name = f"observe {runs * STEPS // 1000:,}k JSON records vs DuckDB read_json"
    if runs * STEPS >= 1_000_000:
        name = f"observe {runs * STEPS // 1_000_000:,}M JSON records vs DuckDB read_json"
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return {
            "benchmark": name,
            "baseline": "DuckDB read_json, the same counts",
            "baseline_us": math.nan,
            "penstock_us": math.nan,
            "ratio": math.nan,
            "limit": DUCKDB_RATIO_LIMIT,
            "ok": True,
            "note": "skipped: duckdb is not installed (pip install 'penstock[bench]')",
        }
    saved = REGISTRY.snapshot()
    try:
        declare()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "runs.jsonl"
            records = write_log(path, runs)
            size_mb = os.path.getsize(path) / 1e6
            gc.collect()
            _baseline(path)  # warm the page cache, the same for both
            theirs, ours = [], []
            cpu_theirs, cpu_ours = [], []
            for _ in range(ROUNDS):
                before = _cpu_s()
                took, found = _duckdb(path)
                cpu_theirs.append(_cpu_s() - before)
                theirs.append(took)
                before = _cpu_s()
                took, observed = _penstock(path)
                cpu_ours.append(_cpu_s() - before)
                ours.append(took)
                print(f"round: duckdb {theirs[-1]:.2f} s, penstock {took:.2f} s", file=sys.stderr)
            root = str(Path(__file__).resolve().parents[1])
            penstock_mb, helper_mb = _peak_rss_both(path)
            duckdb_mb = float(
                subprocess.run(
                    [sys.executable, "-c", _DUCKDB_CHILD.format(root=root, path=str(path))],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=600,
                ).stdout.split()[-1]
            )
    finally:
        REGISTRY.restore(saved)
    # Both computed the same counts.
    assert observed.runs == runs, observed.runs
    assert sum(s.calls for s in observed.steps) == records
    by_step = {row[1]: row[2] for row in found if row[0] is None and row[1] is not None}
    assert by_step == {s.name: s.calls for s in observed.steps if s.calls}, by_step
    by_edge = {(row[0], row[1]): row[2] for row in found if row[0] is not None}
    assert by_edge == {(e.source, e.target): e.count for e in observed.edges if e.count}
    base, mine = statistics.median(theirs), statistics.median(ours)
    ratio = mine / base
    return {
        "benchmark": name,
        "baseline": "DuckDB read_json + GROUP BY, the same per-step and per-edge counts",
        "baseline_us": base * 1e6,
        "penstock_us": mine * 1e6,
        "ratio": ratio,
        "limit": DUCKDB_RATIO_LIMIT,
        "ok": ratio <= DUCKDB_RATIO_LIMIT and penstock_mb < 150 and helper_mb < 150,
        "note": (
            f"{ROUNDS} rounds alternated; penstock {_spread(ours)}, DuckDB {_spread(theirs)}; "
            f"file {size_mb:,.0f} MB; peak memory of a fresh process: penstock "
            f"{penstock_mb:,.0f} MB and {helper_mb:,.0f} MB in its second process (goal < 150 "
            f"each), DuckDB {duckdb_mb:,.0f} MB; goal ratio 1.0; CPU time (all threads and "
            f"processes, median): penstock {statistics.median(cpu_ours):.2f} s, DuckDB "
            f"{statistics.median(cpu_theirs):.2f} s; compiled scanner: "
            + ("used" if _scanner() else "not built (pure wheel)")
        ),
    }


def _scanner() -> bool:
    from penstock._observed.fast import compiled_scan

    return compiled_scan() is not None


def _row(
    kind: str,
    runs: int,
    write: Callable[[Path, int], int],
    *,
    timed: bool,
    limit: float = RATIO_LIMIT,
) -> dict[str, object]:
    saved = REGISTRY.snapshot()
    try:
        declare()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "runs.jsonl"
            records = write(path, runs)
            size_mb = os.path.getsize(path) / 1e6
            gc.collect()
            _baseline(path)  # warm the page cache, the same for both
            # Alternated: a machine whose load swings affects both alike.
            bases, ours_all = [], []
            cpu_bases, cpu_ours = [], []
            for _ in range(ROUNDS):
                before = _cpu_s()
                bases.append(_baseline(path))
                cpu_bases.append(_cpu_s() - before)
                before = _cpu_s()
                took, observed = _penstock(path)
                cpu_ours.append(_cpu_s() - before)
                ours_all.append(took)
            base, ours = statistics.median(bases), statistics.median(ours_all)
            # Against a file of 1 % of the runs: what is left is what grows with the input.
            small = Path(folder) / "small.jsonl"
            write(small, max(runs // 100, 1))
            rss_growth = _peak_rss_mb(path) - _peak_rss_mb(small)
    finally:
        REGISTRY.restore(saved)
    assert observed.runs == runs, observed.runs
    assert sum(s.calls for s in observed.steps) == records
    ratio = ours / base
    in_time = not timed or ours <= LIMIT_S * (records / 1_000_000)
    count = f"{records // 1000:,}k" if records < 1_000_000 else f"{records // 1_000_000:,}M"
    return {
        "benchmark": f"observe {count} OTLP spans vs json.loads"
        if kind == "OTLP JSON"
        else f"observe: {records:,} step records ({runs:,} runs) from {kind}",
        "baseline": "json.loads of the same lines",
        "baseline_us": base * 1e6,
        "penstock_us": ours * 1e6,
        "ratio": ratio,
        "limit": limit,
        "ok": ratio <= limit and in_time,
        "note": (
            f"{ROUNDS} rounds alternated; penstock {_spread(ours_all)}, json.loads "
            f"{_spread(bases)}; goal ratio 1.0; "
            f"{ours:.2f} s ({records / ours:,.0f} records/s"
            + ("; target < 10 s per million); " if timed else "); ")
            + f"file {size_mb:,.0f} MB; a fresh process reading it peaks {rss_growth:,.1f} MB "
            "above one reading 1 % of it (one entry per run, not per line); CPU time (both "
            f"processes, median): penstock {statistics.median(cpu_ours):.2f} s, json.loads "
            f"{statistics.median(cpu_bases):.2f} s"
        ),
    }


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
