"""Getter/setter pairs for the carriers penstock's integrations use.

Each follows OpenTelemetry's ``Getter`` and ``Setter`` (``opentelemetry.propagators.textmap``);
`penstock.propagation` re-exports them
(their public home). Getters read whatever the carrier holds; judging the values (length,
characters, format) is the job of `penstock.propagation._w3c`.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from opentelemetry.propagators.textmap import Getter, Setter

#: The largest value penstock reads from a carrier (the W3C baggage limit; far above what a
#: valid traceparent or tracestate needs).
MAX_VALUE_BYTES = 8192


class DictGetter(Getter[Mapping[str, Any]]):
    """Read a ``dict`` of ``str`` to ``str`` (other value types are skipped)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        """The value under ``key`` (exact, else lower-case), as a one-item list."""
        value = carrier.get(key)
        if value is None:
            value = carrier.get(key.lower())
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [v for v in value if isinstance(v, str)] or None
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        """The carrier's string keys."""
        return [k for k in carrier if isinstance(k, str)]


class DictSetter(Setter[MutableMapping[str, Any]]):
    """Write into a ``dict`` of ``str`` to ``str`` (Celery's message ``headers`` too)."""

    def set(self, carrier: MutableMapping[str, Any], key: str, value: str) -> None:
        """Set ``key``, replacing any previous value."""
        carrier[key] = value


class CeleryGetter(Getter[Any]):
    """Read a Celery ``task.request`` (or a message's ``headers`` dict).

    Celery 5.7 shows a custom message header both in ``request.headers`` and as an attribute
    of ``request``; older releases only as the attribute. Both are read.
    """

    def get(self, carrier: Any, key: str) -> list[str] | None:
        """The header ``key`` from ``request.headers``, else the request's attribute."""
        if isinstance(carrier, Mapping):
            return dict_getter.get(carrier, key)
        headers = getattr(carrier, "headers", None)
        if isinstance(headers, Mapping):
            found = dict_getter.get(headers, key)
            if found:
                return found
        attrs = getattr(carrier, "__dict__", None)
        if isinstance(attrs, Mapping):
            return dict_getter.get(attrs, key)
        return None

    def keys(self, carrier: Any) -> list[str]:
        """The message header names."""
        if isinstance(carrier, Mapping):
            return dict_getter.keys(carrier)
        headers = getattr(carrier, "headers", None)
        return dict_getter.keys(headers) if isinstance(headers, Mapping) else []


class KafkaHeadersGetter(Getter[Sequence[tuple[str, bytes]]]):
    """Read Kafka record headers: a sequence of ``(str, bytes)`` pairs, keys matched case-blind.

    The same shape is used by kafka-python, confluent-kafka and aiokafka.
    """

    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        """Every value under ``key``, decoded (values that are not bytes or text are skipped)."""
        wanted = key.lower()
        found: list[str] = []
        for item in carrier:
            if not isinstance(item, tuple) or len(item) != 2:
                continue
            name, value = item
            if not isinstance(name, str) or name.lower() != wanted:
                continue
            text = as_text(value)
            if text is not None:
                found.append(text)
        return found or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        """The header names."""
        return [
            item[0]
            for item in carrier
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        ]


class KafkaHeadersSetter(Setter[list[tuple[str, bytes]]]):
    """Write into a Kafka headers list, replacing earlier headers of the same name."""

    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        """Drop existing ``key`` headers (any case), then append ``(key, value as bytes)``."""
        wanted = key.lower()
        carrier[:] = [
            item for item in carrier if not (isinstance(item[0], str) and item[0].lower() == wanted)
        ]
        carrier.append((key, value.encode("ascii", "strict")))


class GrpcMetadataGetter(Getter[Sequence[tuple[str, Any]]]):
    """Read gRPC metadata: ``(key, str | bytes)`` pairs; keys are lower-case on the wire."""

    def get(self, carrier: Sequence[tuple[str, Any]], key: str) -> list[str] | None:
        """Every value under ``key`` (``-bin`` keys carry bytes; both forms are decoded)."""
        return kafka_getter.get(carrier, key)

    def keys(self, carrier: Sequence[tuple[str, Any]]) -> list[str]:
        """The metadata keys."""
        return kafka_getter.keys(carrier)


class GrpcMetadataSetter(Setter[list[tuple[str, Any]]]):
    """Write into a gRPC metadata list (keys lower-cased, as gRPC requires)."""

    def set(self, carrier: list[tuple[str, Any]], key: str, value: str) -> None:
        """Drop existing ``key`` entries, then append ``(key.lower(), value)``."""
        wanted = key.lower()
        carrier[:] = [item for item in carrier if item[0] != wanted]
        carrier.append((wanted, value))


dict_getter = DictGetter()
"""Reads a `dict` of headers (the default getter of `extract` and `continue_from`)."""
dict_setter = DictSetter()
"""Writes into a `dict` of headers, Celery's message headers too (the default of `inject`)."""
celery_getter = CeleryGetter()
"""Reads a Celery ``task.request`` or a message's ``headers``."""
kafka_getter = KafkaHeadersGetter()
"""Reads Kafka record headers (kafka-python, confluent-kafka, aiokafka)."""
kafka_setter = KafkaHeadersSetter()
"""Writes into a Kafka headers list."""
grpc_getter = GrpcMetadataGetter()
"""Reads gRPC metadata (`extract` reads penstock's own headers in one pass)."""
grpc_setter = GrpcMetadataSetter()
"""Writes into a gRPC metadata list."""


def as_text(value: object) -> str | None:
    """``value`` as text when it is ``str`` or ASCII ``bytes``; ``None`` otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        if len(value) > MAX_VALUE_BYTES:
            return None
        try:
            return bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    return None
