"""OTLP JSON files as the OpenTelemetry Collector's file exporter writes them.

Spans are encoded by the real OTLP encoder (``opentelemetry-exporter-otlp-proto-common``) into
``ExportTraceServiceRequest`` messages, turned into JSON by protobuf's ``json_format`` (enums as
integers), with the trace and span ids rewritten from base64 to hex as the OTLP JSON encoding
requires. One request per line, as the Collector writes one per export.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


def _hex(value: str) -> str:
    return base64.b64decode(value).hex()


def otlp_json(spans: Sequence[ReadableSpan]) -> str:
    """One OTLP JSON line (no newline) for ``spans``."""
    data: dict[str, Any] = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource in data.get("resourceSpans", ()):
        for scope in resource.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _hex(span[key])
                for link in span.get("links", ()):
                    for key in ("traceId", "spanId"):
                        if link.get(key):
                            link[key] = _hex(link[key])
    return json.dumps(data, separators=(",", ":"))


class OtlpJsonFileExporter(SpanExporter):
    """Append one OTLP JSON line per export to ``path`` (the Collector's file exporter)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = otlp_json(spans) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass
