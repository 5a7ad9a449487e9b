"""Where recorded runs are read from when they are in a trace store, not in files.

Two forms name an ``otel_traces`` table as the OpenTelemetry Collector's ClickHouse exporter
creates it:

- ``clickhouse://USER@HOST:PORT/DATABASE?table=otel_traces`` (``clickhouses://`` or
  ``?secure=1`` for TLS): a ClickHouse server's HTTP interface. The password never appears in
  the URL: it is read from the environment variable ``?password_env=`` names (default
  ``PENSTOCK_CLICKHOUSE_PASSWORD``), so pages and logs that show the URL show no secret.
- ``chdb:PATH``: a chDB data folder (ClickHouse in-process), the embedded default.

Database and table default to the exporter's own (``otel``, ``otel_traces``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from penstock._errors import ObservedError

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_PASSWORD_ENV",
    "DEFAULT_TABLE",
    "StoreURL",
    "is_store",
    "parse_store",
    "store_of",
]

DEFAULT_DATABASE = "otel"
DEFAULT_TABLE = "otel_traces"
DEFAULT_PASSWORD_ENV = "PENSTOCK_CLICKHOUSE_PASSWORD"
_SCHEMES = ("clickhouse://", "clickhouses://", "chdb:")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPTIONS = frozenset(
    {"table", "database", "secure", "password_env", "timeout", "max_rows", "verify"}
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class StoreURL:
    """A parsed ``--from`` source.

    Attributes:
        kind: ``"clickhouse"`` (a server, over HTTP) or ``"chdb"`` (a local data folder).
        database: the database holding the table.
        table: the spans table.
        host: the server's host (``clickhouse`` only).
        port: its HTTP port (8123, or 8443 with TLS, unless the URL says).
        user: the user to log in as (``default`` unless the URL says).
        secure: whether to use TLS.
        verify: whether to check the server's certificate (``?verify=0`` turns it off).
        password_env: the environment variable the password is read from.
        path: the chDB data folder (``chdb`` only).
        timeout: the query's time limit in seconds (``max_execution_time``).
        max_rows: the most rows a query may read before it stops (``max_rows_to_read``);
            0 for no limit.
    """

    kind: str
    database: str = DEFAULT_DATABASE
    table: str = DEFAULT_TABLE
    host: str = ""
    port: int = 0
    user: str = "default"
    secure: bool = False
    verify: bool = True
    password_env: str = DEFAULT_PASSWORD_ENV
    path: str = ""
    timeout: float = 60.0
    max_rows: int = 0
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def qualified_table(self) -> str:
        """``database.table``, quoted for SQL."""
        return f"`{self.database}`.`{self.table}`"

    def password(self) -> str:
        """The password from the environment (empty when the variable is not set)."""
        return os.environ.get(self.password_env, "")

    def display(self) -> str:
        """The source as it may be shown: never a password."""
        if self.kind == "chdb":
            where = f"chdb:{self.path}"
        else:
            scheme = "clickhouses" if self.secure else "clickhouse"
            where = f"{scheme}://{self.user}@{self.host}:{self.port}"
        return f"{where} table {self.database}.{self.table}"


def is_store(text: str | os.PathLike[str]) -> bool:
    """Whether ``text`` names a trace store rather than a file or glob."""
    return isinstance(text, str) and text.lower().startswith(_SCHEMES)


def store_of(sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> StoreURL | None:
    """The store ``sources`` names, or ``None`` when they are files.

    Raises:
        ObservedError: a store given together with other sources (one store per query).
    """
    if isinstance(sources, (str, os.PathLike)):
        items: list[str | os.PathLike[str]] = [sources]
    else:
        items = list(sources)
    stores = [s for s in items if is_store(s)]
    if not stores:
        return None
    if len(items) > 1:
        raise ObservedError(
            f"a trace store is read on its own: got {len(items)} sources; give the store "
            "alone, or only files"
        )
    return parse_store(str(stores[0]))


def parse_store(text: str) -> StoreURL:
    """Parse a ``clickhouse://``, ``clickhouses://`` or ``chdb:`` source.

    Raises:
        ObservedError: a URL that does not parse, with what is wrong and an example.
    """
    example = "e.g. clickhouse://reader@127.0.0.1:8123/otel?table=otel_traces or chdb:./traces.chdb"
    if text.lower().startswith("chdb:"):
        rest = text[5:]
        if rest.startswith("//"):
            rest = rest[2:]
        path, _, query = rest.partition("?")
        if not path:
            raise ObservedError(f"source {text!r} names no chDB data folder ({example})")
        options = _options(text, query)
        return _finish(StoreURL(kind="chdb", path=unquote(path)), options, text)
    parts = urlsplit(text)
    if parts.password is not None:
        raise ObservedError(
            f"source {_redacted(text)!r} has a password in the URL; put it in the "
            f"environment variable {DEFAULT_PASSWORD_ENV} (or the one ?password_env= names) "
            "instead, so it shows in no page or log"
        )
    secure = parts.scheme.lower() == "clickhouses"
    if not parts.hostname:
        raise ObservedError(f"source {text!r} names no host ({example})")
    try:
        port = parts.port
    except ValueError:
        raise ObservedError(f"source {text!r} has an invalid port ({example})") from None
    options = _options(text, parts.query)
    if "secure" in options:
        secure = _flag(options.pop("secure"), "secure", text)
    database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
    url = StoreURL(
        kind="clickhouse",
        host=parts.hostname,
        port=port or (8443 if secure else 8123),
        user=unquote(parts.username) if parts.username else "default",
        secure=secure,
        database=database,
    )
    return _finish(url, options, text)


def _options(text: str, query: str) -> dict[str, str]:
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ObservedError(
            f"source {_redacted(text)!r}: unknown option(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_OPTIONS))})"
        )
    return options


def _flag(value: str, name: str, text: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ObservedError(f"source {_redacted(text)!r}: ?{name}= must be 1 or 0, got {value!r}")


def _finish(url: StoreURL, options: dict[str, str], text: str) -> StoreURL:
    changes: dict[str, object] = {}
    for key in ("database", "table"):
        if key in options:
            value = options.pop(key)
            if not _NAME.match(value):
                raise ObservedError(
                    f"source {_redacted(text)!r}: {key} {value!r} is not a plain name "
                    "(letters, digits, _)"
                )
            changes[key] = value
    for key in ("database", "table"):
        value = str(changes.get(key, getattr(url, key)))
        if not _NAME.match(value):
            raise ObservedError(
                f"source {_redacted(text)!r}: {key} {value!r} is not a plain name "
                "(letters, digits, _)"
            )
    if "password_env" in options:
        changes["password_env"] = options.pop("password_env")
    if "verify" in options:
        changes["verify"] = _flag(options.pop("verify"), "verify", text)
    if "timeout" in options:
        raw = options.pop("timeout")
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < 1e6:
            raise ObservedError(
                f"source {_redacted(text)!r}: ?timeout= must be seconds > 0, got {raw!r}"
            )
        changes["timeout"] = timeout
    if "max_rows" in options:
        raw = options.pop("max_rows")
        if not raw.isdigit():
            raise ObservedError(
                f"source {_redacted(text)!r}: ?max_rows= must be a whole number, got {raw!r}"
            )
        changes["max_rows"] = int(raw)
    if not changes:
        return url
    from dataclasses import replace

    return replace(url, **changes)  # type: ignore[arg-type]  # keys checked above


def _redacted(text: str) -> str:
    """``text`` with any password in its user part replaced by ``***``."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", text)
