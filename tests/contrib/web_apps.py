"""One small shop, served by FastAPI, Starlette, Quart, Django (ASGI and WSGI) and Flask.

Every app answers the same routes, each wrapped in penstock's ASGI or WSGI middleware:

- ``/order``: calls the ``place_order`` entrypoint, answers the correlation ID it ran under;
- ``/stream``: a streamed body of three chunks, no step;
- ``/own-header``: sets ``X-Correlation-ID: mine`` itself, then calls the entrypoint;
- ``/lifespan`` (ASGI apps with a lifespan): whether startup ran; ``/ws``: a websocket echo.

`build` declares the steps and makes the apps (call it from a module-scoped fixture, so that
the steps leave the registry with the module's tests).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket  # at module level: FastAPI resolves the endpoint's annotations here

import penstock
from penstock import entrypoint, flow, step
from penstock.contrib.asgi import PenstockMiddleware
from penstock.contrib.wsgi import PenstockWSGIMiddleware

FLOW = "web_shop"
CHUNKS = (b"first chunk;", b"second chunk;", b"third chunk")


@dataclass
class Shop:
    """The apps, by name, and the steps they run."""

    asgi: dict[str, Any]
    wsgi: dict[str, Any]
    place_order: Any


def build(**middleware: Any) -> Shop:
    """Declare the shop's flow and make every app (``middleware``: the middlewares' options)."""

    @flow(FLOW)
    @entrypoint
    def place_order(item: str) -> str:
        confirm_order(item)
        return penstock.current_correlation_id() or ""

    @flow(FLOW)
    @step(after=place_order)
    def confirm_order(item: str) -> str:
        return item

    def stream() -> Iterator[bytes]:
        yield from CHUNKS

    return Shop(
        asgi={
            "fastapi": _fastapi(place_order, stream, middleware),
            "starlette": _starlette(place_order, stream, middleware),
            "django-asgi": PenstockMiddleware(_django("asgi", place_order, stream), **middleware),
            "quart": _quart(place_order, stream, middleware),
        },
        wsgi={
            "django-wsgi": PenstockWSGIMiddleware(
                _django("wsgi", place_order, stream), **middleware
            ),
            "flask": _flask(place_order, stream, middleware),
        },
        place_order=place_order,
    )


def _fastapi(place_order: Any, stream: Any, middleware: dict[str, Any]) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, StreamingResponse

    state = {"started": False}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["started"] = True
        yield

    app = without_native_telemetry(FastAPI, lifespan=lifespan)

    @app.get("/order")
    def order() -> dict[str, str]:  # a sync endpoint: FastAPI runs it in a worker thread
        return {"correlation_id": place_order("fastapi")}

    @app.get("/async-order")
    async def async_order() -> dict[str, str]:
        return {"correlation_id": place_order("fastapi-async")}

    @app.get("/stream")
    def streamed() -> StreamingResponse:
        return StreamingResponse(stream(), media_type="text/plain")

    @app.get("/own-header")
    def own_header() -> JSONResponse:
        return JSONResponse(
            {"correlation_id": place_order("own")}, headers={"X-Correlation-ID": "mine"}
        )

    @app.get("/lifespan")
    def lifespan_state() -> dict[str, bool]:
        return dict(state)

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(f"{text}|{place_order('ws')}")
        await websocket.close()

    app.add_middleware(PenstockMiddleware, **middleware)
    return app


def without_native_telemetry(factory: Any, **kwargs: Any) -> Any:
    """A FastAPI app without FastAPI's own OpenTelemetry spans (newer releases make them as soon
    as an SDK tracer provider is global, as other tests of the session leave it): these apps
    test penstock's middleware alone; the tests next to an instrumentation add one."""
    try:
        return factory(telemetry={"tracing": False}, **kwargs)
    except TypeError:  # a FastAPI without native telemetry
        return factory(**kwargs)


def _starlette(place_order: Any, stream: Any, middleware: dict[str, Any]) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    async def order(request: Request) -> JSONResponse:
        return JSONResponse({"correlation_id": place_order("starlette")})

    async def streamed(request: Request) -> StreamingResponse:
        return StreamingResponse(stream(), media_type="text/plain")

    async def own_header(request: Request) -> JSONResponse:
        return JSONResponse(
            {"correlation_id": place_order("own")}, headers={"X-Correlation-ID": "mine"}
        )

    return Starlette(
        routes=[
            Route("/order", order),
            Route("/stream", streamed),
            Route("/own-header", own_header),
        ],
        middleware=[Middleware(PenstockMiddleware, **middleware)],
    )


_django_ready = False


def _django(kind: str, place_order: Any, stream: Any) -> Any:
    global _django_ready, _django_views
    import django
    from django.conf import settings

    _django_views = (place_order, stream)
    if not _django_ready:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            ROOT_URLCONF=__name__,
            SECRET_KEY="penstock-tests-only",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()
        _django_ready = True
    if kind == "asgi":
        from django.core.asgi import get_asgi_application

        return get_asgi_application()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


_django_views: tuple[Any, Any] = (None, None)


def _django_order(request: Any) -> Any:
    from django.http import HttpResponse

    body = json.dumps({"correlation_id": _django_views[0]("django")})
    return HttpResponse(body, content_type="application/json")


def _django_stream(request: Any) -> Any:
    from django.core.handlers.asgi import ASGIRequest
    from django.http import StreamingHttpResponse

    chunks = _django_views[1]()
    if isinstance(request, ASGIRequest):  # Django serves only async iterators over ASGI

        async def async_chunks() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return StreamingHttpResponse(async_chunks(), content_type="text/plain")
    return StreamingHttpResponse(chunks, content_type="text/plain")


def _django_own_header(request: Any) -> Any:
    from django.http import HttpResponse

    body = json.dumps({"correlation_id": _django_views[0]("own")})
    response = HttpResponse(body, content_type="application/json")
    response["X-Correlation-ID"] = "mine"
    return response


def __getattr__(name: str) -> Any:
    # Django reads ``urlpatterns`` from ROOT_URLCONF (this module) on the first request.
    if name == "urlpatterns":
        from django.urls import path

        return [
            path("order", _django_order),
            path("stream", _django_stream),
            path("own-header", _django_own_header),
        ]
    raise AttributeError(name)


def _quart(place_order: Any, stream: Any, middleware: dict[str, Any]) -> Any:
    from quart import Quart, Response

    app = Quart("web_shop")

    @app.get("/order")
    async def order() -> dict[str, str]:
        return {"correlation_id": place_order("quart")}

    @app.get("/stream")
    async def streamed() -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in stream():
                yield chunk

        return Response(chunks(), mimetype="text/plain")

    @app.get("/own-header")
    async def own_header() -> Response:
        body = json.dumps({"correlation_id": place_order("own")})
        return Response(body, headers={"X-Correlation-ID": "mine"}, mimetype="application/json")

    app.asgi_app = PenstockMiddleware(app.asgi_app, **middleware)  # type: ignore[method-assign]
    return app


def _flask(place_order: Any, stream: Any, middleware: dict[str, Any]) -> Any:
    from flask import Flask, Response

    app = Flask("web_shop")

    @app.get("/order")
    def order() -> dict[str, str]:
        return {"correlation_id": place_order("flask")}

    @app.get("/stream")
    def streamed() -> Response:
        return Response(stream(), mimetype="text/plain")

    @app.get("/own-header")
    def own_header() -> Response:
        body = json.dumps({"correlation_id": place_order("own")})
        return Response(body, headers={"X-Correlation-ID": "mine"}, mimetype="application/json")

    app.wsgi_app = PenstockWSGIMiddleware(app.wsgi_app, **middleware)  # type: ignore[method-assign]
    return app
