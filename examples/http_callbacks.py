"""An HTTP service that carries penstock runs in its requests' headers, with public names only.

Each POST brings a JSON list of callbacks, ``[{"url": ..., "arguments": [...]}, ...]``; the
service posts ``arguments`` to each ``url``. The incoming request's ``traceparent`` and
``tracestate`` headers are read with `continue_from`, so the steps below continue the caller's
run; each callback is made by its own step and carries that step's context (`inject`), so the
callee sees the caller's trace with this service's step as parent.

This is also the test service the W3C Trace Context validation harness runs against in
penstock's test suite. Run it by hand with ``python examples/http_callbacks.py 5000``.
"""

from __future__ import annotations

import json
import sys
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.request import Request, urlopen

from penstock import entrypoint, flow, step
from penstock.propagation import Getter, continue_from, inject

FLOW = "http_callbacks"


class HeadersGetter(Getter[Message]):
    """Read the headers of a request received by `http.server`.

    `get_all` returns every value of a header that came several times (names compared
    case-blind): penstock judges repeated ``traceparent`` headers itself, so a getter hands
    them all over rather than picking one.
    """

    def get(self, carrier: Message, key: str) -> list[str] | None:
        """Every value of the header ``key``, or ``None``."""
        return carrier.get_all(key)

    def keys(self, carrier: Message) -> list[str]:
        """The header names."""
        return list(carrier.keys())


headers_getter = HeadersGetter()


@flow(FLOW)
@entrypoint
def handle_request(callbacks: list[dict[str, Any]]) -> int:
    """Make the callbacks a request asked for, in order."""
    for callback in callbacks:
        post_callback(callback["url"], callback.get("arguments", []))
    return len(callbacks)


@flow(FLOW)
@step(after=handle_request)
def post_callback(url: str, arguments: Any) -> int:
    """POST ``arguments`` to ``url``, carrying this step's context in the headers."""
    headers = {"Content-Type": "application/json"}
    inject(headers)  # traceparent, tracestate, and penstock's baggage naming this step
    request = Request(url, json.dumps(arguments).encode(), headers, method="POST")
    with urlopen(request, timeout=10) as response:
        response.read()
        status: int = response.status
        return status


class CallbackHandler(BaseHTTPRequestHandler):
    """One request: continue the caller's run, make the callbacks, answer ``{}``."""

    def do_POST(self) -> None:
        """Handle a POST of a list of callbacks."""
        length = int(self.headers.get("Content-Length") or 0)
        callbacks = json.loads(self.rfile.read(length) or b"[]")
        with continue_from(self.headers, headers_getter):
            handle_request(callbacks if isinstance(callbacks, list) else [])
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no line on stderr per request."""


def start(port: int = 0) -> ThreadingHTTPServer:
    """Serve on 127.0.0.1:``port`` (0: any free port) in a background thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), CallbackHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    server = start(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
    print(f"listening on http://127.0.0.1:{server.server_port}/")
    threading.Event().wait()
