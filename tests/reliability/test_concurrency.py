"""Concurrency under every backend: 10,000 interleaved asyncio runs, 8 threads x 1,000 runs of
the example flow. Every record carries its own run's correlation ID and parent; none is lost
or duplicated (counted per run)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from bom_sync import store
from bom_sync.consumer import handle_kafka_message

import penstock
from penstock import entrypoint, flow, step
from tests.reliability.recorders import RECORDERS, Recorder, check_runs
from tests.reliability.threads import run_in_threads
from tests.runtime.app import message

ASYNC_RUNS = 10_000
THREADS = 8
RUNS_PER_THREAD = 1_000

#: The example flow's shape: each step -> the step that calls it.
EXAMPLE_PARENTS: dict[str, str | None] = {
    "handle_kafka_message": None,
    "sync_reference": "handle_kafka_message",
    "upsert_to_db": "sync_reference",
    "publish_change_events": "upsert_to_db",
    "update_ebom": "publish_change_events",
    "enqueue_changelog": "publish_change_events",
}


@pytest.fixture(params=sorted(RECORDERS))
def recorder(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Each backend in turn: the testing recorder, logging records, OpenTelemetry spans."""
    rec = RECORDERS[request.param]()
    rec.start()
    try:
        yield rec
    finally:
        rec.stop()


class _EveryPartChanges:
    """A reference API under which every part is new, so each run takes the whole flow."""

    def fetch(self, part_number: str) -> dict[str, Any]:
        return {"part_number": part_number, "description": "part", "revision": 1}


class _WatchedStore(store.Store):
    """The example's store, noting the correlation ID each changelog entry was written under."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.seen: dict[str, str | None] = {}

    def enqueue_change(self, part_number: str, change: str) -> int:
        self.seen[part_number] = penstock.current_correlation_id()
        return super().enqueue_change(part_number, change)


def _async_example() -> Any:
    """The example flow's shape as coroutines that yield to the loop inside every step, the
    last two steps run concurrently as tasks; each returns the correlation IDs it saw."""

    @flow("bom_async")
    @step(after="publish_change_events")
    async def update_ebom() -> set[str | None]:
        await asyncio.sleep(0)
        return {penstock.current_correlation_id()}

    @flow("bom_async")
    @step(after="publish_change_events")
    async def enqueue_changelog() -> set[str | None]:
        seen = {penstock.current_correlation_id()}
        await asyncio.sleep(0)
        return seen | {penstock.current_correlation_id()}

    @flow("bom_async")
    @step(after="upsert_to_db")
    async def publish_change_events() -> set[str | None]:
        await asyncio.sleep(0)
        a, b = await asyncio.gather(update_ebom(), enqueue_changelog())
        return a | b | {penstock.current_correlation_id()}

    @flow("bom_async")
    @step(after="sync_reference")
    async def upsert_to_db() -> set[str | None]:
        await asyncio.sleep(0)
        return await publish_change_events() | {penstock.current_correlation_id()}

    @flow("bom_async")
    @step(after="handle_kafka_message")
    async def sync_reference() -> set[str | None]:
        seen = await upsert_to_db()
        await asyncio.sleep(0)
        return seen | {penstock.current_correlation_id()}

    @flow("bom_async")
    @entrypoint
    async def handle_kafka_message() -> set[str | None]:
        await asyncio.sleep(0)
        return await sync_reference() | {penstock.current_correlation_id()}

    return handle_kafka_message


@pytest.mark.heavy
async def test_ten_thousand_concurrent_asyncio_runs(recorder: Recorder) -> None:
    """10,000 interleaved runs: one correlation ID and the right parents each, none lost."""
    handle = _async_example()
    seen = await asyncio.gather(*(handle() for _ in range(ASYNC_RUNS)))
    assert penstock.current_correlation_id() is None
    assert all(len(ids) == 1 for ids in seen), "a run saw more than one correlation ID"
    inside = {ids.pop() for ids in seen}
    assert len(inside) == ASYNC_RUNS
    grouped = check_runs(recorder.hops(), EXAMPLE_PARENTS, ASYNC_RUNS, recorder.links_parents)
    assert set(grouped) == inside


@pytest.mark.heavy
def test_eight_threads_of_a_thousand_example_runs(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8 threads x 1,000 example runs: one correlation ID and right parents each, none lost."""
    watched = _WatchedStore()
    monkeypatch.setattr(store, "STORE", watched)
    monkeypatch.setattr(store, "API", _EveryPartChanges())
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    events: list[int] = []

    def worker(t: int) -> None:
        try:
            barrier.wait()
            for i in range(RUNS_PER_THREAD):
                result = handle_kafka_message(message(f"PN-{t}-{i}"))
                events.append(len(result["events"]))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    run_in_threads(worker, THREADS, switch_interval=5e-5)
    assert errors == []
    runs = THREADS * RUNS_PER_THREAD
    assert events == [2] * runs
    inside = watched.seen
    assert len(inside) == runs
    assert len(set(inside.values())) == runs
    grouped = check_runs(recorder.hops(), EXAMPLE_PARENTS, runs, recorder.links_parents)
    assert set(grouped) == set(inside.values())
