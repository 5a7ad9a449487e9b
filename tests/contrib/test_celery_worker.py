"""Celery through a real Redis broker and real worker processes: the worker continues the run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bom_sync import store
from bom_sync.consumer import Message, handle_kafka_message

from penstock.testing import recording
from tests.contrib.conftest import Worker
from tests.support.redis_celery import read_records

pytestmark = pytest.mark.usefixtures("celery_app")

Module = Any


@pytest.fixture
def broker_env(monkeypatch: pytest.MonkeyPatch, redis_server: Any) -> None:
    """The example sends its Celery task (BOM_SYNC_BROKER_URL set) to a fresh store."""
    monkeypatch.setenv("BOM_SYNC_BROKER_URL", redis_server.url(0))
    monkeypatch.setattr(store, "STORE", store.Store())


def _message(part: str) -> Message:
    return Message(value=json.dumps({"part_number": part}).encode(), headers=[])


def _logs(worker: Worker, correlation_id: str, step: str, count: int = 1) -> list[dict[str, Any]]:
    def want(records: list[dict[str, Any]]) -> bool:
        return len(_matching(records, correlation_id, step)) >= count

    records = read_records(worker.records, want, what=f"{step} records")
    return _matching(records, correlation_id, step)


def _matching(records: list[dict[str, Any]], correlation_id: str, step: str) -> list[Any]:
    return [
        r
        for r in records
        if r.get("kind") == "log" and r["correlation_id"] == correlation_id and r["step"] == step
    ]


def _spans(worker: Worker, trace_id: str, want: Any) -> list[dict[str, Any]]:
    def ready(records: list[dict[str, Any]]) -> bool:
        return want([r for r in records if r.get("trace_id") == trace_id])

    records = read_records(worker.records, ready, what="spans")
    return [r for r in records if r.get("trace_id") == trace_id]


# --- logging backend in the worker ---------------------------------------------------------


@pytest.mark.parametrize("worker", ["logging"], indirect=True)
@pytest.mark.usefixtures("broker_env")
def test_example_task_continues_the_run_under_logging(worker: Worker) -> None:
    """The example's create_change_logs logs the sender's correlation ID and parent step."""
    with recording() as rec:
        result = handle_kafka_message(_message("PN-100"))
    assert result["events"] == ["ebom", "changelog", "create_change_logs"]
    sender = rec.get("publish_change_events")
    [log] = _logs(worker, sender.correlation_id, "create_change_logs")
    assert log["flow"] == "bom_sync"
    assert log["parent_step"] == "publish_change_events"
    assert log["predecessor"] == "publish_change_events"
    assert log["status"] == "ok"
    assert log["span_id"] != f"{sender.span_id:016x}"
    assert log["parent_span_id"] == f"{sender.span_id:016x}"


@pytest.mark.parametrize("worker", ["logging"], indirect=True)
def test_retries_keep_the_correlation_id(worker: Worker, worker_app: Module) -> None:
    """A task retried twice logs three attempts, all with the sender's correlation ID."""
    with recording() as rec:
        result = _send_in_a_run(lambda: worker_app.flaky.delay(2))
    corr = rec.get("send").correlation_id
    assert result.get(timeout=20) == corr
    attempts = _logs(worker, corr, "flaky", count=3)
    assert [a["status"] for a in attempts] == ["error", "error", "ok"]
    assert [a["parent_step"] for a in attempts] == ["send", "flaky", "flaky"]


@pytest.mark.parametrize("worker", ["logging"], indirect=True)
def test_the_worker_keeps_a_run_only_while_its_task_runs(
    worker: Worker, worker_app: Module
) -> None:
    """A running task's call is kept under its id; finished, failed or retried ones leave none."""
    from celery import group

    name = worker_app.runs_kept.name
    while_running = _send_in_a_run(lambda: group(worker_app.runs_kept.s() for _ in range(4))())
    for seen in while_running.get(timeout=30):
        assert seen["kept"] == {name: [seen["id"]]}
    # Calls that succeed, retry, fail for good, or come without a trace context.
    _send_in_a_run(lambda: worker_app.flaky.delay(1)).get(timeout=30)
    failing = _send_in_a_run(lambda: worker_app.flaky.delay(9))
    with pytest.raises(Exception, match="retry"):
        failing.get(timeout=30)
    worker_app.runs_kept.delay().get(timeout=30)
    after = _send_in_a_run(lambda: worker_app.runs_kept.delay()).get(timeout=30)
    assert after["kept"] == {name: [after["id"]]}


@pytest.mark.parametrize("worker", ["logging"], indirect=True)
def test_plain_tasks_groups_and_chains_carry_the_run(worker: Worker, worker_app: Module) -> None:
    """Plain tasks, groups and chains sent inside a run all continue it in the worker."""
    from celery import chain, group

    with recording() as rec:
        plain = _send_in_a_run(lambda: worker_app.plain.delay())
        corr = rec.get("send").correlation_id
        assert plain.get(timeout=20) == corr
        rec.clear()
        grouped = _send_in_a_run(lambda: group(worker_app.flaky.s(0), worker_app.flaky.s(0))())
        corr_group = rec.get("send").correlation_id
        assert grouped.get(timeout=20) == [corr_group, corr_group]
        rec.clear()
        chained = _send_in_a_run(lambda: chain(worker_app.plain.si(), worker_app.plain.si())())
        corr_chain = rec.get("send").correlation_id
        assert chained.get(timeout=20) == corr_chain
    assert _logs(worker, corr, "inside_plain")[0]["parent_step"] == "send"
    assert len(_logs(worker, corr_group, "flaky", count=2)) == 2
    assert len(_logs(worker, corr_chain, "inside_plain", count=2)) == 2


@pytest.mark.parametrize("worker", ["logging"], indirect=True)
def test_opentelemetry_instrumented_sender_joins_a_penstock_worker(
    worker: Worker, worker_app: Module
) -> None:
    """A sender instrumented by opentelemetry-instrumentation-celery (no penstock run) gives
    the worker's penstock records its trace id as correlation ID."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    instrumentor = CeleryInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with provider.get_tracer("test").start_as_current_span("sender") as span:
            result = worker_app.flaky.delay(0)
        trace_id = f"{span.get_span_context().trace_id:032x}"
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    assert result.get(timeout=20) == trace_id
    [log] = _logs(worker, trace_id, "flaky")
    assert log["status"] == "ok"


@pytest.mark.parametrize("worker", ["logging"], indirect=True)
def test_hostile_headers_start_a_fresh_run_in_the_worker(
    worker: Worker, worker_app: Module
) -> None:
    """Malformed trace headers sent to a real worker are ignored: the task runs, fresh run."""
    junk = {
        "traceparent": "00-" + "0" * 32 + "-" + "1" * 16 + "-01",
        "tracestate": "=" * 5000,
        "baggage": "penstock.step=forged,%%%",
    }
    result = worker_app.flaky.apply_async((0,), headers=junk)
    corr = result.get(timeout=20)
    assert isinstance(corr, str)
    assert len(corr) == 32
    assert corr != "0" * 32
    [log] = _logs(worker, corr, "flaky")
    assert log["parent_step"] is None
    assert log["status"] == "ok"


# --- otel backend in the worker ------------------------------------------------------------


@pytest.mark.parametrize("worker", ["otel"], indirect=True)
@pytest.mark.usefixtures("broker_env")
def test_example_task_span_is_a_child_of_the_sender_under_otel(
    worker: Worker, otel_spans: Any
) -> None:
    """The worker's create_change_logs span is in the sender's trace, child of its step span."""
    handle_kafka_message(_message("PN-200"))
    [sender] = [
        s for s in otel_spans.get_finished_spans() if s.name.endswith("publish_change_events")
    ]
    trace_id = f"{sender.context.trace_id:032x}"
    [span] = _spans(worker, trace_id, lambda spans: spans)
    assert span["name"] == "bom_sync.create_change_logs"
    assert span["parent_span_id"] == f"{sender.context.span_id:016x}"
    assert span["attributes"]["penstock.step"] == "create_change_logs"
    # The hop shows: the task's step is the CONSUMER span of the message.
    assert span["span_kind"] == "CONSUMER"
    assert span["attributes"]["messaging.system"] == "celery"
    assert span["attributes"]["messaging.destination.name"] == "celery"
    assert span["attributes"]["code.function.name"].endswith("create_change_logs")


@pytest.mark.parametrize(
    "worker", ["otel+instrumentation", "otel+instrumentation-first"], indirect=True
)
@pytest.mark.usefixtures("broker_env")
def test_opentelemetry_instrumented_worker_joins_the_penstock_trace(
    worker: Worker, otel_spans: Any
) -> None:
    """A worker also instrumented by opentelemetry-instrumentation-celery: its ``run/<task>``
    span is the one CONSUMER span of the hop, and penstock's step an INTERNAL child of it,
    whichever signal handlers run first."""
    handle_kafka_message(_message("PN-300"))
    [sender] = [
        s for s in otel_spans.get_finished_spans() if s.name.endswith("publish_change_events")
    ]
    trace_id = f"{sender.context.trace_id:032x}"

    def both(spans: list[dict[str, Any]]) -> bool:
        return {s["scope"] for s in spans} >= {"penstock", "opentelemetry.instrumentation.celery"}

    spans = _spans(worker, trace_id, both)
    by_scope = {s["scope"]: s for s in spans}
    celery_span = by_scope["opentelemetry.instrumentation.celery"]
    step_span = by_scope["penstock"]
    assert celery_span["name"].startswith("run/")
    assert celery_span["parent_span_id"] == f"{sender.context.span_id:016x}"
    assert celery_span["span_kind"] == "CONSUMER"
    assert step_span["name"] == "bom_sync.create_change_logs"
    assert step_span["parent_span_id"] == celery_span["span_id"]
    assert step_span["span_kind"] == "INTERNAL"
    assert [s["span_kind"] for s in spans].count("CONSUMER") == 1


def _send_in_a_run(sender: Any) -> Any:
    """Call ``sender`` inside a step named "send" of the test flow."""
    from penstock import flow, step

    @flow("celery_test")
    @step
    def send() -> Any:
        return sender()

    return send()
