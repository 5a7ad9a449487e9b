"""The process's one OpenTelemetry SDK tracer provider, with an in-memory exporter.

``trace.set_tracer_provider`` works once per process, so every test module that needs real
spans shares this provider: ``session_exporter()`` installs it on first use (or reuses an SDK
provider someone else installed) and returns one ``InMemorySpanExporter`` fed by a
``SimpleSpanProcessor``. Clear it between tests.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_exporter: InMemorySpanExporter | None = None


def sdk_provider() -> TracerProvider:
    """The global SDK tracer provider, installed now if there is none yet."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "a non-SDK tracer provider is installed"
    return provider


def session_exporter() -> InMemorySpanExporter:
    """The shared in-memory exporter on the global SDK provider."""
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        sdk_provider().add_span_processor(SimpleSpanProcessor(_exporter))
    return _exporter
