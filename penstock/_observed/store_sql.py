"""The SQL penstock sends to a ClickHouse trace store (printed by ``observe --show-sql``).

Every query reads the ``otel_traces`` table of the Collector's ClickHouse exporter: one row per
span, penstock's fields in ``SpanAttributes`` (``penstock.flow``, ``penstock.step``,
``penstock.parent_step``, ``penstock.predecessor``, ``penstock.schema``), ``Duration`` in
nanoseconds, ``StatusCode`` as the exporter spells it. Values travel as query parameters
(``{name:Type}``), never pasted into the text; only the table name is, after
`penstock._observed.store_url` checked it is a plain name.

The counts are computed where the spans are: a call's bucket in the duration sketch
(`penstock._observed.sketch`) is computed by the store, so what comes back is one row per
(step, caller, predecessor, bucket), a few hundred rows for millions of spans.
"""

from __future__ import annotations

__all__ = [
    "REQUIRED_COLUMNS",
    "columns_sql",
    "first_seen_sql",
    "run_ids_sql",
    "run_sql",
    "runs_sql",
    "tally_sql",
    "trace_window_sql",
    "window_sql",
]

#: The columns every query reads, as the exporter names them.
REQUIRED_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "ServiceName",
    "SpanAttributes",
    "Duration",
    "StatusCode",
)


def columns_sql() -> str:
    """The table's columns (checked before anything is counted)."""
    return (
        "SELECT name FROM system.columns\n"
        "WHERE database = {database:String} AND table = {table:String}"
    )


def window_sql(since: bool, until: bool) -> str:
    """The time window, on ``Timestamp`` first: partitions and the sort key prune by it."""
    parts = []
    if since:
        parts.append("Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})")
    if until:
        parts.append("Timestamp < fromUnixTimestamp64Nano({until_ns:Int64})")
    return "".join(f"{p}\n      AND " for p in parts)


#: One row per span of the flow, the same span read twice (an at-least-once delivery) once.
_SPANS = """SELECT
        TraceId,
        SpanAttributes['penstock.step'] AS step,
        SpanAttributes['penstock.parent_step'] AS parent,
        SpanAttributes['penstock.predecessor'] AS pred,
        multiIf(
            SpanAttributes['penstock.schema'] NOT IN ('', '1'), 'unknown schema',
            SpanAttributes['penstock.schema'] = '' AND ParentSpanId != '', 'older',
            'current') AS kind,
        StatusCode IN ('Error', 'STATUS_CODE_ERROR') AS failed,
        round(Duration / 1e6, 3) AS duration_ms,
        SpanId
    FROM {table}
    WHERE {window}SpanAttributes['penstock.flow'] = {{flow:String}}
      AND SpanAttributes['penstock.step'] != ''
    LIMIT 1 BY TraceId, SpanId"""


def tally_sql(table: str, window: str) -> str:
    """Calls, errors and duration buckets per (step, caller, predecessor)."""
    spans = _SPANS.format(table=table, window=window)
    return f"""SELECT
    step,
    parent,
    pred,
    kind,
    if(duration_ms > {{tiny:Float64}},
       toInt64(ceil(log(duration_ms) * {{inv_log_gamma:Float64}})),
       {{tiny_bucket:Int64}}) AS bucket,
    count() AS calls,
    countIf(failed) AS errors
FROM (
    {spans}
)
GROUP BY step, parent, pred, kind, bucket"""


def runs_sql(table: str, window: str) -> str:
    """The flow's runs (distinct trace ids), and its rows before duplicates are dropped."""
    return f"""SELECT
    uniqExactIf(TraceId, SpanAttributes['penstock.schema'] IN ('', '1')) AS runs,
    count() AS copies
FROM {table}
WHERE {window}SpanAttributes['penstock.flow'] = {{flow:String}}
  AND SpanAttributes['penstock.step'] != ''"""


def first_seen_sql(table: str, window: str) -> str:
    """The first span of each (step, caller, predecessor) asked for: where a drift shows.

    The triples travel as one string parameter (fields joined by U+001E, triples by U+001F):
    plain strings bind alike in every client.
    """
    return f"""SELECT
    SpanAttributes['penstock.step'] AS step,
    SpanAttributes['penstock.parent_step'] AS parent,
    SpanAttributes['penstock.predecessor'] AS pred,
    toUnixTimestamp64Nano(Timestamp) AS start_ns,
    TraceId,
    SpanId
FROM {table}
WHERE {window}SpanAttributes['penstock.flow'] = {{flow:String}}
  AND has(splitByChar('\\x1f', {{groups:String}}), concat(step, '\\x1e', parent, '\\x1e', pred))
ORDER BY Timestamp
LIMIT 1 BY step, parent, pred"""


def run_ids_sql(table: str) -> str:
    """The runs of the flow whose trace id starts with a prefix (at most a few)."""
    return f"""SELECT DISTINCT TraceId
FROM {table}
WHERE SpanAttributes['penstock.flow'] = {{flow:String}}
  AND startsWith(TraceId, {{prefix:String}})
LIMIT 4"""


def run_sql(table: str, bounded: bool) -> str:
    """Every span of one trace, penstock's and the others (the span tree places calls)."""
    window = (
        "Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})\n"
        "  AND Timestamp <= fromUnixTimestamp64Nano({until_ns:Int64})\n  AND "
        if bounded
        else ""
    )
    return f"""SELECT
    SpanAttributes['penstock.flow'] AS flow,
    SpanAttributes['penstock.step'] AS step,
    SpanAttributes['penstock.parent_step'] AS parent,
    SpanAttributes['penstock.predecessor'] AS pred,
    SpanAttributes['penstock.schema'] AS schema,
    SpanAttributes['penstock.cancelled'] AS cancelled,
    StatusCode,
    Duration,
    toUnixTimestamp64Nano(Timestamp) AS start_ns,
    SpanId,
    ParentSpanId,
    ServiceName
FROM {table}
WHERE {window}TraceId = {{trace:String}}
ORDER BY Timestamp, SpanId
LIMIT 1 BY SpanId"""


def trace_window_sql(table: str) -> str:
    """When one trace started and ended, from the exporter's ``*_trace_id_ts`` lookup table."""
    return f"""SELECT
    toUnixTimestamp(min(Start)) AS first_s,
    toUnixTimestamp(max(End)) AS last_s
FROM {table}
WHERE TraceId = {{trace:String}}"""
