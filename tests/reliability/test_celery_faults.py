"""Celery faults with a real Redis and real workers: the broker restarted while a flow runs,
and a worker process killed mid-task. The run keeps one correlation ID through both."""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from penstock import flow, step
from penstock._declared.registry import REGISTRY
from penstock.testing import recording
from tests.support.redis_celery import CeleryWorker, RedisServer, read_records


class Worker(CeleryWorker):
    """A real ``celery worker`` for tests/reliability/celery_tasks.py, with the given pool."""

    def __init__(self, folder: Path, broker: str, pool: str) -> None:
        self.records = folder / f"records-{pool}.jsonl"
        env = {"RELIABILITY_BROKER_URL": broker, "RELIABILITY_RECORDS": str(self.records)}
        super().__init__(
            "tests.reliability.celery_tasks:app",
            folder / f"worker-{pool}.log",
            env,
            pool=pool,
            name=f"reliability-{pool}",
        )


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for this module's scenarios (one restarts it on the same port)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tasks(redis_server: RedisServer) -> Iterator[ModuleType]:
    """The scenarios' tasks, sending through the test Redis; their steps left out of the
    registry that other tests see."""
    saved = REGISTRY.snapshot()
    try:
        module = importlib.import_module("tests.reliability.celery_tasks")
    finally:
        REGISTRY.restore(saved)
    module.app.conf.update(broker_url=redis_server.url(0))
    yield module
    module.app.close()


def _send(sender: Any) -> str:
    """Call ``sender`` inside a step ``send``; return the run's correlation ID."""

    @flow("reliability")
    @step
    def send() -> None:
        sender()

    with recording() as rec:
        send()
    return rec.get("send").correlation_id


def _lines(path: Path, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    return read_records(path, lambda r: len(r) >= count, timeout=timeout, what=f"{count} lines")


def test_broker_restart_mid_flow(
    tasks: ModuleType, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Redis restarted mid-flow: the worker reconnects and all 4 hops keep one run."""
    worker = Worker(tmp_path, redis_server.url(0), "solo").start()
    try:
        hold, go = tmp_path / "hold.jsonl", tmp_path / "go"
        corr = _send(lambda: tasks.relay.delay(3, str(hold), str(go)))
        [holding] = _lines(hold, 1)
        assert holding["correlation_id"] == corr
        redis_server.stop()
        redis_server.start()
        go.touch()
        records = _lines(worker.records, 4)
        worker.wait_for("Connection to broker lost")
    finally:
        worker.stop()
    assert [r["step"] for r in records] == ["relay"] * 4
    assert {r["correlation_id"] for r in records} == {corr}
    assert [r["parent_step"] for r in records] == ["send", "relay", "relay", "relay"]
    assert [r["status"] for r in records] == ["ok"] * 4
    assert len({r["span_id"] for r in records}) == 4


def test_worker_killed_mid_task_is_redelivered_with_its_run(
    tasks: ModuleType, redis_server: RedisServer, tmp_path: Path
) -> None:
    """A SIGKILLed task is redelivered and its second attempt continues the sender's run."""
    worker = Worker(tmp_path, redis_server.url(0), "prefork").start()
    try:
        attempts = tmp_path / "attempts.jsonl"
        corr = _send(lambda: tasks.doomed.delay(str(attempts)))
        [first] = _lines(attempts, 1)
        os.kill(first["pid"], signal.SIGKILL)
        first_attempt, second = _lines(attempts, 2)
        [record] = _lines(worker.records, 1)
        worker.wait_for("SIGKILL")
    finally:
        worker.stop()
    assert first_attempt == first
    assert second["pid"] != first["pid"]
    assert (first["redelivered"], second["redelivered"]) == (False, True)
    assert first["correlation_id"] == second["correlation_id"] == corr
    assert record["correlation_id"] == corr
    assert (record["step"], record["parent_step"], record["status"]) == ("doomed", "send", "ok")
    assert record["pid"] == second["pid"]
