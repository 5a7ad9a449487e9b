"""The worker side of the Celery tests: the example app, penstock configured from the
environment, and every record written to a JSON-lines file the test reads.

Run by ``celery -A tests.contrib.worker_app:app worker`` with:

- ``PENSTOCK_TEST_BACKEND``: ``logging``, ``otel``, or ``otel+instrumentation`` (also
  instruments Celery with opentelemetry-instrumentation-celery, whose handlers then run after
  penstock's), ``otel+instrumentation-first`` (the same, OpenTelemetry's handlers first);
- ``PENSTOCK_TEST_RECORDS``: the file to append records to (one JSON object per line).

Imported without those variables (by the tests, to send tasks) it only declares the tasks.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any

from bom_sync import tasks

import penstock
from penstock import flow
from penstock.contrib.celery import flow_task

app = tasks.app
TEST_FLOW = "celery_test"


@flow(TEST_FLOW)
@flow_task(app=app, bind=True, max_retries=3)
def flaky(self: Any, failures: int) -> str | None:
    """Fail ``failures`` times (each a Celery retry), then return the correlation ID."""
    if self.request.retries < failures:
        raise self.retry(countdown=0)
    return penstock.current_correlation_id()


@flow(TEST_FLOW)
@flow_task(app=app, bind=True)
def runs_kept(self: Any) -> dict[str, Any]:
    """What penstock keeps in this worker while this task runs: task name -> call ids."""
    from penstock.contrib import celery as penstock_celery

    kept = {
        name: sorted(runs)
        for name, task in app.tasks.items()
        if (runs := getattr(task, penstock_celery._RUNS, None))
    }
    return {"id": self.request.id, "kept": kept}


@app.task(name="tests.contrib.worker_app.plain")
def plain() -> str | None:
    """A plain Celery task (not a step) that calls a step: the step continues the run."""
    return inside_plain()


@flow(TEST_FLOW)
@penstock.step
def inside_plain() -> str | None:
    """A step called by the plain task."""
    return penstock.current_correlation_id()


class _JsonLines(logging.Handler):
    """Append each penstock step record, as JSON, to a file."""

    FIELDS = (
        "correlation_id",
        "flow",
        "step",
        "parent_step",
        "predecessor",
        "status",
        "span_id",
        "parent_span_id",
        "linked_correlation_id",
    )

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        if not hasattr(record, "correlation_id"):
            return
        data = {key: getattr(record, key, None) for key in self.FIELDS}
        data["kind"] = "log"
        with open(self.path, "a") as out:
            out.write(json.dumps(data) + "\n")


def _span_exporter(path: str) -> Any:
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class JsonLinesSpanExporter(SpanExporter):
        """Append each finished span, as JSON, to a file."""

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            with open(path, "a") as out:
                for span in spans:
                    ctx = span.get_span_context()
                    parent = span.parent
                    data = {
                        "kind": "span",
                        "span_kind": span.kind.name,
                        "name": span.name,
                        "trace_id": f"{ctx.trace_id:032x}",
                        "span_id": f"{ctx.span_id:016x}",
                        "parent_span_id": f"{parent.span_id:016x}" if parent else None,
                        "parent_trace_id": f"{parent.trace_id:032x}" if parent else None,
                        "links": [f"{link.context.trace_id:032x}" for link in span.links],
                        "attributes": dict(span.attributes or {}),
                        "scope": span.instrumentation_scope.name,
                    }
                    out.write(json.dumps(data, default=str) + "\n")
            return SpanExportResult.SUCCESS

    return JsonLinesSpanExporter()


def _configure_from_environment() -> None:
    backend = os.environ.get("PENSTOCK_TEST_BACKEND")
    path = os.environ.get("PENSTOCK_TEST_RECORDS")
    if not backend or not path:
        return
    if backend == "logging":
        logger = logging.getLogger("penstock")
        logger.addHandler(_JsonLines(path))
        logger.setLevel(logging.INFO)
        penstock.configure(backend="logging")
        return
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_span_exporter(path)))
    trace.set_tracer_provider(provider)
    penstock.configure(backend="otel", tracer_provider=provider)
    if backend.startswith("otel+instrumentation"):
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument(tracer_provider=provider)
        if backend == "otel+instrumentation-first":
            # Celery calls signal handlers in the order they were connected: reconnect
            # penstock's, so that OpenTelemetry's task_prerun runs before them.
            from penstock.contrib import celery as penstock_celery

            penstock_celery.uninstall()
            penstock_celery.install()


_configure_from_environment()
