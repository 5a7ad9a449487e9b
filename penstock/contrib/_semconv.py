"""Span attributes of a hop, named by OpenTelemetry's semantic conventions.

The names come from ``opentelemetry-semantic-conventions`` (the ``otel`` extra installs it);
without it the integrations pass no attributes (they only matter to the otel backend).
"""

from __future__ import annotations

from typing import Any


def messaging(system: str, destination: object = None) -> dict[str, Any]:
    """``messaging.system`` and, when known, ``messaging.destination.name``."""
    try:
        from opentelemetry.semconv._incubating.attributes import messaging_attributes as names
    except ImportError:  # pragma: no cover - semantic conventions not installed
        return {}
    attributes: dict[str, Any] = {names.MESSAGING_SYSTEM: system}
    if isinstance(destination, str) and destination:
        attributes[names.MESSAGING_DESTINATION_NAME] = destination
    return attributes


def rpc(system: str, full_method: object = None) -> dict[str, Any]:
    """The RPC attributes of a call.

    ``rpc.system`` and, from a gRPC method path ``/package.Service/Method``, ``rpc.service``
    and ``rpc.method``.
    """
    try:
        from opentelemetry.semconv._incubating.attributes import rpc_attributes as names
    except ImportError:  # pragma: no cover - semantic conventions not installed
        return {}
    attributes: dict[str, Any] = {names.RPC_SYSTEM: system}
    if isinstance(full_method, str):
        service, _, method = full_method.lstrip("/").rpartition("/")
        if service and method:
            attributes[names.RPC_SERVICE] = service
            attributes[names.RPC_METHOD] = method
    return attributes


def http_server(method: object, scheme: object, path: object) -> dict[str, Any]:
    """The stable HTTP server attributes of a request: method, scheme and path."""
    try:
        from opentelemetry.semconv.attributes import http_attributes, url_attributes
    except ImportError:  # pragma: no cover - semantic conventions not installed
        return {}
    attributes: dict[str, Any] = {}
    if isinstance(method, str) and method:
        attributes[http_attributes.HTTP_REQUEST_METHOD] = method
    if isinstance(scheme, str) and scheme:
        attributes[url_attributes.URL_SCHEME] = scheme
    if isinstance(path, str) and path:
        attributes[url_attributes.URL_PATH] = path
    return attributes
