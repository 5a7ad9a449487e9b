"""Span attributes of a hop, named by OpenTelemetry's semantic conventions.

The names are the conventions' own (messaging and RPC are still incubating: the
``opentelemetry-semantic-conventions`` package keeps them in a private module, which penstock
does not import; the tests compare both). They only matter to the otel backend.
"""

from __future__ import annotations

from typing import Any


def messaging(system: str, destination: object = None) -> dict[str, Any]:
    """``messaging.system`` and, when known, ``messaging.destination.name``."""
    attributes: dict[str, Any] = {"messaging.system": system}
    if isinstance(destination, str) and destination:
        attributes["messaging.destination.name"] = destination
    return attributes


def rpc(system: str, full_method: object = None) -> dict[str, Any]:
    """The RPC attributes of a call.

    ``rpc.system`` and, from a gRPC method path ``/package.Service/Method``, ``rpc.service``
    and ``rpc.method``.
    """
    attributes: dict[str, Any] = {"rpc.system": system}
    if isinstance(full_method, str):
        service, _, method = full_method.lstrip("/").rpartition("/")
        if service and method:
            attributes["rpc.service"] = service
            attributes["rpc.method"] = method
    return attributes


def http_server(method: object, scheme: object, path: object) -> dict[str, Any]:
    """The stable HTTP server attributes of a request: method, scheme and path."""
    attributes: dict[str, Any] = {}
    if isinstance(method, str) and method:
        attributes["http.request.method"] = method
    if isinstance(scheme, str) and scheme:
        attributes["url.scheme"] = scheme
    if isinstance(path, str) and path:
        attributes["url.path"] = path
    return attributes
