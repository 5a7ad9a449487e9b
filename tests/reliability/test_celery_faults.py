"""Celery faults with a real Redis and real workers: the broker restarted while a flow runs,
and a worker process killed mid-task. The run keeps one correlation ID through both."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from penstock import flow, step
from penstock._registry import REGISTRY
from penstock.testing import recording
from tests.support.redis_celery import EXAMPLES, RedisServer, read_records
from tests.support.system import ROOT


class Worker:
    """A real ``celery worker`` for tests/reliability/celery_tasks.py, with the given pool."""

    def __init__(self, folder: Path, broker: str, pool: str) -> None:
        self.log = folder / f"worker-{pool}.log"
        self.records = folder / f"records-{pool}.jsonl"
        self.broker = broker
        self.pool = pool
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Worker:
        env = {
            **os.environ,
            "RELIABILITY_BROKER_URL": self.broker,
            "RELIABILITY_RECORDS": str(self.records),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLES)]),
        }
        env.pop("CI", None)
        pool = ["--pool=solo"] if self.pool == "solo" else ["--pool=prefork", "--concurrency=1"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.reliability.celery_tasks:app",
                    "worker",
                    *pool,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                    "-n",
                    f"reliability-{self.pool}@127.0.0.1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
        self.wait_for(" ready.", timeout)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Wait until ``text`` shows in the worker's log."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"celery worker exited: {self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the worker's log: {self.output()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the worker we started (by pid): warm shutdown, then kill."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


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
