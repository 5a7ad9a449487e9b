"""One recorded step call, whatever file it came from, and the tally of skipped input."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from penstock._runtime.rule import EDGE_FROM_SINCE, SCHEMA_VERSION

__all__ = [
    "DUPLICATE",
    "EDGE_FROM_SINCE",
    "MAX_DURATION_MS",
    "MAX_EPOCH_S",
    "NOT_RECORDS",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "STATUSES",
    "RawRecord",
    "Record",
    "Skipped",
]

#: The record layout versions this penstock reads (records without a version are 1).
SCHEMAS = frozenset(range(1, SCHEMA_VERSION + 1))
STATUSES = frozenset({"ok", "error", "cancelled"})
#: Durations at or above this (ms, about 31 years) are not a step's: "invalid number".
MAX_DURATION_MS = 1e12
#: Start times at or above this (seconds since the epoch, year 5138) are invalid.
MAX_EPOCH_S = 1e11
#: The skip reason of a record read again (at-least-once delivery: a retried batch, a file
#: and its rotated copy): the same run and span id is the same call, counted once.
DUPLICATE = "duplicate record (same run and span id, read again)"


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
    #: The step the call's edge came from, as the recording process decided it under the
    #: happens-before rule (`penstock._runtime.rule`); meaningful only from layout 2 on.
    edge_from: str | None = None
    #: The record layout version (1 for records that did not say).
    schema: int = 1
    #: Whether the record is an OTLP span (its place is named by trace and span id too).
    otlp: bool = False

    @property
    def has_edge(self) -> bool:
        """Whether the record says which edge the call took (``edge_from`` is set or None)."""
        return self.schema >= EDGE_FROM_SINCE


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
    str | None,
    int,
    bool,
]


#: Skip reasons for input that is no step record at all (the application's own lines):
#: expected in any log file, not lost data.
NOT_RECORDS = frozenset(
    {"not JSON", "not a step record", "not a JSON object", "empty container log line"}
)


class Skipped(Counter[str]):
    """Input left out, counted by reason (a line, or a span of an OTLP line)."""
