"""The ``clickhouse://`` source through the real HTTP client, against what runs here.

No ClickHouse server installs on this machine (Debian's is too old for ``Map``; the package
index has no server build). The client path is tested two ways: against a local HTTP server
that answers as ClickHouse's HTTP interface does when it refuses a request (an error code in
``X-ClickHouse-Exception-Code``, a ``Code: N. DB::Exception: ...`` body), and against the
ClickHouse engine itself (chDB) behind a small HTTP front, for the answers.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from penstock.cli import main
from tests.observed import shop

pytest.importorskip("clickhouse_connect")

AUTH = (
    516,
    403,
    "Code: 516. DB::Exception: reader: Authentication failed: password is incorrect, or "
    "there is no user with such name. (AUTHENTICATION_FAILED) (version 25.8.1.1)",
)
TIMEOUT = (
    159,
    500,
    "Code: 159. DB::Exception: Timeout exceeded: elapsed 2.000 sec., maximum: 2. "
    "(TIMEOUT_EXCEEDED) (version 25.8.1.1)",
)

READONLY = (
    164,
    500,
    "Code: 164. DB::Exception: reader: Cannot modify 'max_execution_time' setting in readonly "
    "mode. (READONLY) (version 25.8.1.1)",
)


class _Refusing(ThreadingHTTPServer):
    """Answers every request with one ClickHouse error, and keeps what it was sent."""

    def __init__(self, error: tuple[int, int, str]) -> None:
        self.error = error
        self.requests: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Refusing

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        self.server.requests.append({**dict(self.headers), "path": self.path, "body": body})
        code, status, message = self.server.error
        data = (message + "\n").encode()
        self.send_response(status)
        self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serving(error: tuple[int, int, str]) -> Iterator[_Refusing]:
    server = _Refusing(error)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refusing_auth() -> Iterator[_Refusing]:
    yield from _serving(AUTH)


@pytest.fixture
def timing_out() -> Iterator[_Refusing]:
    yield from _serving(TIMEOUT)


@pytest.fixture
def readonly_profile() -> Iterator[_Refusing]:
    yield from _serving(READONLY)


def _credentials(request: dict[str, str]) -> tuple[str, str]:
    """The user and password a request carried (basic auth, or ClickHouse's headers)."""
    auth = request.get("Authorization", "")
    if auth.startswith("Basic "):
        user, _, password = base64.b64decode(auth.split()[1]).decode().partition(":")
        return user, password
    return request.get("X-ClickHouse-User", ""), request.get("X-ClickHouse-Key", "")


def _observe(source: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    shop.declare()
    code = main(["-m", "tests.observed.shop_module", "observe", shop.FLOW, "--from", source])
    out, err = capsys.readouterr()
    return code, out, err


def test_wrong_credentials_are_one_line_naming_the_user_and_the_variable(
    refusing_auth: _Refusing,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exit 2, one line; the password travels from the environment, never from the URL."""
    monkeypatch.setenv("PENSTOCK_CLICKHOUSE_PASSWORD", "s3cret")
    port = refusing_auth.server_address[1]
    code, out, err = _observe(f"clickhouse://reader@127.0.0.1:{port}/otel", capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "refused user 'reader' (wrong user or password)" in err
    assert "PENSTOCK_CLICKHOUSE_PASSWORD" in err
    assert "s3cret" not in err
    assert _credentials(refusing_auth.requests[0]) == ("reader", "s3cret")


def test_password_variable_is_named_by_the_url(
    refusing_auth: _Refusing,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`?password_env=` picks the variable the password is read from."""
    monkeypatch.setenv("TRACES_PASSWORD", "other")
    port = refusing_auth.server_address[1]
    code, _, err = _observe(
        f"clickhouse://reader@127.0.0.1:{port}/otel?password_env=TRACES_PASSWORD", capsys
    )
    assert code == 2
    assert "TRACES_PASSWORD" in err
    assert _credentials(refusing_auth.requests[0]) == ("reader", "other")


def test_a_query_over_its_time_limit_is_one_line(
    timing_out: _Refusing, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server's TIMEOUT_EXCEEDED says which limit and how to narrow the query."""
    port = timing_out.server_address[1]
    code, _, err = _observe(f"clickhouse://reader@127.0.0.1:{port}/otel?timeout=2", capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "ran over its time limit of 2 s (max_execution_time)" in err
    assert "--since/--until" in err


def test_a_user_that_may_not_set_limits_is_told_what_to_change(
    readonly_profile: _Refusing, capsys: pytest.CaptureFixture[str]
) -> None:
    """A readonly=1 profile refuses max_execution_time: the line says to use readonly = 2."""
    port = readonly_profile.server_address[1]
    code, _, err = _observe(f"clickhouse://reader@127.0.0.1:{port}/otel", capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "may not set the query's limits" in err
    assert "readonly = 2" in err


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listening: exit 2, one line, no traceback, no client log noise."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = _observe(f"clickhouse://reader@127.0.0.1:{port}/otel?timeout=2", capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert f"clickhouse://reader@127.0.0.1:{port} table otel.otel_traces: cannot reach" in err
    assert "Connection refused" in err


def test_a_password_in_the_url_is_refused_and_not_echoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The URL may end up in a page or a log: a password in it is an error, shown masked."""
    code, _, err = _observe("clickhouse://reader:hunter2@127.0.0.1:8123/otel", capsys)
    assert code == 2
    assert "hunter2" not in err
    assert "reader:***@" in err
    assert "PENSTOCK_CLICKHOUSE_PASSWORD" in err


def test_tls_is_asked_for_by_scheme_or_option() -> None:
    """`clickhouses://` and `?secure=1` mean TLS (port 8443 unless given)."""
    from penstock._observed.store_url import parse_store

    assert parse_store("clickhouses://r@h/otel").secure
    assert parse_store("clickhouses://r@h/otel").port == 8443
    on = parse_store("clickhouse://r@h:9440/db?secure=1&table=spans")
    assert (on.secure, on.port, on.database, on.table) == (True, 9440, "db", "spans")
    assert not parse_store("clickhouse://r@h/otel").secure
    local = parse_store("chdb:./data?database=traces&table=spans")
    assert (local.path, local.database, local.table) == ("./data", "traces", "spans")


def test_observe_json_through_the_http_client_is_the_same_as_from_the_files(
    otlp_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole clickhouse:// path (client, parameters, limits, result format) against the
    ClickHouse engine behind an HTTP front: the same JSON as from the OTLP files."""
    from tests.support.clickhouse import ChdbHttpServer, create_table, exporter_rows

    rows = list(exporter_rows(otlp_file.read_text(encoding="utf-8").splitlines()))
    folder = tmp_path / "traces.chdb"
    create_table(folder, rows)
    monkeypatch.setenv("PENSTOCK_CLICKHOUSE_PASSWORD", "s3cret")
    shop.declare()
    args = ["-m", "tests.observed.shop_module", "observe", shop.FLOW]
    assert main([*args, str(otlp_file), "-f", "json"]) == 0
    from_files = json.loads(capsys.readouterr().out)
    with ChdbHttpServer(folder) as server:
        source = f"clickhouse://reader@127.0.0.1:{server.port}/otel?timeout=120"
        assert main([*args, "--from", source, "-f", "json"]) == 0
        out, err = capsys.readouterr()
        failed = next(r["TraceId"] for r in rows if r["StatusCode"] == "Error")
        assert main([*args, "--from", source, "--run", failed[:10], "-f", "json"]) == 0
        replayed = json.loads(capsys.readouterr().out)
        sent = list(server.queries)
    from_store = json.loads(out)
    assert err == ""
    assert from_files.pop("foreign_spans") > 0
    assert from_store.pop("foreign_spans") == 0
    assert from_store == from_files
    assert replayed["run"] == failed
    assert replayed["status"] == "error"
    assert any("{flow:String}" in q for q in sent)  # values travel as parameters
    assert not any("'shop'" in q for q in sent)
