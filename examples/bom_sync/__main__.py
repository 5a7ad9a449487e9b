"""Process a few sample messages: ``PYTHONPATH=examples python -m bom_sync``."""

from __future__ import annotations

import json

from bom_sync.consumer import Message, handle_kafka_message

for part in ("PN-100", "PN-200", "PN-100"):
    msg = Message(value=json.dumps({"part_number": part}).encode(), headers=[])
    print(handle_kafka_message(msg))
