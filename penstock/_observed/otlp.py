"""OTLP JSON, as the OpenTelemetry Collector's file exporter writes it.

One ``ExportTraceServiceRequest`` per line (``resourceSpans`` -> ``scopeSpans`` -> ``spans``; a
trace as Tempo returns it, ``{"batches": [...]}``, is read the same way),
in the OTLP JSON encoding: lowerCamelCase keys, hex trace and span ids, integer enums, 64-bit
integers as strings, typed attribute values. A span is penstock's when it carries the
``penstock.step`` attribute; every other span is foreign: counted, never read.

penstock's otel backend puts the run structure on each span (``penstock.parent_step`` and
``penstock.predecessor``, the same fields the logging backend writes), so a span keeps its
place in the run even when its parent in the trace is a foreign span (an HTTP client's, a
Celery instrumentation's). Spans written before those attributes existed are held back and
placed from the span tree by `penstock._observed.tree`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from typing import Any

from penstock._observed.record import SCHEMA_VERSION, RawRecord, Skipped

__all__ = ["hex_id", "read_otlp_lines", "resource_spans", "span_record"]

_STATUS_ERROR = (2, "STATUS_CODE_ERROR")
_HEX = frozenset("0123456789abcdef")
_TEXT_OR_NONE = frozenset({str, type(None)})


def read_otlp_lines(
    file: str, lines: Iterable[str], skipped: Skipped, held: set[str] | None = None
) -> Iterator[RawRecord]:
    """The penstock spans in the OTLP JSON ``lines`` (of ``file``); the rest is counted.

    A span written by a penstock older than the run-structure attributes (no
    ``penstock.schema``) that has a parent is held back when ``held`` is given: its trace id
    is added there, for `penstock._observed.tree` to place it from the span tree.
    """
    loads = json.loads
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = loads(line)
        except (ValueError, RecursionError):
            skipped["truncated or invalid JSON"] += 1
            continue
        resource_spans = _resource_spans(data)
        if type(resource_spans) is not list:
            skipped["not an OTLP trace line"] += 1
            continue
        try:
            for resource in resource_spans:
                scopes = resource.get("scopeSpans") or resource.get("instrumentationLibrarySpans")
                for scope in scopes or ():
                    for span in scope.get("spans") or ():
                        record = _record(span, file, number, skipped, held)
                        if record is not None:
                            yield record
        except (AttributeError, TypeError):
            skipped["malformed OTLP structure"] += 1


def _resource_spans(data: Any) -> Any:
    """The ``resourceSpans`` list of a line, whichever shape carries it.

    The Collector's request, or a trace as trace stores return it (Tempo's
    ``{"batches": [...]}``, ``{"trace": {"resourceSpans": ...}}``).
    """
    if type(data) is not dict:
        return None
    found = data.get("resourceSpans")
    if found is None:
        found = data.get("batches")
    if found is None and type(data.get("trace")) is dict:
        found = data["trace"].get("resourceSpans")
    return found


def _record(
    span: Any, file: str, number: int, skipped: Skipped, held: set[str] | None = None
) -> RawRecord | None:
    # Runs once per span: attribute values are looked up in one dict built in one go. Kept in
    # one function over 60 lines: it is the OTLP reader's hot path (the observe OTLP row of
    # make bench), and each call saved is paid per span.
    try:
        values = {attr["key"]: attr["value"] for attr in span.get("attributes") or ()}
    except (KeyError, TypeError):
        skipped["malformed OTLP structure"] += 1
        return None
    get = values.get
    wrapped = get("penstock.step")
    if wrapped is None:
        skipped["foreign span"] += 1
        return None
    schema = get("penstock.schema")
    if schema is not None:
        schema = _value(schema)
    if schema is not None and schema != SCHEMA_VERSION:
        skipped["unknown schema version"] += 1
        return None
    if schema is None and held is not None and span.get("parentSpanId"):
        trace = _hex_id(span.get("traceId"), 16)
        if trace is not None:
            held.add(trace)
            return None
    # String attributes, unwrapped inline (a wrapper of another type reads as a wrong type).
    step = wrapped.get("stringValue", wrapped) if type(wrapped) is dict else wrapped
    flow = get("penstock.flow")
    if flow is not None:
        flow = flow.get("stringValue", flow) if type(flow) is dict else flow
    parent = get("penstock.parent_step")
    if parent is not None:
        parent = parent.get("stringValue", parent) if type(parent) is dict else parent
    pred = get("penstock.predecessor")
    if pred is not None:
        pred = pred.get("stringValue", pred) if type(pred) is dict else pred
    if (
        type(step) is not str
        or not step
        or type(flow) not in _TEXT_OR_NONE
        or type(parent) not in _TEXT_OR_NONE
        or type(pred) not in _TEXT_OR_NONE
    ):
        skipped["wrong type: penstock attribute"] += 1
        return None
    trace_id = span.get("traceId")
    # Hex as the OTLP JSON encoding says (any case); else base64 from a generic protobuf mapping.
    trace_id = trace_id.lower() if type(trace_id) is str and len(trace_id) == 32 else None
    if trace_id is None:
        trace_id = _hex_id(span.get("traceId"), 16)
    span_id = span.get("spanId")
    span_id = span_id.lower() if type(span_id) is str and len(span_id) == 16 else None
    if span_id is None:
        span_id = _hex_id(span.get("spanId"), 8)
    parent_span_id = span.get("parentSpanId") or None
    if parent_span_id is not None:
        if type(parent_span_id) is str and len(parent_span_id) == 16:
            parent_span_id = parent_span_id.lower()
        else:
            parent_span_id = _hex_id(parent_span_id, 8)
    if trace_id is None or span_id is None:
        skipped["wrong type: traceId/spanId"] += 1
        return None
    try:
        start = int(span["startTimeUnixNano"])
        end = int(span["endTimeUnixNano"])
    except (KeyError, TypeError, ValueError):
        skipped["wrong type: start/end time"] += 1
        return None
    status_obj = span.get("status")
    if status_obj and status_obj.get("code") in _STATUS_ERROR:
        status = "error"
    elif "penstock.cancelled" in values and _value(values["penstock.cancelled"]) is True:
        status = "cancelled"
    else:
        status = "ok"
    return (
        trace_id,
        flow,
        step,
        parent or None,
        pred or None,
        round((end - start) / 1e6, 3),
        status,
        start / 1e9,
        span_id,
        parent_span_id,
        file,
        number,
    )


def _value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a Python value (scalars only; others as ``None``)."""
    if type(value) is not dict:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in value:
        return value["doubleValue"]
    return None


def _hex_id(value: Any, size: int) -> str | None:
    """A trace or span id as lower-case hex; base64 (protobuf's generic JSON) is converted."""
    if type(value) is not str or not value:
        return None
    lowered = value.lower()
    if len(lowered) == size * 2 and _HEX.issuperset(lowered):
        return lowered
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == size else None


#: For `penstock._observed.tree`, which reads the same lines again.
resource_spans = _resource_spans
span_record = _record
hex_id = _hex_id
