"""An ``otel_traces`` table in chDB, filled as the Collector's ClickHouse exporter fills it.

The table is created from ``tests/observed/clickhouse/otel_traces.sql`` (the exporter's DDL,
default names). Spans are mapped from OTLP JSON the way the exporter maps a span to a row:
start time as ``Timestamp``, hex ids, ``Duration`` in nanoseconds, the status code as
``Unset``/``Ok``/``Error``, the span kind as ``Internal``/``Server``/..., every attribute value
as a string (``true``, ``17``), the resource's ``service.name`` as ``ServiceName``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from penstock._observed.store_sql import materialized_sql
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


def create_table(
    folder: Path,
    rows: Iterable[dict[str, Any]] = (),
    copies: int = 1,
    materialized: bool = False,
) -> str:
    """A chDB folder with the exporter's table holding ``rows`` (``copies`` times each).

    ``materialized``: with penstock's optional columns added after the rows were inserted
    (the statements the docs give operators).

    Returns the ``--from`` source for it.
    """
    session = require_chdb()
    sess = session.Session(str(folder))
    try:
        for statement in statements(DDL.read_text(encoding="utf-8")):
            sess.query(statement)
        insert(sess, rows, copies)
        if materialized:
            for statement in materialized_sql("otel.otel_traces"):
                sess.query(statement + " SETTINGS mutations_sync = 2")
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


class ChdbHttpServer:
    """ClickHouse's HTTP interface on 127.0.0.1, answered by chDB (the same engine).

    No ClickHouse server installs here; this serves what the HTTP client sends (the query in
    the body or ``?query=``, ``param_*`` values, the limits penstock sets, the user and
    password) to a chDB session, and answers with the engine's own output in the format the
    query asks for, or its error with ``X-ClickHouse-Exception-Code``, as a server does.
    """

    #: The settings penstock sends that the session applies (others are the client's own).
    SETTINGS = ("max_execution_time", "max_rows_to_read")

    def __init__(self, folder: Path, user: str = "reader", password: str = "s3cret") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        session = require_chdb()
        self.session = session.Session(str(folder))
        self.user, self.password = user, password
        self.queries: list[str] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                from urllib.parse import parse_qsl, urlsplit

                query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                text = "\n".join(t for t in (query.pop("query", ""), body) if t)
                if not outer._authorized(dict(self.headers)):
                    self._error(
                        516,
                        403,
                        f"Code: 516. DB::Exception: {outer.user}: Authentication failed. "
                        "(AUTHENTICATION_FAILED)",
                    )
                    return
                params = {k[6:]: v for k, v in query.items() if k.startswith("param_")}
                outer.queries.append(text)
                try:
                    with lock:
                        for key in outer.SETTINGS:
                            if key in query:
                                outer.session.query(f"SET {key} = {float(query[key]):g}")
                        data = outer.session.query(text, "TabSeparated", params=params).bytes()
                except Exception as exc:  # the engine's error, passed on as a server does
                    message = str(exc)
                    found = re.search(r"Code: (\d+)", message)
                    self._error(int(found.group(1)) if found else 1000, 500, message)
                    return
                data = data or b""
                self.send_response(200)
                self.send_header("X-ClickHouse-Timezone", "UTC")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, code: int, status: int, message: str) -> None:
                data = (message + "\n").encode()
                self.send_response(status)
                self.send_header("X-ClickHouse-Exception-Code", str(code))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _authorized(self, headers: dict[str, str]) -> bool:
        import base64

        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth.split()[1]).decode().partition(":")
        else:
            user = headers.get("X-ClickHouse-User", "")
            password = headers.get("X-ClickHouse-Key", "")
        return (user, password) == (self.user, self.password)

    def __enter__(self) -> ChdbHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.session.close()
