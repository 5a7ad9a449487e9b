"""Recorded runs read from a trace store: the counts asked of ClickHouse, not pulled from it.

`tally_store` sends one query over the ``otel_traces`` table (a second when there are
duplicates, one more for older spans to place) and gets back one row holding a few hundred
groups: calls, errors and the duration sketch's bucket counts per (step, caller,
predecessor), and the number of runs. The edge rule
(`penstock._observed.rule`) is applied to those rows here, the same rule as for files, so the
counts are the same as reading the spans exported to files. `run_records` fetches one trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from penstock._observed.files import NAME_CAP
from penstock._observed.record import DUPLICATE, SCHEMAS, Record, Skipped
from penstock._observed.sketch import INV_LOG_GAMMA, TINY, TINY_BUCKET
from penstock._observed.store_conn import Connection, StoreError, connect
from penstock._observed.store_sql import (
    MATERIALIZED,
    REQUIRED_COLUMNS,
    columns_sql,
    run_ids_sql,
    run_sql,
    runs_of_sql,
    tally_sql,
    trace_window_sql,
    window_sql,
)
from penstock._observed.store_url import StoreURL

__all__ = ["Group", "StoreTally", "run_records", "runs_of", "tally_query", "tally_store"]

_SKIPS = {
    "unknown schema": "unknown schema version",
    "long name": f"name over {NAME_CAP} characters",
    "older": "span of a penstock older than its run structure (replay its trace to place it)",
}


@dataclass(frozen=True)
class Group:
    """Calls of one step with one caller, predecessor and recorded edge, in one bucket."""

    step: str
    parent: str | None
    pred: str | None
    #: The step the recording process said the edge came from (layout 2 on), else None.
    edge_from: str | None
    #: The record layout (1 for spans that do not say).
    schema: int
    bucket: int
    calls: int
    errors: int
    #: The earliest call: (start in ns since the epoch, trace id, span id).
    first: tuple[int, str, str]
    #: When the latest call started (seconds since the epoch).
    last: float


@dataclass
class StoreTally:
    """What the store counted for one flow and window."""

    runs: int = 0
    groups: list[Group] = field(default_factory=list)
    skipped: Skipped = field(default_factory=Skipped)


@contextmanager
def _connection(url: StoreURL) -> Iterator[Connection]:
    conn = connect(url)
    try:
        yield conn
    finally:
        conn.close()


def _settings(url: StoreURL) -> dict[str, Any]:
    # No `readonly` here: a user whose profile says readonly=1 may not change it; penstock
    # sends SELECTs only, and the docs give it a user that can do nothing else.
    settings: dict[str, Any] = {"max_execution_time": url.timeout}
    if url.max_rows:
        settings["max_rows_to_read"] = url.max_rows
    return settings


def check_columns(conn: Connection, url: StoreURL) -> set[str]:
    """The table's columns; raise `StoreError` naming the missing ones (or the missing table)."""
    rows = conn.rows(columns_sql(), {"database": url.database, "table": url.table}, {})
    have = {str(r[0]) for r in rows}
    if not have:
        raise StoreError(
            f"{url.display()}: table not found; the Collector's ClickHouse exporter creates "
            "otel.otel_traces (name others with ?database= and ?table=)"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in have]
    if missing:
        raise StoreError(
            f"{url.display()}: the table lacks column(s) {', '.join(missing)}; penstock reads "
            "the schema of the Collector's ClickHouse exporter"
        )
    return have


def _window(low: float | None, high: float | None) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    if low is not None:
        params["since_ns"] = int(low * 1e9) - 1_000_000_000
        params["since_s"] = low
    if high is not None:
        params["until_ns"] = int(high * 1e9) + 1_000_000_000
        params["until_s"] = high
    return window_sql(low is not None, high is not None), params


def tally_query(url: StoreURL, flow: str, low: float | None, high: float | None) -> str:
    """The counting query, as sent to the exporter's table (parameters as ``{name:Type}``)."""
    window, _ = _window(low, high)
    return f"{tally_sql(url.qualified_table, window)};"


def tally_store(url: StoreURL, flow: str, low: float | None, high: float | None) -> StoreTally:
    """Count the spans of ``flow`` started in ``[low, high)`` (epoch seconds; ``None``: open).

    One query; a second only when a group holds the same span twice (duplicates), counting
    distinct (trace id, span id) exactly. The penstock columns an operator added
    (`MATERIALIZED`) are read instead of the Map when the table has them all.

    Raises:
        StoreError: the store cannot be reached or asked (named, one line).
    """
    window, params = _window(low, high)
    params["flow"] = flow
    params.update(tiny=TINY, inv_log_gamma=INV_LOG_GAMMA, tiny_bucket=TINY_BUCKET)
    table = url.qualified_table
    out = StoreTally()
    with _connection(url) as conn:
        materialized = set(MATERIALIZED.values()) <= check_columns(conn, url)
        rows = conn.rows(tally_sql(table, window, materialized), params, _settings(url))
        groups, runs = rows[0] if rows else ([], 0)
        if any(int(g[7]) != int(g[8]) for g in groups):
            rows = conn.rows(tally_sql(table, window, materialized, True), params, _settings(url))
            groups, runs = rows[0]
    out.runs = int(runs)
    duplicates = 0
    for group in groups:
        step, parent, pred, edge_from, schema, kind, bucket, copies, calls, errors, first, last = (
            group
        )
        calls = int(calls)
        duplicates += int(copies) - calls
        if kind != "current":
            out.skipped[_SKIPS.get(str(kind), str(kind))] += calls
            continue
        start, trace, span = first
        out.groups.append(
            Group(
                str(step),
                parent or None,
                pred or None,
                edge_from or None,
                int(schema or 1),
                int(bucket),
                calls,
                int(errors),
                (int(start), str(trace), str(span)),
                int(last) / 1e9,
            )
        )
    if duplicates:
        out.skipped[DUPLICATE] = duplicates
    return out


def runs_of(
    url: StoreURL,
    flow: str,
    low: float | None,
    high: float | None,
    groups: Iterable[tuple[str, str | None, str | None]],
) -> list[Record]:
    """The flow's records in every run holding a call of one of ``groups``.

    ``groups`` are (step, caller, predecessor) of older spans whose edge the happens-before
    rule decides from their run: their earlier siblings and enclosing calls.
    """
    window, params = _window(low, high)
    params["flow"] = flow
    params["groups"] = "\x1f".join(
        "\x1e".join((step, parent or "", pred or "")) for step, parent, pred in groups
    )
    with _connection(url) as conn:
        rows = conn.rows(runs_of_sql(url.qualified_table, window), params, _settings(url))
    where = url.display()
    return [
        Record(
            str(trace),
            flow,
            str(step),
            parent or None,
            pred or None,
            int(duration) / 1e6,
            "ok",  # the status plays no part in which edge a call took
            int(start) / 1e9,
            str(span) or None,
            str(parent_span) or None,
            where,
            number,
            edge_from or None,
            int(schema or 1),
            True,
        )
        for number, (
            trace,
            step,
            parent,
            pred,
            edge_from,
            schema,
            duration,
            start,
            span,
            parent_span,
        ) in enumerate(rows, 1)
    ]


def run_records(url: StoreURL, flow: str, run: str) -> tuple[list[Record], Skipped, int]:
    """The step records of run ``run`` (a trace id or a unique prefix of one) in ``flow``.

    Fetches only that trace: by its id (the table's bloom filter on ``TraceId``), in the time
    range the exporter's ``*_trace_id_ts`` lookup table gives when it exists.

    Returns:
        The records, what was skipped, and how many traces matched the prefix (0, 1 or more).

    Raises:
        StoreError: the store cannot be reached or asked.
    """
    skipped = Skipped()
    with _connection(url) as conn:
        check_columns(conn, url)
        settings = _settings(url)
        if len(run) == 32:
            traces = [run]
        else:
            found = conn.rows(
                run_ids_sql(url.qualified_table), {"flow": flow, "prefix": run}, settings
            )
            traces = [str(r[0]) for r in found]
            if len(traces) != 1:
                return [], skipped, len(traces)
        trace = traces[0]
        params: dict[str, Any] = {"trace": trace}
        bounded = False
        lookup = conn.rows(
            columns_sql(), {"database": url.database, "table": f"{url.table}_trace_id_ts"}, {}
        )
        if {"TraceId", "Start", "End"} <= {str(r[0]) for r in lookup}:
            span = conn.rows(
                trace_window_sql(f"`{url.database}`.`{url.table}_trace_id_ts`"),
                {"trace": trace},
                settings,
            )
            if span and span[0][0] is not None and int(span[0][0]) > 0:
                bounded = True
                params["since_ns"] = (int(span[0][0]) - 1) * 1_000_000_000
                params["until_ns"] = (int(span[0][1]) + 2) * 1_000_000_000
        rows = conn.rows(run_sql(url.qualified_table, bounded), params, settings)
    records: list[Record] = []
    for number, row in enumerate(rows, 1):
        (
            rflow,
            step,
            parent,
            pred,
            edge_from,
            schema,
            cancelled,
            status_code,
            duration,
            start,
            *ids,
        ) = row
        if not step:
            skipped["foreign span"] += 1
            continue
        if rflow != flow:
            skipped["other flow"] += 1
            continue
        if schema != "" and (not schema.isdigit() or int(schema) not in SCHEMAS):
            skipped["unknown schema version"] += 1
            continue
        span_id, parent_span_id, service = ids
        if status_code in ("Error", "STATUS_CODE_ERROR"):
            status = "error"
        elif cancelled == "true":
            status = "cancelled"
        else:
            status = "ok"
        records.append(
            Record(
                trace,
                rflow,
                step,
                parent or None,
                pred or None,
                int(duration) / 1e6,
                status,
                int(start) / 1e9,
                span_id or None,
                parent_span_id or None,
                f"service {service or '?'}",
                number,
                edge_from or None,
                int(schema or 1),
                True,
            )
        )
    return records, skipped, 1
