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

from penstock._observed._record import SCHEMA_VERSION, STATUSES, Record, Skipped

__all__ = ["looks_like_log_line", "read_log_lines"]

_NUMBER = (int, float)
_TEXT_OR_NONE = (str, type(None))


def looks_like_log_line(line: str) -> bool:
    """Whether a file whose first line is ``line`` holds log lines (not OTLP documents)."""
    return '"resourceSpans"' not in line


def read_log_lines(file: str, lines: Iterable[str], skipped: Skipped) -> Iterator[Record]:
    """The step records among ``lines`` (of ``file``); everything else is counted in ``skipped``."""
    loads = json.loads
    for number, line in enumerate(lines, 1):
        if line[:1] != "{":
            stripped = line.strip()
            if not stripped:
                continue
            if stripped[0] != "{":
                skipped["not JSON"] += 1
                continue
        try:
            data = loads(line)
        except ValueError:
            skipped["truncated or invalid JSON"] += 1
            continue
        if type(data) is not dict:
            skipped["not a JSON object"] += 1
            continue
        get = data.get
        step = get("step")
        duration = get("duration_ms")
        if step is None or duration is None or "status" not in data:
            skipped["not a step record"] += 1
            continue
        schema = get("penstock_schema")
        if schema is not None and schema != SCHEMA_VERSION:
            skipped["unknown schema version"] += 1
            continue
        cid = get("correlation_id")
        status = get("status")
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
            or not isinstance(duration, _NUMBER)
            or type(duration) is bool
            or not isinstance(flow, _TEXT_OR_NONE)
            or not isinstance(parent, _TEXT_OR_NONE)
            or not isinstance(pred, _TEXT_OR_NONE)
            or not (start is None or (isinstance(start, _NUMBER) and type(start) is not bool))
            or not isinstance(span_id, _TEXT_OR_NONE)
            or not isinstance(parent_span_id, _TEXT_OR_NONE)
        ):
            skipped[f"wrong type: {_wrong_field(data)}"] += 1
            continue
        if status not in STATUSES or not step or not cid:
            skipped["unknown status" if status not in STATUSES else "empty step or run id"] += 1
            continue
        yield Record(
            cid,
            flow,
            step,
            parent or None,
            pred or None,
            float(duration),
            status,
            None if start is None else float(start),
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
    duration = data.get("duration_ms")
    if not isinstance(duration, _NUMBER) or type(duration) is bool:
        return "duration_ms"
    start = data.get("start_time")
    if start is not None and (not isinstance(start, _NUMBER) or type(start) is bool):
        return "start_time"
    for key in ("flow", "parent_step", "predecessor", "span_id", "parent_span_id"):
        if not isinstance(data.get(key), _TEXT_OR_NONE):
            return key
    return "unknown"  # pragma: no cover - called only when a check above failed
