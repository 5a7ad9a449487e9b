"""The W3C harness's service as a FastAPI app: its incoming side is penstock's ASGI middleware.

Each POST brings a JSON list of callbacks; the ``@entrypoint`` the endpoint calls posts each
one from a step of its own, writing that step's context with `penstock.propagation.inject` (as
``examples/http_callbacks.py`` does). Nothing here reads a header: the middleware does.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.request import Request, urlopen

from fastapi import FastAPI
from fastapi import Request as HTTPRequest

from penstock import entrypoint, flow, step
from penstock.contrib.asgi import PenstockMiddleware
from penstock.propagation import inject
from tests.contrib.web_apps import without_native_telemetry

FLOW = "asgi_callbacks"


@flow(FLOW)
@entrypoint
def handle_callbacks(callbacks: list[dict[str, Any]]) -> int:
    """Make the callbacks a request asked for, in order."""
    for callback in callbacks:
        post_callback(callback["url"], callback.get("arguments", []))
    return len(callbacks)


@flow(FLOW)
@step(after=handle_callbacks)
def post_callback(url: str, arguments: Any) -> int:
    """POST ``arguments`` to ``url`` with this step's context in the headers."""
    headers = {"Content-Type": "application/json"}
    inject(headers)
    request = Request(url, json.dumps(arguments).encode(), headers, method="POST")
    with urlopen(request, timeout=10) as response:
        response.read()
        status: int = response.status
        return status


# Without FastAPI's own telemetry: the harness measures penstock's middleware alone.
app = without_native_telemetry(FastAPI)
app.add_middleware(PenstockMiddleware)


@app.post("/test")
async def test(request: HTTPRequest) -> dict[str, Any]:
    """Handle a POST of a list of callbacks (sync work in a thread, as FastAPI runs it)."""
    from starlette.concurrency import run_in_threadpool

    try:
        callbacks = json.loads(await request.body() or b"[]")
    except ValueError:
        callbacks = []
    await run_in_threadpool(handle_callbacks, callbacks if isinstance(callbacks, list) else [])
    return {}


class Served:
    """uvicorn serving the app in a thread, shaped like ``http.server``'s servers for the tests."""

    def __init__(self) -> None:
        import uvicorn

        from tests.support.processes import free_port

        self.server_port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.server_port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def shutdown(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def server_close(self) -> None:
        pass


def start() -> Served:
    """Serve on a free 127.0.0.1 port."""
    return Served()
