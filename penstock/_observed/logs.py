"""penstock's JSON log records: one object with the step fields, checked field by field.

The fields are those the logging backend puts on its records (``docs/backends.md``): any JSON
handler that prints a record's attributes (the backend's own ``format="json"``,
python-json-logger, structlog's ``ProcessorFormatter``) writes objects this module reads.
Objects that are not step records (the application's own logs) and damaged ones are skipped
and counted, by reason.
"""

from __future__ import annotations

from typing import Any

from penstock._observed.files import NAME_CAP
from penstock._observed.record import (
    MAX_DURATION_MS,
    MAX_EPOCH_S,
    SCHEMAS,
    STATUSES,
    RawRecord,
    Skipped,
)

__all__ = ["MAX_DURATION_MS", "MAX_EPOCH_S", "is_step_record", "log_record"]


_NUMBER = frozenset({int, float})
_TEXT_OR_NONE = frozenset({str, type(None)})
_NAMES = ("flow", "parent_step", "predecessor", "edge_from", "span_id", "parent_span_id")


def is_step_record(data: Any) -> bool:
    """Whether a decoded object has the three fields every step record has."""
    return "step" in data and "duration_ms" in data and "status" in data


def log_record(data: dict[str, Any], file: str, number: int, skipped: Skipped) -> RawRecord | None:
    """The record of a decoded step-record object (``is_step_record``), or ``None`` (counted)."""
    # Runs once per record (the observe row of make bench): checks are inlined, the rare
    # failure paths name the field.
    get = data.get
    step = get("step")
    duration = get("duration_ms")
    status = get("status")
    schema = get("penstock_schema", 1)
    if type(schema) is not int or schema not in SCHEMAS:
        skipped["unknown schema version"] += 1
        return None
    cid = get("correlation_id")
    flow = get("flow")
    parent = get("parent_step")
    pred = get("predecessor")
    edge = get("edge_from")
    start = get("start_time")
    span_id = get("span_id")
    parent_span_id = get("parent_span_id")
    if (
        type(step) is not str
        or type(cid) is not str
        or type(status) is not str
        or type(duration) not in _NUMBER
        or type(flow) not in _TEXT_OR_NONE
        or type(parent) not in _TEXT_OR_NONE
        or type(pred) not in _TEXT_OR_NONE
        or type(edge) not in _TEXT_OR_NONE
        or (start is not None and type(start) not in _NUMBER)
        or type(span_id) not in _TEXT_OR_NONE
        or type(parent_span_id) not in _TEXT_OR_NONE
    ):
        skipped[f"wrong type: {_wrong_field(data)}"] += 1
        return None
    # Comparisons are False for NaN, and an int of any size compares without overflow.
    if not 0 <= duration < MAX_DURATION_MS:  # type: ignore[operator]  # a number, checked
        skipped["invalid number: duration_ms"] += 1
        return None
    if start is not None and not 0 <= start < MAX_EPOCH_S:
        skipped["invalid number: start_time"] += 1
        return None
    if status not in STATUSES:
        skipped["unknown status"] += 1
        return None
    if not step or not cid:
        skipped["empty step or run id"] += 1
        return None
    cap = NAME_CAP
    if (
        len(step) > cap
        or len(cid) > cap
        or (flow is not None and len(flow) > cap)
        or (parent is not None and len(parent) > cap)
        or (pred is not None and len(pred) > cap)
        or (edge is not None and len(edge) > cap)
        or (span_id is not None and len(span_id) > cap)
        or (parent_span_id is not None and len(parent_span_id) > cap)
    ):
        skipped[f"name over {NAME_CAP} characters"] += 1
        return None
    return (
        cid,
        flow,
        step,
        parent or None,
        pred or None,
        float(duration),  # type: ignore[arg-type]  # a number, checked
        status,
        None if start is None else float(start),
        span_id or None,
        parent_span_id or None,
        file,
        number,
        edge or None,
        schema,
        False,
    )


def _wrong_field(data: dict[str, object]) -> str:
    """The first field of a step record whose type is wrong (for the skip reason)."""
    for key in ("step", "correlation_id", "status"):
        if type(data.get(key)) is not str:
            return key
    if type(data.get("duration_ms")) not in _NUMBER:
        return "duration_ms"
    start = data.get("start_time")
    if start is not None and type(start) not in _NUMBER:
        return "start_time"
    for key in _NAMES:
        if type(data.get(key)) not in _TEXT_OR_NONE:
            return key
    return "unknown"  # pragma: no cover - called only when a check above failed
