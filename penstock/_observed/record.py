"""One recorded step call, whatever file it came from, and the tally of skipped input."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

__all__ = ["SCHEMA_VERSION", "STATUSES", "RawRecord", "Record", "Skipped"]

#: The version of the record layout penstock writes (``penstock_schema`` in log lines,
#: ``penstock.schema`` on spans). Records without one are read as version 1.
SCHEMA_VERSION = 1
STATUSES = frozenset({"ok", "error", "cancelled"})


class Record(NamedTuple):
    """One finished step call, as a log line or a span recorded it."""

    correlation_id: str
    flow: str | None
    step: str
    #: The calling step (or the remote step a propagated run continues); ``None`` for a root.
    parent_step: str | None
    #: The step that completed last before this one under the same caller, else the caller.
    predecessor: str | None
    duration_ms: float
    status: str
    #: Seconds since the epoch, or ``None`` when the source did not say.
    start: float | None
    span_id: str | None
    parent_span_id: str | None
    #: Where the record was read: file and line number.
    file: str
    line: int


#: A `Record`'s fields as a plain tuple, in the same order: what the readers yield (making a
#: named tuple per record costs more than the rest of reading it).
RawRecord = tuple[
    str,
    str | None,
    str,
    str | None,
    str | None,
    float,
    str,
    float | None,
    str | None,
    str | None,
    str,
    int,
]


class Skipped(Counter[str]):
    """Input left out, counted by reason (a line, or a span of an OTLP line)."""
