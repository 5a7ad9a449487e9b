"""ASGI: an HTTP request that carries a run continues it (Starlette, FastAPI, Django, Quart).

Wrap the application once; every ``@entrypoint`` called while a request is handled then
continues the run named in the request's W3C ``traceparent``/``tracestate``/``baggage``
headers (same correlation ID, same trace, the calling service's step as parent), and the
response says which run it was in an ``X-Correlation-ID`` header:

```python
from fastapi import FastAPI
from penstock.contrib.asgi import PenstockMiddleware

app = FastAPI()
app.add_middleware(PenstockMiddleware)                      # FastAPI, Starlette

application = PenstockMiddleware(get_asgi_application())    # Django (asgi.py)
app.asgi_app = PenstockMiddleware(app.asgi_app)             # Quart
```

A request without a trace context starts a fresh run at its first entrypoint; the header then
carries that run's ID, as soon as the entrypoint has started (a response that starts streaming
before it carries none). The headers are read as `penstock.propagation.extract` reads them:
the same parser and limits as the Celery, Kafka and gRPC integrations; a malformed context is
ignored.

Lifespan events pass straight through; response bodies, streamed responses and websocket
messages are never touched (a websocket's steps continue the run of its handshake).

Next to OpenTelemetry's ASGI instrumentation (``OpenTelemetryMiddleware``,
``FastAPIInstrumentor``, FastAPI's own telemetry) and the ``otel`` backend, that
instrumentation's span for the request stays the one span of the hop and penstock's steps are
its children: one trace, no second span for the request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from penstock.contrib._http import DEFAULT_HEADER
from penstock.contrib._http import header_name as _checked_name
from penstock.contrib._semconv import http_server
from penstock.propagation import Getter, RunScope
from penstock.propagation._entry import enter_remote, exit_remote, http_entry

__all__ = ["ASGIHeadersGetter", "PenstockMiddleware", "asgi_headers_getter"]

_log = logging.getLogger("penstock.contrib.asgi")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ASGIHeadersGetter(Getter[Iterable[Any]]):
    """Read an ASGI scope's ``headers``: ``(name, value)`` byte pairs, names lower-case.

    For your own code that reads a scope with `penstock.propagation.continue_from` or
    `extract` (the middleware picks the three trace headers in one pass instead). Returns
    every value of a header that came several times (penstock judges repeated
    ``traceparent`` headers itself). Bytes are decoded as Latin-1, as HTTP/1.1 does; penstock's
    parser then refuses anything that is not ASCII.
    """

    def get(self, carrier: Iterable[Any], key: str) -> list[str] | None:
        """Every value of the header ``key`` (asked lower-case), or ``None``."""
        wanted = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for name, value in carrier if name == wanted]
        return found or None

    def keys(self, carrier: Iterable[Any]) -> list[str]:
        """The header names."""
        return [name.decode("latin-1") for name, _ in carrier]


asgi_headers_getter = ASGIHeadersGetter()


class PenstockMiddleware:
    """Continue the caller's run while a request is handled; name the run in the response.

    Args:
        app: the ASGI application to wrap.
        correlation_header: the response header that carries the run's correlation ID
            (``"X-Correlation-ID"`` by default); ``None`` sends none. A header of that name
            the application set itself is kept as it is.
        link: start a new run linked to the caller's instead of continuing it (see
            `penstock.propagation.continue_remote`).

    Raises:
        ValueError: ``correlation_header`` is not an HTTP header name.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        correlation_header: str | None = DEFAULT_HEADER,
        link: bool = False,
    ) -> None:
        self.app = app
        name = _checked_name(correlation_header)
        self._header = None if name is None else name.lower().encode("latin-1")
        self._link = link

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (``http`` and ``websocket``; others pass through)."""
        kind = scope.get("type")
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        # The remote run the request carries, continued while it is handled. Read and entered
        # by the private hot path the gRPC server uses too (`penstock.propagation._entry`):
        # every request comes here, and `extract` + `RemoteContext.continue_run` (what it
        # reads, it reads alike) cost a live server tens of microseconds more per request.
        try:
            entry = http_entry(scope.get("headers") or (), self._link)
            if entry is not None:
                attributes = http_server(
                    scope.get("method"), scope.get("scheme"), scope.get("path")
                )
                entry = (*entry[:6], ("server", attributes))
        except Exception as exc:  # never break a request because of its headers
            _log.debug("penstock could not read the request's trace context: %r", exc)
            entry = None
        entered = None if entry is None else enter_remote(entry)
        try:
            with RunScope() as run_scope:
                if kind == "http" and self._header is not None:
                    send = self._naming(send, run_scope)
                await self.app(scope, receive, send)
        finally:
            if entered is not None:
                exit_remote(entered)

    def _naming(self, send: Send, run_scope: RunScope) -> Send:
        """``send``, adding the correlation ID header to the response's start."""
        header = self._header
        assert header is not None

        async def send_naming_the_run(message: Message) -> None:
            if message.get("type") == "http.response.start":
                message = _with_header(message, header, run_scope)
            await send(message)

        return send_naming_the_run


def _with_header(message: Message, header: bytes, run_scope: RunScope) -> Message:
    """The response start with the correlation ID header, unless it has one or none is known."""
    try:
        correlation_id = run_scope.correlation_id
        if correlation_id is None:
            return message
        headers = list(message.get("headers") or ())
        if any(name.lower() == header for name, _ in headers):
            return message
        headers.append((header, correlation_id.encode("ascii")))
        return {**message, "headers": headers}
    except Exception as exc:  # a response is never lost for its header
        _log.debug("penstock could not name the run in the response: %r", exc)
        return message
