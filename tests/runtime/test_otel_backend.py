"""The otel backend with the real OpenTelemetry SDK and its in-memory span exporter."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterator

import pytest
from bom_sync import store
from bom_sync.consumer import handle_kafka_message
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import penstock
from penstock import entrypoint, flow, step
from penstock.propagation import continue_remote, current_ids, current_step
from tests.runtime.app import BOM_STEPS, message

pytestmark = pytest.mark.usefixtures("bom_store")


@pytest.fixture(autouse=True)
def _otel(spans: InMemorySpanExporter) -> None:
    """Every test here records through the otel backend into ``spans``."""
    penstock.configure(backend="otel")


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {s.name: s for s in exporter.get_finished_spans()}


def test_example_app_spans_mirror_the_call_nesting(spans: InMemorySpanExporter) -> None:
    """The example app's run is one trace whose parent ids follow the calls."""
    handle_kafka_message(message("PN-100"))
    found = by_name(spans)
    assert sorted(found) == sorted(f"bom_sync.{s}" for s in BOM_STEPS)
    parent_of = {
        "sync_reference": "handle_kafka_message",
        "upsert_to_db": "sync_reference",
        "publish_change_events": "upsert_to_db",
        "update_ebom": "publish_change_events",
        "enqueue_changelog": "publish_change_events",
    }
    root = found["bom_sync.handle_kafka_message"]
    assert root.parent is None
    for child, parent in parent_of.items():
        span, parent_span = found[f"bom_sync.{child}"], found[f"bom_sync.{parent}"]
        assert span.parent is not None
        assert span.parent.span_id == parent_span.context.span_id
        assert span.context.trace_id == root.context.trace_id
    # Ended innermost first, like the calls returned.
    ended = [s.name for s in spans.get_finished_spans()]
    assert ended[0] == "bom_sync.update_ebom"
    assert ended[-1] == "bom_sync.handle_kafka_message"


def test_span_attributes_name_flow_step_and_code(spans: InMemorySpanExporter) -> None:
    """Spans carry penstock.* and the stable code.* attributes pointing at the function."""
    handle_kafka_message(message("PN-100"))
    root = by_name(spans)["bom_sync.handle_kafka_message"]
    attrs = dict(root.attributes or {})
    assert attrs["penstock.flow"] == "bom_sync"
    assert attrs["penstock.step"] == "handle_kafka_message"
    assert attrs["penstock.entrypoint"] is True
    assert attrs["code.function.name"] == "bom_sync.consumer.handle_kafka_message"
    assert str(attrs["code.file.path"]).endswith("consumer.py")
    assert isinstance(attrs["code.line.number"], int)
    assert attrs["code.line.number"] > 0
    assert "code.function" not in attrs
    assert "code.lineno" not in attrs
    child = by_name(spans)["bom_sync.sync_reference"]
    assert dict(child.attributes or {})["penstock.entrypoint"] is False
    assert root.kind is trace.SpanKind.INTERNAL


def test_correlation_id_is_the_trace_id(spans: InMemorySpanExporter) -> None:
    """Inside a step, current_correlation_id() and current_ids() are the span's ids."""
    seen: list[tuple[str | None, tuple[int, int] | None]] = []

    @flow("ids")
    @entrypoint
    def root() -> None:
        seen.append((penstock.current_correlation_id(), current_ids()))

    root()
    (span,) = spans.get_finished_spans()
    corr, ids = seen[0]
    assert corr == format(span.context.trace_id, "032x")
    assert ids == (span.context.trace_id, span.context.span_id)


def test_failure_records_exception_and_error_status(spans: InMemorySpanExporter) -> None:
    """A failed step's span records the exception with ERROR status; the caller gets it as is."""
    with pytest.raises(store.PartNotFound) as info:
        handle_kafka_message(message("PN-404"))
    assert traceback.extract_tb(info.value.__traceback__)[-1].name == "fetch"
    failed = by_name(spans)["bom_sync.sync_reference"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "PartNotFound: PN-404"
    (event,) = failed.events
    assert event.name == "exception"
    assert dict(event.attributes or {})["exception.type"].endswith("PartNotFound")


def test_nests_under_a_foreign_span_and_theirs_under_ours(spans: InMemorySpanExporter) -> None:
    """Our span nests under a foreign request span, and a foreign span nests under ours."""
    tracer = trace.get_tracer("web-framework")
    seen: list[str | None] = []

    @flow("web")
    @entrypoint
    def handler() -> None:
        seen.append(penstock.current_correlation_id())
        with tracer.start_as_current_span("db.query"):
            pass

    with tracer.start_as_current_span("GET /parts") as request:
        handler()
    found = by_name(spans)
    ours, query = found["web.handler"], found["db.query"]
    assert ours.parent is not None
    assert ours.parent.span_id == request.get_span_context().span_id
    assert query.parent is not None
    assert query.parent.span_id == ours.context.span_id
    assert seen == [format(request.get_span_context().trace_id, "032x")]


def test_generator_span_covers_the_iteration(spans: InMemorySpanExporter) -> None:
    """A generator's span covers its whole iteration and parents the steps its body calls."""

    @flow("g")
    @step(after="produce")
    def child(i: int) -> int:
        return i

    @flow("g")
    @entrypoint
    def produce() -> Iterator[int]:
        for i in range(2):
            yield child(i)

    gen = produce()
    assert spans.get_finished_spans() == ()
    assert list(gen) == [0, 1]
    found = spans.get_finished_spans()
    outer = next(s for s in found if s.name == "g.produce")
    kids = [s for s in found if s.name == "g.child"]
    assert len(kids) == 2
    assert all(k.parent is not None and k.parent.span_id == outer.context.span_id for k in kids)
    assert outer.end_time is not None
    assert outer.end_time >= max(k.end_time or 0 for k in kids)
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_async_steps_nest(spans: InMemorySpanExporter) -> None:
    """Async steps gathered concurrently are all children of the awaiting step."""

    @flow("a")
    @step(after="fan_out")
    async def work(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @flow("a")
    @entrypoint
    async def fan_out() -> list[int]:
        return list(await asyncio.gather(*(work(i) for i in range(5))))

    assert await fan_out() == [0, 1, 2, 3, 4]
    found = spans.get_finished_spans()
    root = next(s for s in found if s.name == "a.fan_out")
    kids = [s for s in found if s.name == "a.work"]
    assert len(kids) == 5
    assert {k.parent.span_id for k in kids if k.parent} == {root.context.span_id}


def test_continue_remote_makes_a_child_of_the_remote_span(spans: InMemorySpanExporter) -> None:
    """continue_remote: the next step's span continues the remote trace under its span."""
    trace_id, span_id = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7
    inside: list[tuple[int, int] | None] = []

    @flow("bom_sync")
    @step(after="publish_change_events")
    def create_change_logs() -> None:
        inside.append(current_ids())

    with continue_remote(
        trace_id, span_id, parent_step="publish_change_events", parent_flow="bom_sync"
    ):
        assert current_ids() == (trace_id, span_id)
        assert trace.get_current_span().get_span_context().span_id == span_id
        create_change_logs()
    assert current_ids() is None
    assert current_step() is None
    (span,) = spans.get_finished_spans()
    assert span.context.trace_id == trace_id
    assert span.parent is not None
    assert span.parent.span_id == span_id
    assert span.parent.is_remote
    assert inside == [(trace_id, span.context.span_id)]


def test_continue_remote_with_link_starts_a_linked_run(spans: InMemorySpanExporter) -> None:
    """link=True: a new trace whose span links to the remote span."""
    trace_id, span_id = 0x1234, 0x5678

    @flow("batch")
    @entrypoint
    def consume_batch() -> None:
        return None

    with continue_remote(trace_id, span_id, link=True, sampled=False, trace_state="k=v"):
        consume_batch()
    (span,) = spans.get_finished_spans()
    assert span.parent is None
    assert span.context.trace_id != trace_id
    (link,) = span.links
    assert (link.context.trace_id, link.context.span_id) == (trace_id, span_id)
    assert link.context.trace_state.get("k") == "v"


async def test_generator_closed_in_another_task_detaches_cleanly(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    """A generator closed from another task ends its span without "Failed to detach context"."""

    @flow("g")
    @entrypoint
    def ticks() -> Iterator[int]:
        yield 1
        yield 2

    gen = ticks()
    assert next(gen) == 1
    assert trace.get_current_span() is trace.INVALID_SPAN

    async def closer() -> object:
        gen.close()
        return trace.get_current_span()

    assert await asyncio.create_task(closer()) is trace.INVALID_SPAN
    assert trace.get_current_span() is trace.INVALID_SPAN
    (span,) = spans.get_finished_spans()
    assert dict(span.attributes or {})["penstock.cancelled"] is True
    assert "Failed to detach context" not in caplog.text


def test_step_in_no_flow_is_named_after_the_step(spans: InMemorySpanExporter) -> None:
    """A step put in no flow makes a span named after it, without a penstock.flow attribute."""

    @step
    def lonely() -> int:
        return 1

    assert lonely() == 1
    (span,) = spans.get_finished_spans()
    assert span.name == "lonely"
    attrs = dict(span.attributes or {})
    assert "penstock.flow" not in attrs
    assert attrs["penstock.step"] == "lonely"
    assert current_step() is None
