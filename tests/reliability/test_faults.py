"""Faults in the recording path never change what the application computes or raises, and each
is reported once: a backend raising in every hook (from 8 threads and 1,000 tasks at once), an
OpenTelemetry exporter that raises or hangs behind the batch processor, and the logging
backend's stream closed under it."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from bom_sync import store
from bom_sync.consumer import handle_kafka_message

import penstock
from penstock import entrypoint, flow, step
from penstock.backends import BaseBackend, StepRun
from penstock.propagation import continue_from, dict_getter
from tests.reliability.threads import run_in_threads
from tests.runtime.app import message

HOOKS = ("on_start", "on_enter", "on_exit", "on_end")
THREADS = 8
RUNS_PER_THREAD = 250
TASKS = 1_000


class Exploding(BaseBackend):
    """Raises in every hook."""

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        raise RuntimeError("on_start broke")

    def on_enter(self, *, step: StepRun, **kwargs: Any) -> Any:
        raise RuntimeError("on_enter broke")

    def on_exit(self, *, step: StepRun, token: Any, **kwargs: Any) -> None:
        raise RuntimeError("on_exit broke")

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        raise RuntimeError("on_end broke")


@pytest.fixture
def bom_store(monkeypatch: pytest.MonkeyPatch) -> store.Store:
    """A fresh in-memory store for the example app."""
    fresh = store.Store()
    monkeypatch.setattr(store, "STORE", fresh)
    return fresh


def _hook_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "penstock" and r.levelno >= logging.ERROR]


@pytest.mark.usefixtures("bom_store")
def test_raising_backend_from_eight_threads_is_reported_once_per_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """8 threads x 250 runs under a raising backend: app outcomes kept, each fault logged once."""
    penstock.configure(backend=Exploding())
    barrier = threading.Barrier(THREADS)
    outcomes: list[tuple[str, object]] = []

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(RUNS_PER_THREAD):
            part = "PN-404" if i % 2 else "PN-100"
            try:
                outcomes.append(("ok", handle_kafka_message(message(part))["part_number"]))
            except store.PartNotFound as exc:
                outcomes.append(("raised", exc.args))

    run_in_threads(worker, THREADS, switch_interval=1e-6)  # as often as possible: races show
    half = THREADS * RUNS_PER_THREAD // 2
    assert sorted(outcomes, key=repr) == sorted(
        [("ok", "PN-100")] * half + [("raised", ("PN-404",))] * half, key=repr
    )
    failures = _hook_failures(caplog)
    assert sorted(r.args[1] for r in failures) == sorted(HOOKS)  # type: ignore[index]
    assert all(r.exc_info is not None for r in failures)


class ExplodingEverywhere(Exploding):
    """Raises in the optional hooks too: ``enabled``, ``attach_remote`` and ``close``."""

    def enabled(self) -> bool:
        raise RuntimeError("enabled broke")

    def attach_remote(self, *, step: StepRun, **kwargs: Any) -> Any:
        raise RuntimeError("attach_remote broke")

    def close(self) -> None:
        raise RuntimeError("close broke")


def test_optional_hooks_raising_too(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """enabled/attach_remote/close raising too: remote runs kept, each of 7 faults logged once."""
    seen: list[str | None] = []

    class Watched(store.Store):
        def enqueue_change(self, part_number: str, change: str) -> int:
            seen.append(penstock.current_correlation_id())
            return super().enqueue_change(part_number, change)

    monkeypatch.setattr(store, "STORE", Watched())
    monkeypatch.setattr(
        store.API,
        "catalogue",
        {f"PN-{i}": {"description": "d", "revision": 1} for i in range(0, 400, 2)},
    )
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    penstock.configure(backend=ExplodingEverywhere())
    raised: list[tuple[Any, ...]] = []
    for i in range(400):
        with continue_from(headers, dict_getter):
            try:
                assert handle_kafka_message(message(f"PN-{i}"))["changed"] is True
            except store.PartNotFound as exc:
                raised.append(exc.args)
    assert raised == [(f"PN-{i}",) for i in range(1, 400, 2)]
    assert seen == [trace_id] * 200
    penstock.reset()  # replacing the backend closes it: close() raises too
    failures = _hook_failures(caplog)
    expected = (*HOOKS, "enabled", "attach_remote", "close")
    assert sorted(r.args[1] for r in failures) == sorted(expected)  # type: ignore[index]


async def test_raising_backend_under_a_thousand_tasks_of_every_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000 tasks of every step kind under a raising backend: outcomes kept, faults logged once."""
    penstock.configure(backend=Exploding())

    @flow("faulty")
    @step(after="job")
    def numbers(n: int) -> Iterator[int]:
        yield n
        yield n + 1

    @flow("faulty")
    @step(after="job")
    async def stream(n: int) -> AsyncIterator[int]:
        await asyncio.sleep(0)
        yield n * 10

    @flow("faulty")
    @entrypoint
    async def job(n: int) -> int:
        await asyncio.sleep(0)
        values = list(numbers(n)) + [v async for v in stream(n)]
        if n % 3 == 0:
            raise KeyError(n)
        return sum(values)

    outcomes = await asyncio.gather(*(job(n) for n in range(TASKS)), return_exceptions=True)
    for n, outcome in enumerate(outcomes):
        if n % 3 == 0:
            assert isinstance(outcome, KeyError)
            assert outcome.args == (n,)
        else:
            assert outcome == 12 * n + 1
    assert penstock.current_correlation_id() is None
    failures = _hook_failures(caplog)
    assert sorted(r.args[1] for r in failures) == sorted(HOOKS)  # type: ignore[index]


# --- OpenTelemetry exporters that fail behind the batch processor ---------------------------


@pytest.fixture
def sdk_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Records of the SDK's batch processor, with its duplicate filter forgotten.

    The SDK drops a repeated message within 20 seconds (its ``DuplicateFilter``); what an
    earlier test logged must not hide this test's first report.
    """
    from opentelemetry.sdk import _shared_internal

    for f in _shared_internal._logger.filters:
        f.__dict__.pop("last_log", None)
    caplog.set_level(logging.INFO, logger=_shared_internal._logger.name)
    return caplog


def _otel(exporter: Any, **options: Any) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, **options))
    penstock.configure(backend="otel", tracer_provider=provider)
    return provider


def _run_in_thread(runs: int, timeout: float = 60.0) -> list[Any]:
    """Run the example ``runs`` times in a thread; fail (rather than hang) if it blocks."""
    results: list[Any] = []

    def app() -> None:
        for i in range(runs):
            try:
                results.append(handle_kafka_message(message(("PN-100", "PN-404")[i % 2])))
            except store.PartNotFound as exc:
                results.append(exc.args)

    thread = threading.Thread(target=app, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the application blocked on the span exporter"
    return results


def _expected(runs: int) -> list[Any]:
    first = {"part_number": "PN-100", "changed": True, "events": ["ebom", "changelog"]}
    later = {"part_number": "PN-100", "changed": False, "events": []}
    return [(first if i == 0 else later) if i % 2 == 0 else ("PN-404",) for i in range(runs)]


@pytest.mark.usefixtures("bom_store")
def test_raising_exporter_behind_the_batch_processor(sdk_log: pytest.LogCaptureFixture) -> None:
    """An exporter raising on every batch: app outcomes kept, every span offered, one report."""
    from opentelemetry.sdk.trace.export import SpanExporter

    class Raising(SpanExporter):
        def __init__(self) -> None:
            self.offered = 0

        def export(self, spans: Any) -> Any:
            self.offered += len(spans)
            raise ConnectionError("collector unreachable")

    exporter = Raising()
    started = time.time()
    provider = _otel(exporter, max_queue_size=100_000, schedule_delay_millis=50)
    assert _run_in_thread(2_000) == _expected(2_000)
    provider.shutdown()
    # The SDK repeats a report at most once per 20-second window (its DuplicateFilter).
    windows = int(time.time() // 20 - started // 20) + 1
    # One successful first run of 6 steps, then 999 unchanged runs (3 steps), 1,000 failing (2).
    assert exporter.offered == 6 + 999 * 3 + 1_000 * 2
    reports = [r for r in sdk_log.records if "Exception while exporting" in r.getMessage()]
    assert 1 <= len(reports) <= windows
    assert "collector unreachable" in sdk_log.text
    assert not [r for r in sdk_log.records if r.name == "penstock"]


@pytest.mark.usefixtures("bom_store")
def test_hanging_exporter_behind_the_batch_processor(sdk_log: pytest.LogCaptureFixture) -> None:
    """A hanging exporter never blocks the app; one queue-full warning; it drains on recovery."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    release = threading.Event()

    class Hanging(SpanExporter):
        def __init__(self) -> None:
            self.calls = 0
            self.exported = 0

        def export(self, spans: Any) -> Any:
            self.calls += 1
            release.wait()
            self.exported += len(spans)
            return SpanExportResult.SUCCESS

    exporter = Hanging()
    started = time.time()
    provider = _otel(exporter, max_queue_size=256, max_export_batch_size=64)
    try:
        assert _run_in_thread(2_000) == _expected(2_000)
        deadline = time.monotonic() + 10
        while exporter.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the processor's thread may not have had its turn yet
        assert exporter.calls == 1  # the first batch is stuck; nothing else was attempted
    finally:
        release.set()
        provider.shutdown()
    total = 6 + 999 * 3 + 1_000 * 2
    # What was queued when it hung (at most the queue plus the stuck batch) gets through.
    assert 256 <= exporter.exported <= 256 + 64 < total
    windows = int(time.time() // 20 - started // 20) + 1
    drops = [r for r in sdk_log.records if "Queue full" in r.getMessage()]
    assert 1 <= len(drops) <= windows
    assert drops[0].levelno == logging.WARNING


# --- the logging backend's own stream closed -----------------------------------------------


@pytest.mark.usefixtures("bom_store")
def test_closed_stream_under_the_logging_backend(capfd: pytest.CaptureFixture[str]) -> None:
    """The logging backend's stream closed: app outcomes kept, one error report on stderr."""
    stream = io.StringIO()
    penstock.configure(backend="logging", format="logfmt", stream=stream)
    assert handle_kafka_message(message("PN-100"))["changed"] is True
    assert "step=handle_kafka_message" in stream.getvalue()
    stream.close()
    for i in range(500):
        if i % 2:
            with pytest.raises(store.PartNotFound):
                handle_kafka_message(message("PN-404"))
        else:
            assert handle_kafka_message(message("PN-100"))["changed"] is False
    err = capfd.readouterr().err
    assert err.count("--- Logging error ---") == 1, err[:2000]
    assert "I/O operation on closed file" in err
