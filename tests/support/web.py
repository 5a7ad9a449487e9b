"""Real HTTP servers on loopback for the web framework tests: uvicorn (ASGI), waitress (WSGI).

Both run in a thread of the test process, so the records of the steps they call go to the same
backend the test configured; requests go over real sockets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.support.processes import free_port


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (lifespan on); yield its base URL."""
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn (pip install -e '.[dev]')")
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="auto",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    _wait(lambda: server.started, thread, "uvicorn")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve ``app`` with waitress on 127.0.0.1; yield its base URL."""
    waitress = pytest.importorskip("waitress.server", reason="waitress (pip install -e '.[dev]')")
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    port = server.effective_port
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            # waitress's loop may still be in select() on a socket that close() (called from
            # this thread) just closed: a race of stopping, not a failure of a test.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, name=f"waitress-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopping.set()
        server.close()
        thread.join(timeout=10)


def _wait(ready: Any, thread: threading.Thread, what: str) -> None:
    deadline = time.monotonic() + 10
    while not ready():
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start", pytrace=False)
        time.sleep(0.01)
