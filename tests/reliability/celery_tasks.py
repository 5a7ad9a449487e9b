"""Tasks for the Celery fault scenarios, run by real workers (``celery -A
tests.reliability.celery_tasks:app worker``).

Environment of a worker:

- ``RELIABILITY_BROKER_URL``: the Redis broker;
- ``RELIABILITY_RECORDS``: a file each penstock step record is appended to, as a JSON line.

Imported by the tests (to send tasks) it only declares the tasks.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from celery import Celery

import penstock
from penstock import flow
from penstock.contrib.celery import flow_task

app = Celery("reliability", broker=os.environ.get("RELIABILITY_BROKER_URL", "memory://"))
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    # The redelivery scenario kills the process running a task: one task per process at a time.
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # Retry a publish long enough to ride out a broker restart.
    task_publish_retry_policy={"max_retries": 50, "interval_start": 0, "interval_step": 0.1},
)

FLOW = "reliability"


def _wait_for(path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.02)


def _note(path: str, **fields: Any) -> None:
    with open(path, "a") as out:
        out.write(json.dumps(fields) + "\n")


@flow(FLOW)
@flow_task(app=app, name="reliability.relay", after="send")
def relay(hops_left: int, hold: str, go: str) -> None:
    """Pass the run on ``hops_left`` more times; the first hop waits for ``go`` to exist."""
    if not os.path.exists(go):
        _note(hold, pid=os.getpid(), correlation_id=penstock.current_correlation_id())
        _wait_for(go)
    if hops_left:
        relay.delay(hops_left - 1, hold, go)


@flow(FLOW)
@flow_task(
    app=app,
    name="reliability.doomed",
    after="send",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def doomed(self: Any, attempts: str) -> str | None:
    """Note each delivery; the first one waits to be killed, a redelivery finishes."""
    first = not Path(attempts).exists()
    _note(
        attempts,
        pid=os.getpid(),
        correlation_id=penstock.current_correlation_id(),
        redelivered=bool((self.request.delivery_info or {}).get("redelivered")),
    )
    if first:
        time.sleep(60)  # killed long before this ends
    return penstock.current_correlation_id()


class _JsonLines(logging.Handler):
    """Append each penstock step record, as JSON, to a file."""

    FIELDS = ("correlation_id", "flow", "step", "parent_step", "status", "span_id")

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "correlation_id"):
            _note(self.path, pid=os.getpid(), **{k: getattr(record, k) for k in self.FIELDS})


def _configure_from_environment() -> None:
    path = os.environ.get("RELIABILITY_RECORDS")
    if not path:
        return
    logger = logging.getLogger("penstock")
    logger.addHandler(_JsonLines(path))
    logger.setLevel(logging.INFO)
    penstock.configure(backend="logging")


_configure_from_environment()
