"""The observed overlay asked of a ClickHouse trace store (issue 25).

Target: the counts for 10,000,000 penstock spans in an ``otel_traces`` table (the Collector's
ClickHouse exporter's schema, in chDB on this machine) in under 5 s, and at least 10 times
faster than ``penstock observe`` reading the same spans as OTLP JSON files. The spans are
made inside chDB with one ``INSERT ... SELECT`` (the bench flow of ``bench_observe``: 10 steps
per run, the current record layout with ``penstock.edge_from``). Writing 10 million spans as
OTLP JSON (about 8 GB) is not practical here: the file baseline reads a sample of the same
spans, exported from the table to OTLP JSON lines (50 spans a line, as the Collector's file
exporter writes them), and is scaled to the table's size (the file reader is linear: one pass,
memory flat).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import penstock
from benchmarks import bench_observe
from penstock._declared.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DDL = ROOT / "tests" / "observed" / "clickhouse" / "otel_traces.sql"
SPANS = 10_000_000
SAMPLE = 200_000
LIMIT_S = 5.0
#: penstock asking the store may take at most this share of reading the files.
RATIO_LIMIT = 0.1

_GENERATE = """
INSERT INTO otel.otel_traces
    (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, ScopeName,
     SpanAttributes, Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(toInt64(1790000000000000000 + r * 10000000 + k * 1000000)),
    leftPad(lower(hex(r)), 32, '0'),
    concat(leftPad(lower(hex(r)), 8, '0'), leftPad(lower(hex(k)), 8, '0')),
    if(k = 0, '', concat(leftPad(lower(hex(r)), 8, '0'), '00000000')),
    concat('{flow}.s', toString(k)),
    'Internal',
    'bench',
    'penstock',
    if(k = 0,
       map('penstock.step', 's0', 'penstock.flow', '{flow}', 'penstock.schema', '2',
           'penstock.entrypoint', 'true'),
       map('penstock.step', concat('s', toString(k)), 'penstock.flow', '{flow}',
           'penstock.schema', '2', 'penstock.entrypoint', 'false',
           'penstock.parent_step', 's0',
           'penstock.predecessor', if(k = 1, 's0', concat('s', toString(k - 1))),
           'penstock.edge_from', multiIf(k = 1, 's0', k = 9, 's7',
                                         concat('s', toString(k - 1))))),
    500000 + ((r * 7 + k * 13) % 97) * 10000,
    if(k = 5 AND r % 50 = 0, 'Error', 'Unset')
FROM (SELECT intDiv(number, 10) + 1 AS r, number % 10 AS k FROM numbers({spans}))
"""

_SAMPLE_ROWS = """
SELECT TraceId, SpanId, ParentSpanId, SpanName, toUnixTimestamp64Nano(Timestamp), Duration,
       StatusCode, SpanAttributes
FROM otel.otel_traces
WHERE TraceId <= leftPad(lower(hex({runs})), 32, '0')
ORDER BY TraceId, SpanId
"""


def _statements(text: str) -> list[str]:
    out = []
    for chunk in text.split(";"):
        body = "\n".join(
            line for line in chunk.splitlines() if not line.strip().startswith("--")
        ).strip()
        if body:
            out.append(body)
    return out


def make_table(folder: Path, spans: int) -> float:
    """The exporter's table in a chDB folder, holding ``spans`` spans; returns seconds taken."""
    from chdb import session

    sess = session.Session(str(folder))
    try:
        for statement in _statements(DDL.read_text(encoding="utf-8")):
            sess.query(statement)
        start = time.perf_counter()
        sess.query(_GENERATE.format(flow=bench_observe.FLOW, spans=spans))
        return time.perf_counter() - start
    finally:
        sess.close()


def _attr(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def write_sample(folder: Path, path: Path, spans: int) -> int:
    """The table's first ``spans`` spans (whole runs) as OTLP JSON lines; returns the count."""
    from chdb import session

    sess = session.Session(str(folder))
    try:
        result = sess.query(_SAMPLE_ROWS.format(runs=spans // 10), "JSONCompact")
        rows = json.loads(result.bytes())["data"]
    finally:
        sess.close()
    batch: list[dict[str, Any]] = []
    with path.open("w", encoding="utf-8") as out:

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

        for trace, span, parent, name, start, duration, status, attrs in rows:
            attributes = []
            for key, value in attrs.items():
                if key == "penstock.schema":
                    attributes.append({"key": key, "value": {"intValue": value}})
                elif key == "penstock.entrypoint":
                    attributes.append({"key": key, "value": {"boolValue": value == "true"}})
                else:
                    attributes.append(_attr(key, value))
            doc_span: dict[str, Any] = {
                "traceId": trace,
                "spanId": span,
                "name": name,
                "kind": 1,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(int(start) + int(duration)),
                "attributes": attributes,
                "status": {"code": 2} if status == "Error" else {},
            }
            if parent:
                doc_span["parentSpanId"] = parent
            batch.append(doc_span)
            if len(batch) >= 50:
                flush()
        if batch:
            flush()
    return len(rows)


def _timed(source: Any) -> tuple[float, penstock.ObservedFlow]:
    gc.collect()
    start = time.perf_counter()
    observed = penstock.observe(bench_observe.FLOW, source)
    return time.perf_counter() - start, observed


def run(quick: bool = False) -> list[dict[str, object]]:
    spans = SPANS // 10 if quick else SPANS
    sample = SAMPLE // 4 if quick else SAMPLE
    saved = REGISTRY.snapshot()
    try:
        bench_observe.declare()
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "traces.chdb"
            made = make_table(folder, spans)
            files = Path(tmp) / "sample.jsonl"
            in_sample = write_sample(folder, files, sample)
            source = f"chdb:{folder}?timeout=900"  # a loaded machine must not end the row
            store_runs, file_runs = [], []
            # Alternated, so a machine whose load swings affects both alike.
            for _ in range(3):
                took, observed = _timed(source)
                store_runs.append(took)
                took_files, from_files = _timed([files])
                file_runs.append(took_files)
    finally:
        REGISTRY.restore(saved)
    assert observed.runs == spans // 10, observed.runs
    assert sum(s.calls for s in observed.steps) == spans
    assert from_files.runs == in_sample // 10, from_files.runs
    ours = statistics.median(store_runs)
    per_span_files = statistics.median(file_runs) / in_sample
    base = per_span_files * spans
    ratio = ours / base
    return [
        {
            "benchmark": f"observe --from chdb: {spans:,} spans in otel_traces",
            "baseline": f"observe on the same spans as OTLP JSON ({in_sample:,} read, scaled)",
            "baseline_us": base * 1e6,
            "penstock_us": ours * 1e6,
            "ratio": ratio,
            "limit": RATIO_LIMIT,
            "ok": ratio <= RATIO_LIMIT and (quick or ours <= LIMIT_S),
            "note": (
                f"median of 3: {ours:.2f} s (runs {', '.join(f'{t:.2f}' for t in store_runs)}; "
                f"target < {LIMIT_S:g} s); files: {1 / per_span_files:,.0f} spans/s "
                f"(runs {', '.join(f'{t:.2f}' for t in file_runs)} s for {in_sample:,}); "
                f"table made in chDB in {made:.0f} s"
            ),
        }
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
