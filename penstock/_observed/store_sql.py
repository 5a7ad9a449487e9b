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

from penstock._observed.files import NAME_CAP
from penstock._observed.record import SCHEMAS

__all__ = [
    "MATERIALIZED",
    "REQUIRED_COLUMNS",
    "columns_sql",
    "materialized_sql",
    "run_ids_sql",
    "run_sql",
    "runs_of_sql",
    "tally_sql",
    "trace_window_sql",
    "window_sql",
]

#: The record layouts read ('' for spans that do not say: layout 1); penstock's own constants.
_SCHEMAS = "(" + ", ".join(["''", *(f"'{v}'" for v in sorted(SCHEMAS))]) + ")"

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
    """The time window, on ``Timestamp`` first: partitions and the sort key prune by it.

    A coarse range on the column itself (a second wider, so the index can prune), then the
    exact test the file reader makes: start in seconds, as a float, against the bound.
    """
    parts = []
    if since:
        parts.append("Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})")
    if until:
        parts.append("Timestamp < fromUnixTimestamp64Nano({until_ns:Int64})")
    if since:
        parts.append("toUnixTimestamp64Nano(Timestamp) / 1e9 >= {since_s:Float64}")
    if until:
        parts.append("toUnixTimestamp64Nano(Timestamp) / 1e9 < {until_s:Float64}")
    return "".join(f"{p}\n      AND " for p in parts)


#: Optional columns an operator may add to ``otel_traces``, each ``MATERIALIZED`` from the
#: attribute it is named after: when all are there, penstock reads them instead of the Map.
MATERIALIZED = {
    "penstock.flow": "penstock_flow",
    "penstock.step": "penstock_step",
    "penstock.parent_step": "penstock_parent_step",
    "penstock.predecessor": "penstock_predecessor",
    "penstock.edge_from": "penstock_edge_from",
    "penstock.schema": "penstock_schema",
}


def materialized_sql(table: str) -> list[str]:
    """The statements that add penstock's columns to ``table`` (for operators; never sent).

    ``ADD COLUMN`` fills them for new spans as they are inserted; ``MATERIALIZE COLUMN``
    writes them into the parts already there (a mutation: it rewrites those parts). Until it
    has run, ClickHouse computes them from the Map when read: the counts are the same.
    """
    out = [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} LowCardinality(String)\n"
        f"    MATERIALIZED SpanAttributes['{key}'] CODEC(ZSTD(1))"
        for key, column in MATERIALIZED.items()
    ]
    out += [f"ALTER TABLE {table} MATERIALIZE COLUMN {column}" for column in MATERIALIZED.values()]
    return out


def _attr(key: str, materialized: bool) -> str:
    """One penstock attribute of a span, read as cheaply as the table allows.

    The Map is stored as two arrays: finding the key in ``SpanAttributes.keys`` (a
    LowCardinality array, compared by dictionary position) and taking that element of
    ``SpanAttributes.values`` costs half of ``SpanAttributes[key]``. A missing key gives
    ``''`` either way (position 0 is the default value).
    """
    if materialized:
        return MATERIALIZED[key]
    return f"SpanAttributes.values[indexOf(SpanAttributes.keys, '{key}')]"


def tally_sql(table: str, window: str, materialized: bool = False, exact: bool = False) -> str:
    """Calls, errors and duration buckets per (step, caller, predecessor, edge), and the runs.

    One scan; one row back: the groups (an array of tuples) and the number of runs (distinct
    trace ids, merged from each group's set).

    Duplicates (the same span delivered twice by a retrying Collector) fall in the same group.
    A group's ``spans`` counts distinct 64-bit hashes of (trace id, span id): equal to its
    ``copies``, no two of them are the same span (a hash collision can only make it smaller),
    and ``calls`` is ``copies``, exactly. When a group has fewer, penstock asks again with
    ``exact``: calls and errors are counted as distinct (trace id, span id) themselves
    (``uniqExact``, ClickHouse's 128-bit hash of both). Each row also names its earliest span,
    where a drift is first seen, and when its latest call started.
    """
    flow = _attr("penstock.flow", materialized)
    if exact:
        calls = "uniqExact(TraceId, SpanId) AS calls,\n    uniqExactIf(TraceId, SpanId, failed)"
    else:
        calls = "uniqExact(span_key) AS calls,\n    countIf(failed)"
    return f"""SELECT
    groupArray((step, parent, pred, edge_from, schema, kind, bucket, copies, calls, errors,
                first, last_ns)) AS groups,
    uniqExactMerge(traces) AS runs
FROM (
SELECT
    step,
    parent,
    pred,
    edge_from,
    schema,
    kind,
    if(duration_ms > {{tiny:Float64}},
       toInt64(ceil(log(duration_ms) * {{inv_log_gamma:Float64}})),
       {{tiny_bucket:Int64}}) AS bucket,
    count() AS copies,
    {calls} AS errors,
    argMin((start_ns, TraceId, SpanId), start_ns) AS first,
    max(start_ns) AS last_ns,
    uniqExactStateIf(trace_key, kind != 'unknown schema') AS traces
FROM (
    SELECT
        TraceId,
        SpanId,
        -- A trace id as the exporter writes it (32 hex digits) is a 128-bit number.
        if(length(TraceId) = 32, reinterpretAsUInt128(unhex(TraceId)),
           reinterpretAsUInt128(sipHash128(TraceId))) AS trace_key,
        cityHash64(TraceId, SpanId) AS span_key,
        {_attr("penstock.step", materialized)} AS step,
        {_attr("penstock.parent_step", materialized)} AS parent,
        {_attr("penstock.predecessor", materialized)} AS pred,
        {_attr("penstock.edge_from", materialized)} AS edge_from,
        {_attr("penstock.schema", materialized)} AS schema,
        multiIf(
            schema NOT IN {_SCHEMAS}, 'unknown schema',
            greatest(length(step), length(parent), length(pred), length(edge_from))
                > {NAME_CAP}, 'long name',
            schema = '' AND ParentSpanId != '', 'older',
            'current') AS kind,
        StatusCode IN ('Error', 'STATUS_CODE_ERROR') AS failed,
        Duration / 1e6 AS duration_ms,
        toUnixTimestamp64Nano(Timestamp) AS start_ns
    FROM {table}
    WHERE {window}{flow} = {{flow:String}}
      AND step != ''
)
GROUP BY step, parent, pred, edge_from, schema, kind, bucket
)"""


def runs_of_sql(table: str, window: str) -> str:
    """Every span of the flow in the runs that hold one of the given older spans.

    The runs holding a (step, caller, predecessor) in the window: the records the
    happens-before rule needs for older spans (their siblings and callers, inside the window
    or not, as the file reader sees them).

    The triples travel as one string parameter (fields joined by U+001E, triples by U+001F):
    plain strings bind alike in every client.
    """
    return f"""SELECT
    TraceId,
    SpanAttributes['penstock.step'] AS step,
    SpanAttributes['penstock.parent_step'] AS parent,
    SpanAttributes['penstock.predecessor'] AS pred,
    SpanAttributes['penstock.edge_from'] AS edge_from,
    SpanAttributes['penstock.schema'] AS schema,
    Duration,
    toUnixTimestamp64Nano(Timestamp) AS start_ns,
    SpanId,
    ParentSpanId
FROM {table}
WHERE SpanAttributes['penstock.flow'] = {{flow:String}}
  AND step != ''
  AND TraceId IN (
    SELECT TraceId
    FROM {table}
    WHERE {window}SpanAttributes['penstock.flow'] = {{flow:String}}
      AND has(splitByChar('\\x1f', {{groups:String}}),
              concat(SpanAttributes['penstock.step'], '\\x1e',
                     SpanAttributes['penstock.parent_step'], '\\x1e',
                     SpanAttributes['penstock.predecessor']))
  )
LIMIT 1 BY TraceId, SpanId"""


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
    SpanAttributes['penstock.edge_from'] AS edge_from,
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
