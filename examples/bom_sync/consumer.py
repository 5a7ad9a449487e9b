"""The Kafka side: one message in, one BOM sync run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bom_sync import FLOW
from bom_sync.sync import sync_reference
from penstock import entrypoint, flow


@dataclass
class Message:
    """The parts of a consumed Kafka record the service reads."""

    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.value)
        return data


@flow(FLOW)
@entrypoint
def handle_kafka_message(msg: Message) -> dict[str, Any]:
    """Receive a part-changed event from the BOM topic."""
    part_number = msg.payload["part_number"]
    return sync_reference(part_number)
