"""Fixtures for the cross-process tests: a real Redis, real Celery workers, penstock backends."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import penstock
from penstock._declared.registry import REGISTRY
from tests.support.redis_celery import CeleryWorker, RedisServer


def import_quietly(name: str) -> ModuleType:
    """Import ``name`` without leaving its steps in the registry.

    Session fixtures run before the per-test registry snapshot: steps they declared would stay
    in every later test's flows (and change, say, the example's diagram snapshots).
    """
    saved = REGISTRY.snapshot()
    try:
        return importlib.import_module(name)
    finally:
        REGISTRY.restore(saved)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free 127.0.0.1 port, for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_app(redis_server: RedisServer) -> Any:
    """The example's Celery app, pointed at the test Redis (broker db 0, results db 1)."""
    tasks = import_quietly("bom_sync.tasks")
    tasks.app.conf.update(broker_url=redis_server.url(0), result_backend=redis_server.url(1))
    return tasks.app


@pytest.fixture(scope="session")
def worker_app(celery_app: Any) -> ModuleType:
    """The tests' own tasks (tests/contrib/worker_app.py), registered on the example app."""
    return import_quietly("tests.contrib.worker_app")


class Worker:
    """A running worker and the file its records go to."""

    def __init__(self, process: CeleryWorker, records: Path, backend: str) -> None:
        self.process = process
        self.records = records
        self.backend = backend


@pytest.fixture(scope="module")
def worker(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    celery_app: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    """A real ``celery worker`` for the example app, recording under the backend named by
    the (indirect) parameter: ``logging``, ``otel`` or ``otel+instrumentation``."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp("worker")
    records = folder / "records.jsonl"
    process = CeleryWorker(
        "tests.contrib.worker_app:app",
        folder / "worker.log",
        {
            "BOM_SYNC_BROKER_URL": redis_server.url(0),
            "BOM_SYNC_RESULT_BACKEND": redis_server.url(1),
            "PENSTOCK_TEST_BACKEND": backend,
            "PENSTOCK_TEST_RECORDS": str(records),
        },
        queue="celery",
    )
    process.start()
    try:
        yield Worker(process, records, backend)
    finally:
        process.stop()


@pytest.fixture
def otel_spans() -> Iterator[Any]:
    """penstock's otel backend in this process, exporting to an in-memory exporter."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    penstock.configure(backend="otel", tracer_provider=provider)
    exporter.provider = provider  # type: ignore[attr-defined]
    try:
        yield exporter
    finally:
        penstock.reset()
        provider.shutdown()
