"""The reference: the same HTTP service written with the OpenTelemetry SDK alone.

It reads the incoming context with ``opentelemetry.propagate.extract`` and writes it with
``opentelemetry.propagate.inject``, one span per callback, as an application instrumented with
OpenTelemetry and no penstock would. Its harness score is the baseline penstock is compared
with in the docs.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.request import Request, urlopen

from http_callbacks import headers_getter
from opentelemetry import propagate, trace

from tests.support.otel import sdk_provider


class OtelHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        tracer = sdk_provider().get_tracer("w3c-reference")
        length = int(self.headers.get("Content-Length") or 0)
        callbacks = json.loads(self.rfile.read(length) or b"[]")
        parent = propagate.extract(self.headers, getter=headers_getter)
        with tracer.start_as_current_span("handle", context=parent, kind=trace.SpanKind.SERVER):
            for callback in callbacks:
                with tracer.start_as_current_span("callback", kind=trace.SpanKind.CLIENT):
                    headers = {"Content-Type": "application/json"}
                    propagate.inject(headers)
                    data = json.dumps(callback.get("arguments", [])).encode()
                    request = Request(callback["url"], data, headers, method="POST")
                    with urlopen(request, timeout=10) as response:
                        response.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OtelHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
