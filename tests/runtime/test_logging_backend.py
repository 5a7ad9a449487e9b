"""The logging backend: real log records, logfmt and JSON lines, correlation IDs on app logs."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog
from bom_sync import store
from bom_sync.consumer import handle_kafka_message
from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter as PythonJsonFormatter

import penstock
from penstock import entrypoint, flow, step
from penstock.propagation import continue_remote
from tests.runtime.app import BOM_STEPS, message
from tests.support.otel import session_exporter

pytestmark = pytest.mark.usefixtures("bom_store")

app_log = logging.getLogger("bom_sync.app")


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture the penstock logger at INFO, under the logging backend."""
    caplog.set_level(logging.INFO, logger="penstock")
    penstock.configure(backend="logging")
    return caplog


def step_records(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.name == "penstock" and hasattr(r, "duration_ms")]


def test_example_app_logs_one_record_per_step(records: pytest.LogCaptureFixture) -> None:
    """Each finished step logs an INFO record with the run's fields as attributes."""
    handle_kafka_message(message("PN-100"))
    logged = step_records(records.records)
    assert sorted(r.step for r in logged) == sorted(BOM_STEPS)  # type: ignore[attr-defined]
    assert {r.levelno for r in logged} == {logging.INFO}
    corr = {r.correlation_id for r in logged}  # type: ignore[attr-defined]
    assert len(corr) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", corr.pop())
    by_step = {r.step: r for r in logged}  # type: ignore[attr-defined]
    sync = by_step["sync_reference"]
    assert sync.flow == "bom_sync"  # type: ignore[attr-defined]
    assert sync.parent_step == "handle_kafka_message"  # type: ignore[attr-defined]
    assert sync.predecessor == "handle_kafka_message"  # type: ignore[attr-defined]
    assert sync.status == "ok"  # type: ignore[attr-defined]
    assert isinstance(sync.duration_ms, float)
    assert sync.duration_ms >= 0
    assert sync.pathname.endswith("sync.py")
    assert sync.funcName == "sync_reference"
    assert sync.getMessage().startswith("bom_sync.sync_reference ok in ")
    assert by_step["enqueue_changelog"].predecessor == "update_ebom"  # type: ignore[attr-defined]
    assert by_step["handle_kafka_message"].parent_step is None  # type: ignore[attr-defined]
    # Sorting by start time lists the run's steps in call order.
    ordered = sorted(logged, key=lambda r: r.start_time)  # type: ignore[attr-defined]
    assert [r.step for r in ordered] == BOM_STEPS  # type: ignore[attr-defined]


def test_failed_step_logs_error_with_exception(records: pytest.LogCaptureFixture) -> None:
    """A failing step logs at ERROR with exception info, type and message."""
    with pytest.raises(store.PartNotFound):
        handle_kafka_message(message("PN-404"))
    failed = {r.step: r for r in step_records(records.records)}["sync_reference"]  # type: ignore[attr-defined]
    assert failed.levelno == logging.ERROR
    assert failed.status == "error"  # type: ignore[attr-defined]
    assert failed.exception_type == "PartNotFound"  # type: ignore[attr-defined]
    assert failed.exception_message == "PN-404"  # type: ignore[attr-defined]
    assert failed.exc_info is not None
    assert failed.exc_info[0] is store.PartNotFound
    # The callers it propagated through fail too, without repeating the traceback.
    caller = {r.step: r for r in step_records(records.records)}["handle_kafka_message"]  # type: ignore[attr-defined]
    assert caller.levelno == logging.ERROR
    assert caller.exc_info is None
    assert caller.exception_type == "PartNotFound"  # type: ignore[attr-defined]


def test_default_logfmt_lines() -> None:
    """configure(format="logfmt") prints one readable key=value line per step."""
    out = io.StringIO()
    penstock.configure(backend="logging", format="logfmt", stream=out)
    handle_kafka_message(message("PN-100"))
    lines = out.getvalue().splitlines()
    assert len(lines) == len(BOM_STEPS)
    pattern = re.compile(
        r"^time=\S+Z level=info flow=bom_sync step=sync_reference "
        r"correlation_id=[0-9a-f]{32} parent_step=handle_kafka_message "
        r"predecessor=handle_kafka_message duration_ms=[0-9.]+ status=ok$"
    )
    assert any(pattern.match(line) for line in lines), lines
    penstock.reset()
    handle_kafka_message(message("PN-200"))
    assert len(out.getvalue().splitlines()) == len(BOM_STEPS), "reset() removed the handler"


def test_default_json_lines() -> None:
    """configure(format="json") prints one JSON object per step with the fields."""
    out = io.StringIO()
    penstock.configure(backend="logging", format="json", stream=out)
    with pytest.raises(store.PartNotFound):
        handle_kafka_message(message("PN-404"))
    objs = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    failed = next(o for o in objs if o["step"] == "sync_reference")
    assert failed["level"] == "error"
    assert failed["status"] == "error"
    assert failed["exception_type"] == "PartNotFound"
    assert "Traceback" in failed["exception"]
    assert {o["correlation_id"] for o in objs} == {failed["correlation_id"]}


def test_python_json_logger_emits_the_fields_as_is(caplog: pytest.LogCaptureFixture) -> None:
    """A third-party JSON formatter emits the record attributes with no extra configuration."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(PythonJsonFormatter())
    logger = logging.getLogger("penstock")
    logger.addHandler(handler)
    caplog.set_level(logging.INFO, logger="penstock")
    try:
        penstock.configure(backend="logging")
        handle_kafka_message(message("PN-100"))
    finally:
        logger.removeHandler(handler)
    objs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [o["step"] for o in objs][-1] == "handle_kafka_message"
    assert all(o["flow"] == "bom_sync" and o["status"] == "ok" for o in objs)
    assert len({o["correlation_id"] for o in objs}) == 1


@pytest.mark.parametrize("backend", ["logging", "otel"])
def test_correlation_filter_tags_application_logs(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CorrelationIdFilter puts correlation_id, flow and step on the app's own records."""
    if backend == "otel":
        session_exporter()
    penstock.configure(backend=backend)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(penstock.CorrelationIdFilter())
    handler.setFormatter(logging.Formatter("%(correlation_id)s %(flow)s %(step)s %(message)s"))
    app_log.addHandler(handler)
    caplog.set_level(logging.INFO, logger="bom_sync.app")
    seen: list[str | None] = []

    @flow("tagged")
    @entrypoint
    def work() -> None:
        seen.append(penstock.current_correlation_id())
        app_log.info("inside")

    try:
        work()
        app_log.info("outside")
    finally:
        app_log.removeHandler(handler)
    inside, outside = out.getvalue().splitlines()
    assert inside == f"{seen[0]} tagged work inside"
    assert outside == "None None None outside"


def test_structlog_processor_adds_the_ids() -> None:
    """penstock.add_correlation_id adds correlation_id, flow and step to structlog events."""
    penstock.configure(backend="noop")
    structlog.configure(
        processors=[penstock.add_correlation_id, structlog.processors.JSONRenderer()],
        logger_factory=structlog.testing.CapturingLoggerFactory(),
    )
    try:
        log = structlog.get_logger()
        seen: list[str | None] = []

        @flow("s")
        @entrypoint
        def work() -> None:
            seen.append(penstock.current_correlation_id())
            log.info("inside")

        work()
        log.info("outside")
        calls = structlog.get_config()["logger_factory"].logger.calls
    finally:
        structlog.reset_defaults()
    inside, outside = (json.loads(c.args[0]) for c in calls)
    assert inside == {"event": "inside", "correlation_id": seen[0], "flow": "s", "step": "work"}
    assert outside == {"event": "outside"}


def test_disabled_logger_logs_nothing_and_the_app_runs(caplog: pytest.LogCaptureFixture) -> None:
    """With the penstock logger disabled no record is built; results are unchanged."""
    caplog.set_level(logging.INFO, logger="penstock")
    logger = logging.getLogger("penstock")
    penstock.configure(backend="logging")
    logger.disabled = True
    try:
        assert handle_kafka_message(message("PN-100"))["changed"] is True
    finally:
        logger.disabled = False
    assert step_records(caplog.records) == []


def test_logging_backend_joins_a_current_otel_trace(records: pytest.LogCaptureFixture) -> None:
    """Under the logging backend a root step adopts the trace id of a current OTel span."""
    session_exporter()
    with trace.get_tracer("web").start_as_current_span("GET /") as span:
        handle_kafka_message(message("PN-100"))
    expected = format(span.get_span_context().trace_id, "032x")
    assert {r.correlation_id for r in step_records(records.records)} == {expected}  # type: ignore[attr-defined]


def test_remote_parent_and_link_in_log_records(records: pytest.LogCaptureFixture) -> None:
    """Remote runs continue the remote correlation ID; linked runs carry linked_correlation_id."""

    @flow("bom_sync")
    @step(after="publish_change_events")
    def create_change_logs() -> None:
        return None

    with continue_remote(0xABC, 0xDEF, parent_step="publish_change_events"):
        create_change_logs()
    with continue_remote(0xABC, 0xDEF, link=True):
        create_change_logs()
    cont, linked = step_records(records.records)
    assert cont.correlation_id == f"{0xABC:032x}"  # type: ignore[attr-defined]
    assert cont.parent_step == "publish_change_events"  # type: ignore[attr-defined]
    assert cont.parent_span_id == f"{0xDEF:016x}"  # type: ignore[attr-defined]
    assert linked.correlation_id != cont.correlation_id  # type: ignore[attr-defined]
    assert linked.linked_correlation_id == f"{0xABC:032x}"  # type: ignore[attr-defined]
    assert linked.parent_step is None  # type: ignore[attr-defined]
    assert linked.parent_span_id is None  # type: ignore[attr-defined]


def test_logger_at_warning_logs_failures_only(caplog: pytest.LogCaptureFixture) -> None:
    """With the penstock logger at WARNING, successful steps log nothing but failures do."""
    caplog.set_level(logging.WARNING, logger="penstock")
    penstock.configure(backend="logging")
    handle_kafka_message(message("PN-100"))
    assert step_records(caplog.records) == []
    with pytest.raises(store.PartNotFound):
        handle_kafka_message(message("PN-404"))
    assert [r.step for r in step_records(caplog.records)] == [  # type: ignore[attr-defined]
        "sync_reference",
        "handle_kafka_message",
    ]


def test_auto_format_leaves_configured_logging_alone() -> None:
    """format="auto" installs no handler when the application configured logging."""
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        penstock.configure(backend="logging", format="auto")
        assert logging.getLogger("penstock").handlers == []
    finally:
        root.removeHandler(handler)
    with pytest.raises(penstock.BackendError, match="format must be"):
        penstock.configure(backend="logging", format="xml")
