"""Talking to a trace store: one small interface over a ClickHouse server and chDB.

A server is reached through ``clickhouse-connect`` (its HTTP interface, the extra
``penstock-flows[clickhouse]``), a chDB data folder through ``chdb`` in the same process. Both take
the same SQL with the same ``{name:Type}`` parameters and the same settings, and both report a
failure as a `StoreError` of one line: what went wrong, where, and what to do about it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from penstock._errors import ObservedError
from penstock._observed.store_url import StoreURL

__all__ = ["Connection", "StoreError", "connect"]

Rows = list[tuple[Any, ...]]


class StoreError(ObservedError):
    """A trace store cannot be asked: unreachable, refused, missing columns, over a limit."""


class Connection(Protocol):
    """Runs one read-only query and returns its rows."""

    def rows(self, sql: str, params: Mapping[str, Any], settings: Mapping[str, Any]) -> Rows:
        """The rows ``sql`` returns (values as JSON gives them: numbers, strings, lists)."""
        ...  # pragma: no cover - a protocol

    def close(self) -> None:
        """Release the connection."""
        ...  # pragma: no cover - a protocol


def connect(url: StoreURL) -> Connection:
    """A connection to the store ``url`` names.

    Raises:
        StoreError: the client library is missing, or the store cannot be reached.
    """
    if url.kind == "chdb":
        return _ChdbConnection(url)
    return _HttpConnection(url)


#: ClickHouse error codes and what they mean for someone running ``penstock observe``.
_CODES: dict[int, str] = {
    81: "database not found",
    60: "table not found",
    47: "a column is missing",
    159: "time limit",
    158: "row limit",
    516: "authentication",
    192: "authentication",
    193: "authentication",
    194: "authentication",
    497: "permission",
    164: "readonly",
}
_CODE = re.compile(r"Code:\s*(\d+)")


def explain(url: StoreURL, message: str) -> str:
    """One line for a ClickHouse error ``message`` from the store ``url``."""
    found = _CODE.search(message)
    code = int(found.group(1)) if found else 0
    kind = _CODES.get(code)
    where = url.display()
    if kind == "time limit":
        return (
            f"{where}: the query ran over its time limit of {url.timeout:g} s "
            "(max_execution_time); narrow --since/--until or raise ?timeout="
        )
    if kind == "row limit":
        return (
            f"{where}: the query would read more than {url.max_rows:,} rows (max_rows_to_read); "
            "narrow --since/--until or raise ?max_rows= (0 for no limit)"
        )
    if kind == "authentication":
        return (
            f"{where}: the server refused user {url.user!r} (wrong user or password); the "
            f"password is read from the environment variable {url.password_env}"
        )
    if kind == "readonly":
        return (
            f"{where}: user {url.user!r} may not set the query's limits "
            "(max_execution_time): give it readonly = 2 instead of 1"
        )
    if kind == "permission":
        return f"{where}: user {url.user!r} may not read the table ({_first_line(message)})"
    if kind in ("database not found", "table not found"):
        return f"{where}: {kind} ({_first_line(message)})"
    return f"{where}: {_first_line(message)}"


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    # ClickHouse appends a stack trace and its version after the message: keep what helps.
    line = re.sub(r"\s*\(version [^)]*\)\s*$", "", line)
    line = re.sub(r"^.*?DB::Exception:\s*", "", line)
    return line[:400]


class _ChdbConnection:
    def __init__(self, url: StoreURL) -> None:
        from pathlib import Path

        self.url = url
        try:
            from chdb import session
        except ImportError:
            raise StoreError(
                f"{url.display()}: reading a chDB folder needs the chdb package (pip install chdb)"
            ) from None
        folder = Path(url.path)
        if not folder.is_dir():
            raise StoreError(f"chDB data folder {url.path!r} not found (looked for {folder})")
        # chDB ships no type hints: held as Any, the calls below are checked by the tests.
        opener: Any = session.Session
        try:
            self._session: Any = opener(str(folder))
        except Exception as exc:  # chDB raises its own error types; the message says why
            raise StoreError(explain(url, str(exc))) from None

    def rows(self, sql: str, params: Mapping[str, Any], settings: Mapping[str, Any]) -> Rows:
        text = sql
        if settings:
            text += "\nSETTINGS " + ", ".join(f"{k} = {_setting(v)}" for k, v in settings.items())
        try:
            result = self._session.query(text, "JSONCompact", params=dict(params))
        except Exception as exc:  # chDB raises its own error types; the message says why
            raise StoreError(explain(self.url, str(exc))) from None
        data = result.bytes()
        if not data:
            return []
        return [tuple(row) for row in json.loads(data)["data"]]

    def close(self) -> None:
        self._session.close()


def _setting(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


@contextmanager
def _quiet_client() -> Iterator[None]:
    """The client's logger, quieted for one call (and restored after).

    The client logs a failed request at ERROR before raising it; penstock reports the error
    itself, in one line.
    """
    logger = logging.getLogger("clickhouse_connect")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


class _HttpConnection:
    def __init__(self, url: StoreURL) -> None:
        self.url = url
        try:
            import clickhouse_connect
            from clickhouse_connect.driver import exceptions
        except ImportError:
            raise StoreError(
                f"{url.display()}: reading a ClickHouse server needs clickhouse-connect "
                "(pip install 'penstock-flows[clickhouse]')"
            ) from None
        self._errors = exceptions
        try:
            with _quiet_client():
                self._client = clickhouse_connect.get_client(
                    host=url.host,
                    port=url.port,
                    username=url.user,
                    password=url.password(),
                    database=url.database,
                    secure=url.secure,
                    verify=url.verify,
                    connect_timeout=min(url.timeout, 10.0),
                    send_receive_timeout=url.timeout + 5.0,
                    client_name="penstock",
                    autogenerate_session_id=False,
                )
        except exceptions.DatabaseError as exc:
            raise StoreError(self._explain(exc)) from None
        except Exception as exc:  # urllib3/ssl errors that the client does not wrap
            raise StoreError(self._unreachable(exc)) from None

    def _unreachable(self, exc: BaseException) -> str:
        scheme = "https" if self.url.secure else "http"
        reason = _first_line(str(exc))
        if re.search(r"Connection refused|Max retries|timed out|Name or service", reason):
            reason = re.sub(
                r".*?(Connection refused|timed out|Name or service not known).*", r"\1", reason
            )
        return (
            f"{self.url.display()}: cannot reach the server over {scheme} "
            f"({reason}); is it running, and is the port its HTTP interface's?"
        )

    def _explain(self, exc: BaseException) -> str:
        message = str(exc)
        if _CODE.search(message):
            return explain(self.url, message)
        return self._unreachable(exc)

    def rows(self, sql: str, params: Mapping[str, Any], settings: Mapping[str, Any]) -> Rows:
        try:
            with _quiet_client():
                result = self._client.query(sql, parameters=dict(params), settings=dict(settings))
        except self._errors.DatabaseError as exc:
            raise StoreError(self._explain(exc)) from None
        except Exception as exc:  # urllib3/ssl errors that the client does not wrap
            raise StoreError(self._unreachable(exc)) from None
        return [tuple(_plain(v) for v in row) for row in result.result_rows]

    def close(self) -> None:
        self._client.close()


def _plain(value: Any) -> Any:
    """A value as JSON would give it (tuples as lists), so both connections agree."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def rows_as(rows: Rows, names: Sequence[str]) -> list[dict[str, Any]]:
    """``rows`` as dicts keyed by ``names`` (for readable code where columns are many)."""
    return [dict(zip(names, row, strict=True)) for row in rows]
