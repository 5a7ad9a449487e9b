"""Recorded runs of the ``shop`` flow, written by penstock's real backends to real files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import penstock
from tests.observed import shop


def _run_all(checkout: Callable[[dict[str, Any]], str]) -> None:
    for order in shop.ORDERS:
        checkout(order)


@pytest.fixture
def json_log(tmp_path: Path) -> Path:
    """The shop's runs under the logging backend's ``format="json"``, with the app's own
    JSON lines and plain-text lines in the same file."""
    return record_json_log(tmp_path / "app.log")


def record_json_log(path: Path) -> Path:
    """Declare the shop flow, run its orders under the logging backend into ``path``."""
    checkout = shop.declare()
    with path.open("w", encoding="utf-8") as stream:
        penstock.configure(backend="logging", format="json", stream=stream)
        app_handler = logging.StreamHandler(stream)
        from penstock.backends.logging import JsonFormatter

        app_handler.setFormatter(JsonFormatter())
        shop.app_log.addHandler(app_handler)
        shop.app_log.setLevel(logging.INFO)
        try:
            stream.write("service starting (plain text line)\n")
            _run_all(checkout)
        finally:
            shop.app_log.removeHandler(app_handler)
            penstock.reset()
    return path


@pytest.fixture
def otlp_file(tmp_path: Path) -> Path:
    """The shop's runs under the otel backend (real SDK), exported as the Collector's OTLP
    JSON, with a foreign span between ``charge`` and ``fraud_check``."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tests.support.otlp import OtlpJsonFileExporter

    path = tmp_path / "traces.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(path)))
    checkout = shop.declare(foreign_tracer=provider.get_tracer("shop.http"))
    penstock.configure(backend="otel", tracer_provider=provider)
    try:
        _run_all(checkout)
    finally:
        penstock.reset()
        provider.shutdown()
    return path
