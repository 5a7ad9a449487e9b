"""HTTP requests continue the caller's run: penstock's ASGI and WSGI middlewares on real servers.

FastAPI, Starlette, Quart and Django's ASGI handler under uvicorn; Django's WSGI handler and Flask
under waitress; requests with httpx over loopback sockets. The caller is a penstock step that
writes its context into the request's headers with `penstock.propagation.inject`, so each test
compares the server's records with the caller's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import penstock
from penstock import entrypoint, flow
from penstock.contrib.asgi import PenstockMiddleware, asgi_headers_getter
from penstock.contrib.wsgi import PenstockWSGIMiddleware, wsgi_environ_getter
from penstock.propagation import inject
from penstock.testing import RecordingBackend, recording
from tests.support.web import serve_asgi, serve_wsgi

httpx = pytest.importorskip("httpx", reason="httpx (pip install -e '.[dev]')")
pytest.importorskip("fastapi", reason="fastapi (pip install -e '.[dev]')")
pytest.importorskip("django", reason="django (pip install -e '.[dev]')")
pytest.importorskip("flask", reason="flask (pip install -e '.[dev]')")
pytest.importorskip("quart", reason="quart (pip install -e '.[dev]')")

from tests.contrib import web_apps  # noqa: E402 (needs the frameworks checked above)

SERVERS = ("fastapi", "starlette", "quart", "django-asgi", "django-wsgi", "flask")


@pytest.fixture(scope="module")
def shop() -> web_apps.Shop:
    return web_apps.build()


@pytest.fixture(scope="module")
def urls(shop: web_apps.Shop) -> Iterator[dict[str, str]]:
    """Every app of the shop served at once, by name."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        found = {name: stack.enter_context(serve_asgi(app)) for name, app in shop.asgi.items()}
        found.update(
            {name: stack.enter_context(serve_wsgi(app)) for name, app in shop.wsgi.items()}
        )
        yield found


@pytest.fixture
def recorder() -> Iterator[RecordingBackend]:
    with recording() as backend:
        yield backend


def _caller() -> Any:
    """A step of another service that calls the shop with its context in the headers."""

    @flow("storefront")
    @entrypoint
    def call_shop(url: str) -> tuple[httpx.Response, str]:
        headers: dict[str, str] = {}
        inject(headers)
        return httpx.get(url, headers=headers, timeout=10), penstock.current_correlation_id()

    return call_shop


@pytest.mark.parametrize("server", SERVERS)
def test_a_request_continues_the_callers_run(
    server: str, urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """The entrypoint a request calls runs in the caller's run, under the caller's step; the
    response names that run."""
    response, caller_id = _caller()(f"{urls[server]}/order")
    assert response.status_code == 200
    assert response.json() == {"correlation_id": caller_id}
    assert response.headers["x-correlation-id"] == caller_id
    served = recorder.get("place_order", flow=web_apps.FLOW)
    assert served.correlation_id == caller_id
    assert served.parent_step == "call_shop"
    assert served.trace_id == recorder.get("call_shop").trace_id
    confirm = recorder.get("confirm_order", flow=web_apps.FLOW)
    assert confirm.correlation_id == caller_id
    assert confirm.parent_step == "place_order"


@pytest.mark.parametrize("server", SERVERS)
def test_a_request_without_context_starts_a_run_the_response_names(
    server: str, urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """No ``traceparent``: the entrypoint starts a fresh run, and the header carries its ID."""
    response = httpx.get(f"{urls[server]}/order", timeout=10)
    served = recorder.get("place_order", flow=web_apps.FLOW)
    assert served.parent_step is None
    assert response.headers["x-correlation-id"] == served.correlation_id
    assert response.json() == {"correlation_id": served.correlation_id}


@pytest.mark.parametrize("server", SERVERS)
def test_a_malformed_context_starts_a_fresh_run(
    server: str, urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """A ``traceparent`` penstock's parser refuses is ignored, as every integration ignores it."""
    bad = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g"  # flags not hex
    response = httpx.get(f"{urls[server]}/order", headers={"traceparent": bad}, timeout=10)
    served = recorder.get("place_order", flow=web_apps.FLOW)
    assert served.correlation_id != "0af7651916cd43dd8448eb211c80319c"
    assert served.parent_step is None
    assert response.headers["x-correlation-id"] == served.correlation_id


@pytest.mark.parametrize("server", SERVERS)
def test_streamed_bodies_pass_through_untouched(
    server: str, urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """A streamed response arrives byte for byte; a request that started no run has no header."""
    with httpx.stream("GET", f"{urls[server]}/stream", timeout=10) as response:
        body = b"".join(response.iter_bytes())
    assert body == b"".join(web_apps.CHUNKS)
    assert "x-correlation-id" not in response.headers
    assert recorder.records == []


@pytest.mark.parametrize("server", SERVERS)
def test_a_header_the_application_set_is_kept(
    server: str, urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """The application's own ``X-Correlation-ID`` wins; no second header is added."""
    response = httpx.get(f"{urls[server]}/own-header", timeout=10)
    assert response.headers.get_list("x-correlation-id") == ["mine"]


def test_async_endpoints_continue_the_run_too(
    urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """An ``async def`` endpoint (run on the event loop, not in a thread) continues the run."""
    response, caller_id = _caller()(f"{urls['fastapi']}/async-order")
    assert response.json() == {"correlation_id": caller_id}
    assert response.headers["x-correlation-id"] == caller_id


def test_lifespan_events_reach_the_application(urls: dict[str, str]) -> None:
    """FastAPI's lifespan startup ran through the middleware."""
    assert httpx.get(f"{urls['fastapi']}/lifespan", timeout=10).json() == {"started": True}


def test_a_websocket_continues_the_run_of_its_handshake(
    urls: dict[str, str], recorder: RecordingBackend
) -> None:
    """Messages pass untouched; the step the websocket handler calls is in the caller's run."""
    from websockets.sync.client import connect

    @flow("storefront")
    @entrypoint
    def open_socket(url: str) -> tuple[str, str]:
        headers: dict[str, str] = {}
        inject(headers)
        with connect(url, additional_headers=headers) as socket:
            socket.send("hello")
            reply = str(socket.recv(timeout=10))
        return reply, penstock.current_correlation_id() or ""

    reply, caller_id = open_socket(urls["fastapi"].replace("http", "ws") + "/ws")
    assert reply == f"hello|{caller_id}"
    assert recorder.get("place_order", flow=web_apps.FLOW).parent_step == "open_socket"


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_the_header_can_be_renamed_or_turned_off(kind: str, recorder: RecordingBackend) -> None:
    """``correlation_header="X-Request-ID"`` renames it; ``None`` sends none."""
    serve = serve_asgi if kind == "asgi" else serve_wsgi
    name = "fastapi" if kind == "asgi" else "flask"
    renamed = web_apps.build(correlation_header="X-Request-ID")
    silent = web_apps.build(correlation_header=None)
    with serve(getattr(renamed, kind)[name]) as url:
        response = httpx.get(f"{url}/order", timeout=10)
        assert response.headers["x-request-id"] == response.json()["correlation_id"]
        assert "x-correlation-id" not in response.headers
    with serve(getattr(silent, kind)[name]) as url:
        response = httpx.get(f"{url}/order", timeout=10)
        assert response.json()["correlation_id"]
        assert "x-correlation-id" not in response.headers


@pytest.mark.parametrize("middleware", [PenstockMiddleware, PenstockWSGIMiddleware])
def test_a_bad_header_name_is_refused_when_wrapping(middleware: Any) -> None:
    """A header name HTTP would not accept fails at start-up, naming the argument."""
    with pytest.raises(ValueError, match=r"correlation_header='X Correlation' is not an HTTP"):
        middleware(lambda *args: None, correlation_header="X Correlation")


def test_the_getters_hand_over_every_value_of_a_repeated_header() -> None:
    """Two ``traceparent`` headers reach penstock's parser as two values (which it refuses)."""
    headers = [(b"traceparent", b"a"), (b"host", b"x"), (b"traceparent", b"b")]
    assert asgi_headers_getter.get(headers, "traceparent") == ["a", "b"]
    assert asgi_headers_getter.get(headers, "tracestate") is None
    assert asgi_headers_getter.keys(headers) == ["traceparent", "host", "traceparent"]
    environ = {"HTTP_TRACEPARENT": "a", "HTTP_X_FORWARDED_FOR": "b", "PATH_INFO": "/"}
    assert wsgi_environ_getter.get(environ, "traceparent") == ["a"]
    assert wsgi_environ_getter.keys(environ) == ["traceparent", "x-forwarded-for"]


def test_a_failing_backend_never_breaks_a_request(urls: dict[str, str]) -> None:
    """A backend that raises in every hook: the request still answers, with the run's ID."""

    class Broken(RecordingBackend):
        def on_start(self, **kwargs: Any) -> None:
            raise RuntimeError("backend down")

        def on_end(self, **kwargs: Any) -> None:
            raise RuntimeError("backend down")

    penstock.configure(backend=Broken())
    response = httpx.get(f"{urls['fastapi']}/order", timeout=10)
    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == response.json()["correlation_id"]


def _one_trace_under(spans: Any, caller_id: str, server_kind_from: str) -> None:
    """Every span is in the caller's trace; exactly one SERVER span, ``place_order`` under it."""
    from opentelemetry.trace import SpanKind

    assert {f"{s.context.trace_id:032x}" for s in spans} == {caller_id}
    by_id = {s.context.span_id: s for s in spans}
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert len(servers) == 1, [(s.name, s.kind) for s in spans]
    assert servers[0].instrumentation_scope.name.startswith(server_kind_from)
    (placed,) = [s for s in spans if s.name == "web_shop.place_order"]
    ancestors = []
    parent = placed.parent
    while parent is not None and parent.span_id in by_id:
        ancestors.append(by_id[parent.span_id])
        parent = by_id[parent.span_id].parent
    assert servers[0] in ancestors
    assert ancestors[-1].name == "storefront.call_shop"


def test_next_to_opentelemetrys_asgi_instrumentation(otel_spans: Any) -> None:
    """FastAPIInstrumentor owns the request's SERVER span; penstock's steps nest in it, in the
    caller's trace, and the headers are read once."""
    instrumentor = pytest.importorskip(
        "opentelemetry.instrumentation.fastapi", reason="opentelemetry-instrumentation-fastapi"
    )
    app = web_apps.build().asgi["fastapi"]
    instrumentor.FastAPIInstrumentor.instrument_app(app, tracer_provider=otel_spans.provider)
    with serve_asgi(app) as url:
        response, caller_id = _caller()(f"{url}/order")
    assert response.headers["x-correlation-id"] == caller_id
    _one_trace_under(otel_spans.get_finished_spans(), caller_id, "opentelemetry.instrumentation")


def test_next_to_opentelemetrys_wsgi_instrumentation(otel_spans: Any) -> None:
    """OpenTelemetry's WSGI middleware around Flask's: one SERVER span, penstock's inside it."""
    otel_wsgi = pytest.importorskip(
        "opentelemetry.instrumentation.wsgi", reason="opentelemetry-instrumentation-wsgi"
    )
    app = web_apps.build().wsgi["flask"]
    app.wsgi_app = otel_wsgi.OpenTelemetryMiddleware(
        app.wsgi_app, tracer_provider=otel_spans.provider
    )
    with serve_wsgi(app) as url:
        response, caller_id = _caller()(f"{url}/order")
    assert response.headers["x-correlation-id"] == caller_id
    _one_trace_under(otel_spans.get_finished_spans(), caller_id, "opentelemetry.instrumentation")


@pytest.mark.parametrize("server", ["fastapi", "flask"])
def test_under_the_otel_backend_alone_the_entrypoint_is_the_server_span(
    server: str, urls: dict[str, str], otel_spans: Any
) -> None:
    """No HTTP instrumentation: the middleware continues the trace and the entrypoint is the
    SERVER span, with the request's method, scheme and path."""
    from opentelemetry.trace import SpanKind

    response, caller_id = _caller()(f"{urls[server]}/order")
    assert response.headers["x-correlation-id"] == caller_id
    spans = otel_spans.get_finished_spans()
    assert {f"{s.context.trace_id:032x}" for s in spans} == {caller_id}
    (placed,) = [s for s in spans if s.name == "web_shop.place_order"]
    (called,) = [s for s in spans if s.name == "storefront.call_shop"]
    assert placed.kind == SpanKind.SERVER
    assert placed.parent is not None
    assert placed.parent.span_id == called.context.span_id
    assert placed.attributes is not None
    assert placed.attributes["http.request.method"] == "GET"
    assert placed.attributes["url.path"] == "/order"
    assert placed.attributes["url.scheme"] == "http"
