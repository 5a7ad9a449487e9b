"""The examples of the "Writing an integration" page carry runs, with public names only."""

from __future__ import annotations

import ast
import importlib
import json
import queue
from typing import Any
from urllib.request import Request, urlopen

import pytest

import penstock
from penstock._declared.registry import REGISTRY
from penstock.testing import recording
from tests.support.system import ROOT

EXAMPLES = ("http_callbacks", "queue_worker")


def _quietly(name: str) -> Any:
    saved = REGISTRY.snapshot()
    try:
        return importlib.import_module(name)
    finally:
        REGISTRY.restore(saved)


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_import_only_public_penstock_names(name: str) -> None:
    """An integration written the way the page says needs no private module of penstock."""
    tree = ast.parse((ROOT / "examples" / f"{name}.py").read_text(encoding="utf-8"))
    imported = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("penstock")
    ]
    assert imported
    assert not [m for m in imported if any(part.startswith("_") for part in m.split("."))]


def test_queue_worker_continues_the_sender_run() -> None:
    """A job taken from the queue runs as a step of the run that put it there."""
    example = _quietly("queue_worker")
    jobs: queue.Queue[Any] = queue.Queue()
    results: list[Any] = []
    with recording() as recorder:
        worker = example.start_worker(jobs, results)
        example.submit(jobs, "job-1")
        jobs.put(({}, "job-2"))  # no headers: a run of its own
        jobs.put(None)
        worker.join(timeout=10)
    assert results == ["job-1", "job-2"]
    submit = recorder.get("submit", flow="queued_jobs")
    first, second = (r for r in recorder.records if r.step == "process")
    assert first.correlation_id == submit.correlation_id
    assert first.trace_id == submit.trace_id
    assert first.parent is not None
    assert first.parent.span_id == submit.span_id
    assert second.correlation_id != submit.correlation_id


def test_http_service_continues_the_caller_run() -> None:
    """The HTTP example continues the run of a caller's headers and carries it to callbacks."""
    example = _quietly("http_callbacks")
    seen: list[dict[str, str]] = []
    penstock.reset()

    class Recorder(example.CallbackHandler):  # a callee that records what it receives
        def do_POST(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    import threading
    from http.server import ThreadingHTTPServer

    callee = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=callee.serve_forever, daemon=True).start()
    service = example.start()
    try:
        with recording():
            trace = "4bf92f3577b34da6a3ce929d0e0e4736"
            body = json.dumps([{"url": f"http://127.0.0.1:{callee.server_port}/", "arguments": []}])
            request = Request(
                f"http://127.0.0.1:{service.server_port}/",
                body.encode(),
                {"traceparent": f"00-{trace}-00f067aa0ba902b7-01", "tracestate": "vendor=1"},
                method="POST",
            )
            with urlopen(request, timeout=10) as response:
                assert response.status == 200
    finally:
        for server in (service, callee):
            server.shutdown()
            server.server_close()
        penstock.reset()
    [headers] = seen
    assert headers["traceparent"].startswith(f"00-{trace}-")
    assert not headers["traceparent"].startswith(f"00-{trace}-00f067aa0ba902b7")
    assert headers["tracestate"] == "vendor=1"
    assert "penstock.step=post_callback" in headers["baggage"]
