"""OTLP JSON, as the OpenTelemetry Collector's file exporter writes it.

One ``ExportTraceServiceRequest`` per line (``resourceSpans`` -> ``scopeSpans`` -> ``spans``; a
trace as Tempo returns it, ``{"batches": [...]}``, is read the same way),
in the OTLP JSON encoding: lowerCamelCase keys, hex trace and span ids (base64 too, padded,
unpadded or URL-safe, as protobuf's generic JSON mapping and trace stores write them),
integer enums, 64-bit integers as strings, typed attribute values. A span is penstock's when
it carries the ``penstock.step`` attribute; every other span is foreign: counted, never read.
Ids and times are checked: an invalid one skips the span, counted by reason.

penstock's otel backend puts the run structure on each span (``penstock.parent_step``,
``penstock.predecessor`` and ``penstock.edge_from``, the same fields the logging backend
writes), so a span keeps its
place in the run even when its parent in the trace is a foreign span (an HTTP client's, a
Celery instrumentation's). Spans written before those attributes existed are held back and
placed from the span tree by `penstock._observed.tree`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from penstock._observed.files import NAME_CAP
from penstock._observed.record import SCHEMAS, RawRecord, Skipped

__all__ = ["hex_id", "is_otlp_document", "otlp_records", "resource_spans", "span_record"]

_STATUS_ERROR = (2, "STATUS_CODE_ERROR")
_HEX_DIGITS = "0123456789abcdefABCDEF"
_TEXT_OR_NONE = frozenset({str, type(None)})


def otlp_records(
    data: Any, file: str, number: int, skipped: Skipped, held: set[str] | None = None
) -> Iterator[RawRecord]:
    """The penstock spans of one decoded OTLP document (at ``file:number``); the rest counted.

    A span written by a penstock older than the run-structure attributes (no
    ``penstock.schema``) that has a parent is held back when ``held`` is given: its trace id
    is added there, for `penstock._observed.tree` to place it from the span tree.
    """
    resource_spans = _resource_spans(data)
    if type(resource_spans) is not list:
        skipped["not an OTLP trace document"] += 1
        return
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


def is_otlp_document(data: Any) -> bool:
    """Whether a decoded object is an OTLP trace document (any of the shapes read)."""
    return "resourceSpans" in data or "batches" in data or type(data.get("trace")) is dict


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
        if type(schema) is not int or schema not in SCHEMAS:
            skipped["unknown schema version"] += 1
            return None
    # _hex_id inline for the common id (hex of the right length, not all zeros).
    trace_id = span.get("traceId")
    if type(trace_id) is str and len(trace_id) == 32 and not trace_id.strip(_HEX_DIGITS):
        trace_id = None if trace_id.count("0") == 32 else trace_id.lower()
    else:
        trace_id = _hex_id(trace_id, 16)
    if trace_id is None:
        skipped["invalid id: traceId"] += 1
        return None
    span_id = span.get("spanId")
    if type(span_id) is str and len(span_id) == 16 and not span_id.strip(_HEX_DIGITS):
        span_id = None if span_id.count("0") == 16 else span_id.lower()
    else:
        span_id = _hex_id(span_id, 8)
    if span_id is None:
        skipped["invalid id: spanId"] += 1
        return None
    parent_span_id = span.get("parentSpanId") or None
    if parent_span_id is not None:
        parent_span_id = _hex_id(parent_span_id, 8)
        if parent_span_id is None:
            skipped["invalid id: parentSpanId"] += 1
            return None
    if schema is None and held is not None and parent_span_id is not None:
        held.add(trace_id)
        return None
    # String attributes, unwrapped inline (a wrapper of another type reads as a wrong type).
    step = wrapped.get("stringValue", wrapped) if type(wrapped) is dict else wrapped
    flow = get("penstock.flow")
    if type(flow) is dict:
        flow = flow.get("stringValue", flow)
    parent = get("penstock.parent_step")
    if type(parent) is dict:
        parent = parent.get("stringValue", parent)
    pred = get("penstock.predecessor")
    if type(pred) is dict:
        pred = pred.get("stringValue", pred)
    edge = get("penstock.edge_from")
    if type(edge) is dict:
        edge = edge.get("stringValue", edge)
    if (
        type(step) is not str
        or not step
        or type(flow) not in _TEXT_OR_NONE
        or type(parent) not in _TEXT_OR_NONE
        or type(pred) not in _TEXT_OR_NONE
        or type(edge) not in _TEXT_OR_NONE
    ):
        skipped["wrong type: penstock attribute"] += 1
        return None
    cap = NAME_CAP
    if (
        len(step) > cap
        or (flow is not None and len(flow) > cap)
        or (parent is not None and len(parent) > cap)
        or (pred is not None and len(pred) > cap)
        or (edge is not None and len(edge) > cap)
    ):
        skipped[f"name over {NAME_CAP} characters"] += 1
        return None
    # _nanos inline for the common time (a decimal string of up to 19 digits).
    start = span.get("startTimeUnixNano")
    if type(start) is str and 0 < len(start) < 20 and start.isascii() and start.isdigit():
        start = int(start)
        if start >= _MAX_NANOS:
            start = None
    else:
        start = _nanos(start)
    if start is None:
        skipped["invalid number: startTimeUnixNano"] += 1
        return None
    end = span.get("endTimeUnixNano")
    if type(end) is str and 0 < len(end) < 20 and end.isascii() and end.isdigit():
        end = int(end)
        if end >= _MAX_NANOS:
            end = None
    else:
        end = _nanos(end)
    if end is None or end < start:
        skipped["invalid number: endTimeUnixNano"] += 1
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
        (end - start) / 1e6,
        status,
        start / 1e9,
        span_id,
        parent_span_id,
        file,
        number,
        edge or None,
        1 if schema is None else schema,
        True,
    )


def _text(value: Any) -> Any:
    """A string attribute's value (a wrapper of another type reads as a wrong type)."""
    if type(value) is dict:
        return value.get("stringValue", value)
    return value


#: Nanosecond times at or above this (2**63 ns, year 2262) are invalid, as in OTLP's fixed64
#: readers that take them as signed.
_MAX_NANOS = 1 << 63


def _nanos(value: Any) -> int | None:
    """A ``*TimeUnixNano`` value (an integer, or its decimal string) in range, else ``None``."""
    kind = type(value)
    if kind is str:
        if not 0 < len(value) <= 20 or not value.isascii() or not value.isdigit():
            return None
        value = int(value)
    elif kind is float:
        if not 0 <= value < _MAX_NANOS or value != int(value):  # NaN fails the first test
            return None
        value = int(value)
    elif kind is not int:
        return None
    return value if 0 <= value < _MAX_NANOS else None


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


_B64_URLSAFE = str.maketrans("-_", "+/")


def _hex_id(value: Any, size: int) -> str | None:
    """A trace or span id as lower-case hex, or ``None`` when it is not a valid id.

    Read: hex in any case (the OTLP JSON encoding), and base64 of the right length, padded,
    unpadded or URL-safe (protobuf's generic JSON mapping, trace stores' APIs). An all-zero
    id is invalid (W3C).
    """
    if type(value) is not str or not value:
        return None
    length = len(value)
    if length == size * 2:
        # str.strip with the hex digits empties a hex string: one C call, no set per id.
        if not value.strip(_HEX_DIGITS):
            return None if value.count("0") == length else value.lower()
        return None
    if length > size * 2:
        return None
    text = value.translate(_B64_URLSAFE)
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


#: For `penstock._observed.tree`, which reads the same documents again.
resource_spans = _resource_spans
span_record = _record
hex_id = _hex_id
