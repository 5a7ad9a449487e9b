"""Per-call cost of recording a step, against what users would write by hand (issue 3).

Targets:

- ``noop`` backend: the time a decorated call adds is at most 0.10x what OpenTelemetry's own
  ``@tracer.start_as_current_span`` decorator adds with no SDK installed.
- ``otel`` backend with the SDK (no-op exporter; Simple and Batch processors): at most 1.15x the
  same function wrapped by hand in ``with tracer.start_as_current_span(name, attributes=...)``,
  sync and async.
- ``logging`` backend: at most 1.10x the function followed by a hand-written
  ``logger.info(..., extra=<same fields>)`` through the same handler, once with a JSON
  formatter and once with the plain standard formatter (where penstock's own share shows
  most); with
  the ``penstock`` logger disabled, the time penstock adds is at most 10x a disabled
  ``logger.info`` call.
- handing the current run to a thread pool with ``penstock.bind_context`` (or
  ``penstock.ContextThreadPoolExecutor``) costs at most 2x doing it by hand with
  ``contextvars.copy_context().run``.

Each case runs in a fresh interpreter (``python -m benchmarks.bench_runtime CASE``): the global
OpenTelemetry tracer provider can be set only once per process, and the no-SDK figures need
none. Timings are the best of several repeats of a tight loop, per call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Row = dict[str, object]


def best_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Best per-call time of ``fn`` over ``repeat`` loops of ``number`` calls, in us."""
    return compare([fn], number, repeat)[0]


def compare(fns: list[Callable[[], object]], number: int, repeat: int = 15) -> list[float]:
    """Best per-call time of each of ``fns``, in us, timed in alternation so that load from
    other processes affects them alike."""
    best = [float("inf")] * len(fns)
    for fn in fns:  # warm up
        for _ in range(min(number, 500)):
            fn()
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter_ns()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter_ns() - start) / number)
    return [b / 1000.0 for b in best]


def drive(coro_fn: Callable[[], Any]) -> Callable[[], None]:
    """Run a coroutine function that never suspends, without an event loop."""

    def run() -> None:
        coro = coro_fn()
        try:
            coro.send(None)
        except StopIteration:
            return
        raise RuntimeError("the benchmark coroutine suspended")

    return run


def body(x: int = 1) -> int:
    return x + 1


# --- cases (each runs in its own interpreter) ----------------------------------------------


LIMIT_NOOP = 0.10
LIMIT_LOGGING = 1.10


def case_noop(number: int) -> list[Row]:
    from opentelemetry import trace

    import penstock
    from penstock import flow, step

    penstock.configure(backend="noop")
    tracer = trace.get_tracer("bench")

    @tracer.start_as_current_span("otel_decorated")
    def otel_decorated(x: int = 1) -> int:
        return x + 1

    @flow("bench")
    @step
    def decorated(x: int = 1) -> int:
        return x + 1

    plain, otel, ours = compare([body, otel_decorated, decorated], number)
    otel_added, ours_added = otel - plain, ours - plain
    ratio = ours_added / otel_added
    return [
        {
            "benchmark": "noop backend: time added per call",
            "baseline": "OTel @tracer.start_as_current_span, no SDK: time added",
            "baseline_us": otel_added,
            "penstock_us": ours_added,
            "ratio": ratio,
            "limit": LIMIT_NOOP,
            "ok": ratio <= LIMIT_NOOP,
            "note": (
                f"plain call {plain:.3f} us; totals: OTel {otel:.3f} us, penstock {ours:.3f} us"
            ),
        }
    ]


def case_otel(number: int) -> list[Row]:
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class NoopExporter(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    rows: list[Row] = []
    for proc_name, processor in (
        ("SimpleSpanProcessor", SimpleSpanProcessor(NoopExporter())),
        ("BatchSpanProcessor", BatchSpanProcessor(NoopExporter())),
    ):
        rows.extend(_otel_rows(proc_name, processor, number))
        processor.shutdown()
    return rows


def _otel_rows(proc_name: str, processor: Any, number: int) -> list[Row]:
    from opentelemetry.sdk.trace import TracerProvider

    import penstock
    from penstock import flow, step
    from penstock._declared.spec import handle_of
    from penstock._runtime.stepinfo import SpecInfo

    provider = TracerProvider()
    provider.add_span_processor(processor)
    penstock.configure(backend="otel", tracer_provider=provider)
    tracer = provider.get_tracer("bench")

    @flow("bench")
    @step
    def decorated(x: int = 1) -> int:
        return x + 1

    @flow("bench")
    @step
    async def adecorated(x: int = 1) -> int:
        return x + 1

    decorated()  # resolve the backend and warm the per-step cache
    handle = handle_of(decorated)
    assert handle is not None
    # The very attributes penstock puts on the span, so both sides do the same work.
    attrs = dict(SpecInfo(handle.spec).default.attributes)
    name = "bench.decorated"

    def by_hand(x: int = 1) -> int:
        with tracer.start_as_current_span(name, attributes=attrs):
            return x + 1

    async def aby_hand(x: int = 1) -> int:
        with tracer.start_as_current_span(name, attributes=attrs):
            return x + 1

    rows: list[Row] = []
    for kind, ours_fn, hand_fn in (
        ("sync", decorated, by_hand),
        ("async", drive(adecorated), drive(aby_hand)),
    ):
        hand, ours = compare([hand_fn, ours_fn], number)
        rows.append(
            {
                "benchmark": f"otel backend, {kind}, SDK + {proc_name} (no-op exporter)",
                "baseline": "with tracer.start_as_current_span(name, attributes=same)",
                "baseline_us": hand,
                "penstock_us": ours,
                "ratio": ours / hand,
                "limit": 1.15,
                "ok": ours / hand <= 1.15,
            }
        )
    return rows


def case_logging(number: int) -> list[Row]:
    import logging

    from pythonjsonlogger.json import JsonFormatter

    import penstock
    from penstock import flow, step

    class NullStream:
        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            return None

    handler = logging.StreamHandler(NullStream())  # type: ignore[arg-type]
    formatters = {
        "JSON formatter (python-json-logger)": JsonFormatter(),
        "plain stream handler (standard Formatter)": logging.Formatter(),
    }
    for name in ("penstock", "byhand"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    penstock.configure(backend="logging")
    hand_logger = logging.getLogger("byhand")

    @flow("bench")
    @step
    def decorated(x: int = 1) -> int:
        return x + 1

    corr = "4bf92f3577b34da6a3ce929d0e0e4736"

    def by_hand(x: int = 1) -> int:
        start = time.time_ns()
        result = x + 1
        duration = (time.time_ns() - start) / 1e6
        hand_logger.info(
            "%s %s in %.2f ms",
            "bench.decorated",
            "ok",
            duration,
            extra={
                "correlation_id": corr,
                "flow": "bench",
                "step": "decorated",
                "parent_step": None,
                "parent_span_id": None,
                "predecessor": None,
                "edge_from": None,
                "duration_ms": round(duration, 3),
                "status": "ok",
                "start_time": start / 1e9,
                "span_id": "00f067aa0ba902b7",
                # The same 12 fields penstock's record carries: a JSON formatter's cost grows
                # with every field it writes, so a baseline with 9 would not be the same line.
                "penstock_schema": 2,
            },
        )
        return result

    rows: list[Row] = []
    for label, formatter in formatters.items():
        handler.setFormatter(formatter)
        hand, ours = compare([by_hand, decorated], number)
        rows.append(
            {
                "benchmark": f"logging backend, {label}",
                "baseline": "function + logger.info(..., extra=same fields), same handler",
                "baseline_us": hand,
                "penstock_us": ours,
                "ratio": ours / hand,
                "limit": LIMIT_LOGGING,
                "ok": ours / hand <= LIMIT_LOGGING,
            }
        )

    logging.getLogger("penstock").disabled = True
    hand_logger.disabled = True

    def disabled_info() -> None:
        hand_logger.info("x", extra={"a": 1})

    plain, disabled, ours_off = compare([body, disabled_info, decorated], number)
    added = ours_off - plain
    rows.append(
        {
            "benchmark": "logging backend, penstock logger disabled: time added per call",
            "baseline": "one disabled logger.info call",
            "baseline_us": disabled,
            "penstock_us": added,
            "ratio": added / disabled,
            "limit": 10.0,
            "ok": added / disabled <= 10.0,
            "note": f"plain call {plain:.3f} us; decorated total {ours_off:.3f} us",
        }
    )
    return rows


def case_threads(number: int) -> list[Row]:
    from concurrent.futures import ThreadPoolExecutor
    from contextvars import copy_context

    import penstock

    rows: list[Row] = []
    pool = ThreadPoolExecutor(1)
    cpool = penstock.ContextThreadPoolExecutor(1)

    def by_hand() -> int:
        return pool.submit(copy_context().run, body).result()

    def bound() -> int:
        return pool.submit(penstock.bind_context(body)).result()

    def executor() -> int:
        return cpool.submit(body).result()

    hand, ours, ours_pool = compare([by_hand, bound, executor], max(number // 10, 200))
    pool.shutdown()
    cpool.shutdown()
    # The helper's own cost, outside any pool, for the record.
    micro_hand, micro_ours = compare(
        [lambda: copy_context().run(body), lambda: penstock.bind_context(body)()], number
    )
    note = (
        f"helper alone: bind_context(fn)() {micro_ours:.3f} us vs "
        f"copy_context().run(fn) {micro_hand:.3f} us"
    )
    for name, value in (
        ("pool.submit(bind_context(fn)).result()", ours),
        ("ContextThreadPoolExecutor.submit(fn).result()", ours_pool),
    ):
        rows.append(
            {
                "benchmark": f"hand a run to a thread pool: {name}",
                "baseline": "pool.submit(contextvars.copy_context().run, fn).result()",
                "baseline_us": hand,
                "penstock_us": value,
                "ratio": value / hand,
                "limit": 2.0,
                "ok": value / hand <= 2.0,
                "note": note,
            }
        )
    return rows


CASES: dict[str, Callable[[int], list[Row]]] = {
    "noop": case_noop,
    "otel": case_otel,
    "logging": case_logging,
    "threads": case_threads,
}


def run(quick: bool = False) -> list[dict[str, object]]:
    """Run every case in a fresh interpreter; return the rows."""
    number = 2_000 if quick else 20_000
    rows: list[Row] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PENSTOCK_BACKEND", None)
    for case in CASES:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_runtime", case, str(number)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"runtime benchmark case {case!r} failed:\n{proc.stderr[-3000:]}")
        rows.extend(json.loads(proc.stdout))
    return rows


if __name__ == "__main__":
    print(json.dumps(CASES[sys.argv[1]](int(sys.argv[2]))))
