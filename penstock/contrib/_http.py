"""What the ASGI and WSGI middlewares share: whether to read the request, and the reply header.

An incoming HTTP request is read like any other carrier, with `penstock.propagation.extract`
(the same parser and limits as Celery, Kafka and gRPC). One exception: when another
instrumentation (OpenTelemetry's ASGI/WSGI middleware, FastAPIInstrumentor...) already made a
span for the request, it has read the headers itself and penstock's steps join its span, so
the middleware does not read them a second time.
"""

from __future__ import annotations

import sys

#: The response header that carries the correlation ID unless the middleware is told otherwise.
DEFAULT_HEADER = "X-Correlation-ID"


def header_name(name: str | None) -> str | None:
    """The response header's name, checked: a token as HTTP defines it, or ``None`` (off)."""
    if name is None or name == "":
        return None
    if not isinstance(name, str) or not all(
        c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") for c in name
    ):
        raise ValueError(
            f"correlation_header={name!r} is not an HTTP header name (letters, digits and "
            "!#$%&'*+-.^_`|~ only); pass None to send no header"
        )
    return name


def another_instrumentation_has_the_request() -> bool:
    """Whether an OpenTelemetry span (another instrumentation's) is current and valid."""
    if "opentelemetry.trace" not in sys.modules:
        return False  # nothing could have made one without importing the API
    from opentelemetry import trace

    return trace.get_current_span().get_span_context().is_valid
