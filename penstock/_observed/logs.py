"""penstock's JSON log lines: one object per line with the step fields, other lines mixed in.

The fields are those the logging backend puts on its records (``docs/backends.md``): any JSON
handler that prints a record's attributes (the backend's own ``format="json"``,
python-json-logger, structlog's ``ProcessorFormatter``) writes lines this module reads. Lines
that are not step records (the application's own logs, tracebacks, plain text) are skipped and
counted, as are damaged ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from penstock._observed.record import SCHEMA_VERSION, STATUSES, RawRecord, Skipped

__all__ = ["looks_like_log_line", "read_log_lines"]

_NUMBER = frozenset({int, float})
_TEXT_OR_NONE = frozenset({str, type(None)})
_LINE_ENDS = frozenset({"\n", "", "\r\n"})


def looks_like_log_line(line: str) -> bool:
    """Whether a file whose first line is ``line`` holds log lines (not OTLP documents)."""
    return not any(key in line for key in ('"resourceSpans"', '"batches"'))


def read_log_lines(file: str, lines: Iterable[str], skipped: Skipped) -> Iterator[RawRecord]:
    """The step records among ``lines`` (of ``file``); everything else is counted in ``skipped``.

    Yields plain tuples in `Record`'s field order (a million of them are made per second).
    """
    # Kept in one function over 60 lines: the loop is the log reader's hot path (the observe
    # row of make bench), where a helper call per line costs more than the rest of the line.
    # raw_decode, not json.loads: it reports where the object ends, so one look at the rest
    # of the line tells a truncated record from a line with more after the object.
    decode = json.JSONDecoder().raw_decode
    number_types = _NUMBER
    text_types = _TEXT_OR_NONE
    statuses = STATUSES
    line_ends = _LINE_ENDS
    for number, line in enumerate(lines, 1):
        if line[:1] != "{":
            stripped = line.strip()
            if not stripped:
                continue
            if stripped[0] != "{":
                skipped["not JSON"] += 1
                continue
            line = stripped
        try:
            data, end = decode(line)
        except (ValueError, RecursionError):
            skipped["truncated or invalid JSON"] += 1
            continue
        if line[end:] not in line_ends and line[end:].strip():
            skipped["truncated or invalid JSON"] += 1
            continue
        get = data.get
        step = get("step")
        duration = get("duration_ms")
        status = get("status")
        if step is None or duration is None or status is None:
            skipped["not a step record"] += 1
            continue
        schema = get("penstock_schema")
        if schema is not None and schema != SCHEMA_VERSION:
            skipped["unknown schema version"] += 1
            continue
        cid = get("correlation_id")
        flow = get("flow")
        parent = get("parent_step")
        pred = get("predecessor")
        start = get("start_time")
        span_id = get("span_id")
        parent_span_id = get("parent_span_id")
        if (
            type(step) is not str
            or type(cid) is not str
            or type(status) is not str
            or type(duration) not in number_types
            or type(flow) not in text_types
            or type(parent) not in text_types
            or type(pred) not in text_types
            or (start is not None and type(start) not in number_types)
            or type(span_id) not in text_types
            or type(parent_span_id) not in text_types
        ):
            skipped[f"wrong type: {_wrong_field(data)}"] += 1
            continue
        if type(duration) is float and not -1e300 < duration < 1e300:  # NaN, infinities
            skipped["wrong value: duration_ms"] += 1
            continue
        if status not in statuses or not step or not cid:
            skipped["unknown status" if status not in statuses else "empty step or run id"] += 1
            continue
        yield (
            cid,
            flow,
            step,
            parent or None,
            pred or None,
            duration,
            status,
            start,
            span_id,
            parent_span_id,
            file,
            number,
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
    for key in ("flow", "parent_step", "predecessor", "span_id", "parent_span_id"):
        if type(data.get(key)) not in _TEXT_OR_NONE:
            return key
    return "unknown"  # pragma: no cover - called only when a check above failed
