"""Tracing never breaks the application: failing backends, concurrency, threads, drift."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from bom_sync import store
from bom_sync.consumer import handle_kafka_message

import penstock
from penstock import entrypoint, flow, step
from penstock.backends import BaseBackend, StepRun
from penstock.propagation import current_ids, current_step
from penstock.testing import RecordingBackend
from tests.runtime.app import BOM_STEPS, message

HOOKS = ("on_start", "on_enter", "on_exit", "on_end")


class Exploding(BaseBackend):
    """Raises in every hook."""

    def on_start(self, *, step: StepRun, **kwargs: object) -> None:
        raise RuntimeError("on_start broke")

    def on_enter(self, *, step: StepRun, **kwargs: object) -> object:
        raise RuntimeError("on_enter broke")

    def on_exit(self, *, step: StepRun, token: object, **kwargs: object) -> None:
        raise RuntimeError("on_exit broke")

    def on_end(self, *, step: StepRun, **kwargs: object) -> None:
        raise RuntimeError("on_end broke")


@pytest.mark.usefixtures("bom_store")
def test_backend_raising_in_every_hook_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each failing hook is logged once with its traceback; results and exceptions pass."""
    penstock.configure(backend=Exploding())
    assert handle_kafka_message(message("PN-100"))["events"] == ["ebom", "changelog"]
    with pytest.raises(store.PartNotFound) as info:
        handle_kafka_message(message("PN-404"))
    assert info.value.args == ("PN-404",)
    failures = [r for r in caplog.records if r.name == "penstock" and r.levelno == logging.ERROR]
    assert sorted(r.args[1] for r in failures) == sorted(HOOKS)  # type: ignore[index]
    for record in failures:
        assert record.exc_info is not None
        assert str(record.exc_info[1]) == f"{record.args[1]} broke"  # type: ignore[index]
        assert "logged once" in record.getMessage()


async def test_failing_backend_under_generators_and_coroutines() -> None:
    """Async steps, generators and async generators work with a backend that raises."""
    penstock.configure(backend=Exploding())

    @flow("x")
    @entrypoint
    async def coro() -> int:
        await asyncio.sleep(0)
        return 1

    @flow("x")
    @entrypoint
    def gen() -> Iterator[int]:
        yield 1
        yield 2

    @flow("x")
    @entrypoint
    async def agen() -> AsyncIterator[int]:
        yield 3

    assert await coro() == 1
    assert list(gen()) == [1, 2]
    assert [x async for x in agen()] == [3]
    assert current_step() is None


async def test_200_concurrent_tasks_do_not_cross_talk(penstock_recorder: RecordingBackend) -> None:
    """200 concurrent asyncio runs, each using a worker thread, keep their own IDs and parents."""
    seen: dict[int, set[str | None]] = {}

    @flow("conc")
    @step(after="leaf")
    def in_thread(n: int) -> None:
        seen[n].add(penstock.current_correlation_id())

    @flow("conc")
    @step(after="job")
    async def leaf(n: int, depth: int) -> int:
        seen[n].add(penstock.current_correlation_id())
        await asyncio.sleep(random.random() / 1000)
        if depth:
            return await leaf(n, depth - 1) + 1
        # The innermost call goes through a worker thread and comes back.
        await asyncio.to_thread(in_thread, n)
        return 0

    @flow("conc")
    @entrypoint
    async def job(n: int) -> int:
        seen[n] = {penstock.current_correlation_id()}
        await asyncio.sleep(random.random() / 1000)
        return await leaf(n, 2) + n

    results = await asyncio.gather(*(job(n) for n in range(200)))
    assert results == [n + 2 for n in range(200)]
    assert all(len(ids) == 1 for ids in seen.values())
    assert len({ids.pop() for ids in seen.values()}) == 200
    runs = penstock_recorder.runs()
    assert len(runs) == 200
    for records in runs.values():
        assert [r.step for r in records] == ["job", "leaf", "leaf", "leaf", "in_thread"]
        job_run, l1, l2, l3, thread_step = records
        assert (l1.parent, l2.parent, l3.parent, thread_step.parent) == (job_run, l1, l2, l3)


def test_threads_do_not_cross_talk(penstock_recorder: RecordingBackend) -> None:
    """Runs in 8 threads at once keep their own ids and nesting."""
    errors: list[str] = []

    @flow("thr")
    @step(after="worker")
    def inner(expected: tuple[int, int] | None) -> None:
        ids = current_ids()
        if ids is None or expected is None or ids[0] != expected[0]:
            errors.append(f"{ids} vs {expected}")

    @flow("thr")
    @entrypoint
    def worker() -> None:
        for _ in range(3):
            inner(current_ids())

    barrier = threading.Barrier(8)

    def thread_main() -> None:
        barrier.wait()
        for _ in range(25):
            worker()

    threads = [threading.Thread(target=thread_main) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    runs = penstock_recorder.runs()
    assert len(runs) == 200
    assert all(
        [r.step for r in rs] == ["worker", "inner", "inner", "inner"] for rs in runs.values()
    )


def test_thread_pool_helpers_hand_the_run_over(penstock_recorder: RecordingBackend) -> None:
    """bind_context and ContextThreadPoolExecutor carry the run into a pool; plain submit not."""

    @flow("pool")
    @step(after="fan")
    def part(i: int) -> int:
        return i

    @flow("pool")
    @entrypoint
    def fan() -> None:
        with ThreadPoolExecutor(2) as pool:
            assert pool.submit(penstock.bind_context(part), 1).result() == 1
            assert pool.submit(part, 2).result() == 2
        with penstock.ContextThreadPoolExecutor(2) as cpool:
            assert list(cpool.map(part, [3, 4])) == [3, 4]

    fan()
    root = penstock_recorder.get("fan")
    parts = [r for r in penstock_recorder.records if r.step == "part"]
    assert [r.parent is root for r in parts] == [True, False, True, True]
    assert len(penstock_recorder.runs()) == 2


async def test_run_in_executor_with_bind_context(penstock_recorder: RecordingBackend) -> None:
    """loop.run_in_executor keeps the run when the function is bound."""

    @flow("pool")
    @step(after="outer")
    def blocking() -> tuple[str, str] | None:
        return current_step()

    @flow("pool")
    @entrypoint
    async def outer() -> tuple[str, str] | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, penstock.bind_context(blocking))

    assert await outer() == ("pool", "blocking")
    assert penstock_recorder.get("blocking").parent is penstock_recorder.get("outer")


def test_drift_is_logged_once_with_both_locations(
    penstock_recorder: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """An undeclared transition warns once with both file:line and shows in observed_edges()."""

    @flow("drifty")
    @step(after="start")
    def declared() -> None:
        return None

    @flow("drifty")
    @step(after="declared")
    def audit() -> None:
        return None

    @flow("drifty")
    @entrypoint
    def start() -> None:
        declared()
        audit()  # declared after "declared": fine (its predecessor ran just before)
        undeclared_call()

    @flow("drifty")
    @step(after="audit")
    def undeclared_call() -> None:
        return None

    @flow("drifty")
    @entrypoint
    def other_start() -> None:
        audit()  # neither its predecessor nor caller is declared: drift

    start()
    start()
    other_start()
    other_start()
    drift = [r for r in caplog.records if getattr(r, "penstock_drift", False)]
    assert len(drift) == 1
    msg = drift[0].getMessage()
    code = other_start.__wrapped__.__code__  # type: ignore[attr-defined]
    audit_code = audit.__wrapped__.__code__  # type: ignore[attr-defined]
    assert f"{code.co_filename}:{code.co_firstlineno}" in msg
    assert f"{audit_code.co_filename}:{audit_code.co_firstlineno}" in msg
    assert "'other_start'" in msg
    assert "'audit'" in msg
    assert "after=['declared']" in msg
    assert penstock.observed_edges("drifty") == [
        ("audit", "undeclared_call"),
        ("declared", "audit"),
        ("other_start", "audit"),
        ("start", "declared"),
    ]


@pytest.mark.usefixtures("bom_store")
def test_example_app_has_no_drift(
    penstock_recorder: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """The example's sequential fan-out matches its declared edges exactly."""
    handle_kafka_message(message("PN-100"))
    penstock_recorder.assert_ran(*BOM_STEPS, flow="bom_sync")
    assert not [r for r in caplog.records if getattr(r, "penstock_drift", False)]
    graph = penstock.get_flow("bom_sync")
    declared = {(e.source, e.target) for e in graph.edges}
    assert set(penstock.observed_edges("bom_sync")) == declared
