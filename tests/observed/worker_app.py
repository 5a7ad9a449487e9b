"""The worker side of the recorded-runs test: the example app, recording to a real format.

Run by ``celery -A tests.observed.worker_app:app worker`` with:

- ``PENSTOCK_OBSERVED_FORMAT``: ``json-log`` (the logging backend's ``format="json"``) or
  ``otlp`` (the otel backend with the SDK, exported as the Collector's OTLP JSON, with
  opentelemetry-instrumentation-celery adding its own, foreign, spans);
- ``PENSTOCK_OBSERVED_FILE``: the file the records are appended to.
"""

from __future__ import annotations

import os

from bom_sync import tasks

import penstock

app = tasks.app


def _configure() -> None:
    kind = os.environ.get("PENSTOCK_OBSERVED_FORMAT")
    path = os.environ.get("PENSTOCK_OBSERVED_FILE")
    if not kind or not path:
        return
    if kind == "json-log":
        stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the worker
        penstock.configure(backend="logging", format="json", stream=stream)
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tests.support.otlp import OtlpJsonFileExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(path)))
    penstock.configure(backend="otel", tracer_provider=provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)


_configure()
