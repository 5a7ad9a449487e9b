"""The Celery side: changelog entries are written by a worker, in the same run.

``publish_change_events`` sends ``create_change_logs`` when a broker is configured
(``BOM_SYNC_BROKER_URL``); the worker continues the run that sent it, so the task's record has
the sender's correlation ID and ``publish_change_events`` as its parent. Start a worker with::

    BOM_SYNC_BROKER_URL=redis://127.0.0.1:6379/0 PYTHONPATH=examples \\
        celery -A bom_sync.tasks worker --pool=solo
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

from bom_sync import FLOW, store
from penstock import flow
from penstock.contrib.celery import flow_task

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"

app = Celery(
    "bom_sync",
    broker=os.environ.get("BOM_SYNC_BROKER_URL", DEFAULT_BROKER_URL),
    backend=os.environ.get("BOM_SYNC_RESULT_BACKEND") or None,
)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    broker_connection_retry_on_startup=False,
)


@flow(FLOW)
@flow_task(after="publish_change_events", app=app)
def create_change_logs(changelog_dicts: list[dict[str, Any]]) -> list[int]:
    """Write one changelog entry per change, in a Celery worker."""
    return [store.STORE.enqueue_change(c["part_number"], c["change"]) for c in changelog_dicts]
