"""Runtime tests: the SDK exporter and the example app's store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bom_sync import store
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.otel import session_exporter


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter of the session's SDK tracer provider, empty at the start."""
    exporter = session_exporter()
    exporter.clear()
    yield exporter
    exporter.clear()


@pytest.fixture
def bom_store(monkeypatch: pytest.MonkeyPatch) -> store.Store:
    """A fresh in-memory store for the example app."""
    fresh = store.Store()
    monkeypatch.setattr(store, "STORE", fresh)
    return fresh
