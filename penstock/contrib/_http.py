"""What the ASGI and WSGI middlewares share: whether to read the request, and the reply header.

An incoming HTTP request is read like any other carrier, as `penstock.propagation.extract`
reads it (the same parser and limits as Celery, Kafka and gRPC; WSGI calls `extract`, ASGI
its one-pass private twin), and continued as a ``server`` hop. Next
to another instrumentation (OpenTelemetry's ASGI/WSGI middleware, FastAPIInstrumentor,
FastAPI's own telemetry), the otel backend sees that instrumentation's span for the hop
current and makes penstock's steps its children, as it does next to OpenTelemetry's gRPC
interceptors: one span per hop, one trace.
"""

from __future__ import annotations

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
