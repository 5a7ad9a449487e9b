"""Endurance: a million decorated step calls leave memory flat after warm-up, under a
recording backend that counts every call; 44,000 under the logging and otel backends.

Memory is watched through the interpreter's count of allocated blocks (every object and
buffer pymalloc holds) and the process's resident memory (what pymalloc does not hold: large
buffers). Both cost nothing per call, unlike tracemalloc, which made each call ten to twenty
times slower: a leak of one small object in a few hundred calls shows all the same.
"""

from __future__ import annotations

import gc
import logging
import resource
import sys
from collections.abc import Callable
from typing import Any

import pytest

import penstock
from penstock import entrypoint, flow, step
from penstock.backends import BaseBackend, StepRun
from tests.reliability.recorders import isolated_logger

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads resident memory from /proc"
)

#: Blocks a million calls may leave behind: a leak of one object in 500 calls shows.
MAX_BLOCKS = 2_000
#: Blocks 40,000 calls under a real backend may leave behind: one object in 130 calls shows.
MAX_BLOCKS_REAL = 300
#: Resident memory the calls may add (what pymalloc does not hold: large buffers).
MAX_RSS_GROWTH = 4 << 20


class Counting(BaseBackend):
    """Records every call by counting its start and its end, by status."""

    def __init__(self) -> None:
        self.started = 0
        self.ended: dict[str, int] = {}

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        self.started += 1

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        self.ended[step.status] = self.ended.get(step.status, 0) + 1


class CountingHandler(logging.Handler):
    """Counts records and what they say, keeping none."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.with_parent = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if record.__dict__.get("parent_step") == "receive":
            self.with_parent += 1


def _flow() -> Callable[[int], int]:
    """A two-step run per call: an entrypoint and the step it calls (2 step calls)."""

    @flow("endurance")
    @step(after="receive")
    def handle(n: int) -> int:
        return n + 1

    @flow("endurance")
    @entrypoint
    def receive(n: int) -> int:
        return handle(n) * 2

    return receive


def _rss() -> int:
    """Resident bytes of this process now (not the peak)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _block_profile(
    receive: Callable[[int], int], runs: int, *, warm_up: int, samples: int = 10
) -> list[tuple[int, int]]:
    """(allocated blocks, resident bytes) after each of ``samples`` parts of ``runs`` runs."""
    for n in range(warm_up):
        assert receive(n) == 2 * n + 2
    gc.collect()
    profile = [(sys.getallocatedblocks(), _rss())]
    chunk = runs // samples
    for _ in range(samples):
        total = 0
        for n in range(chunk):
            total += receive(n)
        assert total == chunk * (chunk + 1)  # sum of 2 * n + 2 over the chunk
        gc.collect()
        profile.append((sys.getallocatedblocks(), _rss()))
    return profile


def _assert_flat(profile: list[tuple[int, int]], max_blocks: int) -> None:
    # From the first sample on: the first chunk may still fill caches the warm-up did not.
    blocks = profile[-1][0] - profile[1][0]
    rss = profile[-1][1] - profile[1][1]
    assert blocks < max_blocks, f"{blocks} more blocks allocated: {profile}"
    assert rss < MAX_RSS_GROWTH, f"resident memory grew by {rss} bytes: {profile}"


@pytest.mark.heavy
def test_a_million_step_calls_keep_memory_flat() -> None:
    """1,000,000 step calls (500,000 two-step runs) all recorded; memory flat."""
    backend = Counting()
    penstock.configure(backend=backend)
    receive = _flow()
    profile = _block_profile(receive, 500_000, warm_up=10_000)
    assert backend.started == backend.ended["ok"] == 2 * (10_000 + 500_000)
    _assert_flat(profile, MAX_BLOCKS)


@pytest.mark.heavy
def test_logging_backend_keeps_memory_flat() -> None:
    """44,000 step calls under the logging backend: one record each, memory flat."""
    handler = CountingHandler()
    penstock.configure(backend="logging", logger=isolated_logger(handler))
    receive = _flow()
    profile = _block_profile(receive, 20_000, warm_up=2_000, samples=5)
    assert handler.count == 2 * (2_000 + 20_000)
    assert handler.with_parent == 2_000 + 20_000
    _assert_flat(profile, MAX_BLOCKS_REAL)


@pytest.mark.heavy
def test_otel_backend_keeps_memory_flat() -> None:
    """44,000 step calls under the otel backend, spans exported and dropped: memory flat."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class CountingExporter(SpanExporter):
        def __init__(self) -> None:
            self.count = 0
            self.children = 0

        def export(self, spans: Any) -> SpanExportResult:
            for span in spans:
                self.count += 1
                self.children += span.parent is not None
            return SpanExportResult.SUCCESS

    exporter = CountingExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    penstock.configure(backend="otel", tracer_provider=provider)
    try:
        receive = _flow()
        profile = _block_profile(receive, 20_000, warm_up=2_000, samples=5)
    finally:
        provider.shutdown()
    assert exporter.count == 2 * (2_000 + 20_000)
    assert exporter.children == 2_000 + 20_000
    _assert_flat(profile, MAX_BLOCKS_REAL)
