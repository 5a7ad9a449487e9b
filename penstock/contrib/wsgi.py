"""WSGI: an HTTP request that carries a run continues it (Django, Flask, any WSGI app).

Wrap the application once; every ``@entrypoint`` called while a request is handled then
continues the run named in the request's W3C ``traceparent``/``tracestate``/``baggage``
headers, and the response names the run in an ``X-Correlation-ID`` header:

```python
from penstock.contrib.wsgi import PenstockWSGIMiddleware

application = PenstockWSGIMiddleware(get_wsgi_application())   # Django (wsgi.py)
app.wsgi_app = PenstockWSGIMiddleware(app.wsgi_app)            # Flask
```

The run is continued while the application is called, which is when Django and Flask run
their views. The response iterable is returned as it is (``wsgi.file_wrapper`` keeps working):
steps called while a streamed body is generated, after the application returned, start runs
of their own. A request without a trace context starts a fresh run at its first entrypoint, and
the header carries that run's ID when ``start_response`` comes after it (as it does for views
that return a response).

The headers are read with `penstock.propagation.extract`, as every integration reads them. A
server joins repeated headers with commas before the application sees them (CGI's rule), so a
request with two ``traceparent`` headers carries an invalid one and starts a fresh run, as
W3C Trace Context says. Next to OpenTelemetry's WSGI instrumentation (``OpenTelemetryMiddleware``
wrapping this one) and the ``otel`` backend, its span stays the one span of the request and
penstock's steps are its children.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from typing import Any

from penstock.contrib._http import DEFAULT_HEADER
from penstock.contrib._http import header_name as _checked_name
from penstock.contrib._semconv import http_server
from penstock.propagation import Getter, RunScope, extract

__all__ = ["PenstockWSGIMiddleware", "WSGIEnvironGetter", "wsgi_environ_getter"]

_log = logging.getLogger("penstock.contrib.wsgi")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WSGIEnvironGetter(Getter[Mapping[str, Any]]):
    """Read request headers from a WSGI ``environ`` (``traceparent`` is ``HTTP_TRACEPARENT``)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        """The header ``key``'s value, or ``None``."""
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        """The header names (lower-case, with dashes)."""
        return [k[5:].lower().replace("_", "-") for k in carrier if k.startswith("HTTP_")]


wsgi_environ_getter = WSGIEnvironGetter()


class PenstockWSGIMiddleware:
    """Continue the caller's run while a request is handled; name the run in the response.

    Args:
        app: the WSGI application to wrap.
        correlation_header: the response header that carries the run's correlation ID
            (``"X-Correlation-ID"`` by default); ``None`` sends none. A header of that name
            the application set itself is kept as it is.
        link: start a new run linked to the caller's instead of continuing it.

    Raises:
        ValueError: ``correlation_header`` is not an HTTP header name.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        correlation_header: str | None = DEFAULT_HEADER,
        link: bool = False,
    ) -> None:
        self.app = app
        self._header = _checked_name(correlation_header)
        self._link = link

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        continued: Any = nullcontext()
        try:
            remote = extract(environ, wsgi_environ_getter)
            if remote is not None:
                attributes = http_server(
                    environ.get("REQUEST_METHOD"),
                    environ.get("wsgi.url_scheme"),
                    environ.get("PATH_INFO"),
                )
                continued = remote.continue_run(
                    link=self._link, kind="server", attributes=attributes
                )
        except Exception as exc:  # never break a request because of its headers
            _log.debug("penstock could not read the request's trace context: %r", exc)
        with continued, RunScope() as run_scope:
            if self._header is not None:
                start_response = _naming(start_response, self._header, run_scope)
            return self.app(environ, start_response)


def _naming(start_response: StartResponse, header: str, run_scope: RunScope) -> StartResponse:
    """``start_response``, adding the correlation ID header unless it is there or unknown."""
    lowered = header.lower()

    def start_response_naming_the_run(
        status: str, headers: list[tuple[str, str]], *args: Any
    ) -> Any:
        try:
            correlation_id = run_scope.correlation_id
            if correlation_id is not None and not any(
                name.lower() == lowered for name, _ in headers
            ):
                headers = [*headers, (header, correlation_id)]
        except Exception as exc:  # a response is never lost for its header
            _log.debug("penstock could not name the run in the response: %r", exc)
        return start_response(status, headers, *args)

    return start_response_naming_the_run
