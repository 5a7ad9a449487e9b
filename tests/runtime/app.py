"""The example app's inputs and expectations, shared by the runtime tests."""

from __future__ import annotations

import json

from bom_sync.consumer import Message


def message(part: str) -> Message:
    """A Kafka message of the example app asking to sync ``part``."""
    return Message(value=json.dumps({"part_number": part}).encode(), headers=[])


#: The steps one sync of a changed part runs, in call (start) order.
BOM_STEPS = [
    "handle_kafka_message",
    "sync_reference",
    "upsert_to_db",
    "publish_change_events",
    "update_ebom",
    "enqueue_changelog",
]
