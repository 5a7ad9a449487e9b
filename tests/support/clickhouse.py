"""An ``otel_traces`` table in chDB, filled as the Collector's ClickHouse exporter fills it.

The table is created from ``tests/observed/clickhouse/otel_traces.sql`` (the exporter's DDL,
default names). Spans are mapped from OTLP JSON the way the exporter maps a span to a row:
start time as ``Timestamp``, hex ids, ``Duration`` in nanoseconds, the status code as
``Unset``/``Ok``/``Error``, the span kind as ``Internal``/``Server``/..., every attribute value
as a string (``true``, ``17``), the resource's ``service.name`` as ``ServiceName``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tests.support.system import ROOT, missing

DDL = ROOT / "tests" / "observed" / "clickhouse" / "otel_traces.sql"
_KINDS = {0: "Unspecified", 1: "Internal", 2: "Server", 3: "Client", 4: "Producer", 5: "Consumer"}
_STATUS = {0: "Unset", 1: "Ok", 2: "Error"}


def require_chdb() -> Any:
    """The ``chdb.session`` module; skip (fail under CI) when chDB is not installed."""
    try:
        from chdb import session
    except ImportError:  # pragma: no cover - chdb is a dev dependency
        missing("chDB (the chdb package)", "pip install chdb")
    return session


def statements(text: str) -> Iterator[str]:
    """The SQL statements of a script, comments dropped."""
    for chunk in text.split(";"):
        body = "\n".join(
            line for line in chunk.splitlines() if not line.strip().startswith("--")
        ).strip()
        if body:
            yield body


def _string(value: dict[str, Any]) -> str:
    """An OTLP ``AnyValue`` as the exporter stores it in a ``Map(String, String)``."""
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return "true" if value["boolValue"] else "false"
    if "intValue" in value:
        return str(int(value["intValue"]))
    if "doubleValue" in value:
        return repr(float(value["doubleValue"]))
    return json.dumps(value)


def _attrs(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {a["key"]: _string(a["value"]) for a in items or ()}


def exporter_rows(otlp_lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One row per span of the OTLP JSON lines, as the exporter writes it."""
    for line in otlp_lines:
        if not line.strip():
            continue
        for resource in json.loads(line).get("resourceSpans", ()):
            res = _attrs((resource.get("resource") or {}).get("attributes"))
            for scope in resource.get("scopeSpans", ()):
                scope_info = scope.get("scope") or {}
                for span in scope.get("spans", ()):
                    start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
                    yield {
                        "Timestamp": start,
                        "TraceId": span["traceId"],
                        "SpanId": span["spanId"],
                        "ParentSpanId": span.get("parentSpanId", ""),
                        "SpanName": span.get("name", ""),
                        "SpanKind": _KINDS.get(int(span.get("kind", 0)), "Unspecified"),
                        "ServiceName": res.get("service.name", ""),
                        "ResourceAttributes": res,
                        "ScopeName": scope_info.get("name", ""),
                        "ScopeVersion": scope_info.get("version", ""),
                        "SpanAttributes": _attrs(span.get("attributes")),
                        "Duration": end - start,
                        "StatusCode": _STATUS[int((span.get("status") or {}).get("code", 0))],
                        "StatusMessage": (span.get("status") or {}).get("message", ""),
                    }


def create_table(folder: Path, rows: Iterable[dict[str, Any]] = (), copies: int = 1) -> str:
    """A chDB folder with the exporter's table holding ``rows`` (``copies`` times each).

    Returns the ``--from`` source for it.
    """
    session = require_chdb()
    sess = session.Session(str(folder))
    try:
        for statement in statements(DDL.read_text(encoding="utf-8")):
            sess.query(statement)
        insert(sess, rows, copies)
    finally:
        sess.close()
    return f"chdb:{folder}"


def insert(sess: Any, rows: Iterable[dict[str, Any]], copies: int = 1) -> None:
    """Insert ``rows`` (``Timestamp`` in ns) into ``otel.otel_traces`` of an open session."""
    data = []
    for row in rows:
        row = dict(row)
        row["Timestamp"] = f"{row['Timestamp'] // 10**9}.{row['Timestamp'] % 10**9:09d}"
        data.append(json.dumps(row))
    if not data:
        return
    body = "\n".join(data * copies)
    sess.query(
        "INSERT INTO otel.otel_traces SETTINGS date_time_input_format = 'best_effort' "
        f"FORMAT JSONEachRow\n{body}"
    )
