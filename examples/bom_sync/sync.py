"""Synchronising a part: fetch the reference data, store it, tell everyone who cares."""

from __future__ import annotations

from typing import Any

from bom_sync import FLOW, store
from penstock import flow, step


@flow(FLOW)
@step(after="handle_kafka_message")
def sync_reference(part_number: str) -> dict[str, Any]:
    """Fetch the part's reference data from the PLM API."""
    data = store.API.fetch(part_number)
    return upsert_to_db(data)


@flow(FLOW)
@step(after=sync_reference)
def upsert_to_db(data: dict[str, Any]) -> dict[str, Any]:
    """Write the part to the database; publish only real changes."""
    changed = store.STORE.upsert_part(data)
    events = publish_change_events(data) if changed else []
    return {"part_number": data["part_number"], "changed": changed, "events": events}


@flow(FLOW)
@step(after=upsert_to_db)
def publish_change_events(data: dict[str, Any]) -> list[str]:
    """Fan the change out to the engineering BOM and the changelog."""
    update_ebom(data)
    enqueue_changelog(data)
    return ["ebom", "changelog", *send_change_logs(data)]


@flow(FLOW)
@step(after=publish_change_events)
def update_ebom(data: dict[str, Any]) -> None:
    """Move the engineering BOM to the new revision."""
    store.STORE.set_ebom_revision(data["part_number"], data["revision"])


@flow(FLOW)
@step(after=publish_change_events)
def enqueue_changelog(data: dict[str, Any]) -> int:
    """Queue a changelog entry for the part."""
    return store.STORE.enqueue_change(data["part_number"], f"revision {data['revision']}")


def send_change_logs(data: dict[str, Any]) -> list[str]:
    """Send ``create_change_logs`` to a Celery worker when ``BOM_SYNC_BROKER_URL`` is set."""
    # Imported here so that the example runs without Celery when no broker is configured.
    import os

    if not os.environ.get("BOM_SYNC_BROKER_URL"):
        return []
    from bom_sync.tasks import create_change_logs

    change = {"part_number": data["part_number"], "change": f"revision {data['revision']}"}
    create_change_logs.delay([change])
    return ["create_change_logs"]
