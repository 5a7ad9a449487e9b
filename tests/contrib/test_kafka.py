"""Kafka with each client library's real record types and wire format (no broker runs here;
confluent-kafka also round-trips through librdkafka's built-in mock cluster)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

import penstock
from penstock import DefinitionError, flow, step
from penstock.contrib.kafka import (
    continue_from_message,
    extract_message,
    headers,
    message_entrypoint,
    message_headers,
    message_step,
)
from penstock.propagation import current_ids
from penstock.testing import recording

TOPIC = "bom"

# kafka-python 3.0 reads its protocol schemas with importlib.resources.read_text/open_text,
# deprecated since Python 3.11: its warning, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:(read|open)_text is deprecated:DeprecationWarning")


def _produce(make_record: Callable[[list[tuple[str, bytes]]], Any]) -> tuple[Any, Any]:
    """Inside a run of step ``produce``, build headers and a consumed record from them."""

    @flow("bom_kafka")
    @step
    def produce() -> Any:
        return make_record(headers([("content-type", b"application/json")]))

    return produce(), None


# --- each client's real record types ------------------------------------------------------


def _through_batch(default_records: Any, hdrs: list[tuple[str, bytes]]) -> Any:
    """One record with ``hdrs``, encoded in a v2 record batch by a client's
    ``default_records`` module (kafka-python's, or aiokafka's fork of it) and decoded back."""
    builder = default_records.DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    builder.append(0, timestamp=None, key=None, value=b"{}", headers=hdrs)
    [rec] = list(default_records.DefaultRecordBatch(bytes(builder.build())))
    return rec


def _kafka_python_record(hdrs: list[tuple[str, bytes]]) -> Any:
    """Headers through kafka-python's v2 record batch encoding, into its ConsumerRecord."""
    from kafka.consumer.fetcher import ConsumerRecord
    from kafka.record import default_records

    rec = _through_batch(default_records, hdrs)
    return ConsumerRecord(
        TOPIC, 0, -1, rec.offset, rec.timestamp, 0, rec.key, rec.value, rec.headers, None, -1, 2, -1
    )


def _aiokafka_record(hdrs: list[tuple[str, bytes]]) -> Any:
    """Headers through aiokafka's own record batch encoding, into its ConsumerRecord."""
    from aiokafka.record import default_records
    from aiokafka.structs import ConsumerRecord

    rec = _through_batch(default_records, hdrs)
    return ConsumerRecord(
        TOPIC, 0, rec.offset, rec.timestamp, 0, None, rec.value, None, -1, 2, tuple(rec.headers)
    )


def _confluent_message(hdrs: list[tuple[str, bytes]]) -> Any:
    """confluent-kafka's Message, as its consumer returns it."""
    from confluent_kafka import Message

    return Message(topic=TOPIC, partition=0, offset=0, value=b"{}", headers=hdrs)


CLIENTS = {
    "kafka-python": _kafka_python_record,
    "aiokafka": _aiokafka_record,
    "confluent-kafka": _confluent_message,
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_consumer_entrypoint_continues_the_producer_run(client: str) -> None:
    """For each client's record type, the handler is the producing step's child."""

    @flow("bom_kafka")
    @message_entrypoint
    def handle(msg: Any) -> str | None:
        return penstock.current_correlation_id()

    with recording() as rec:
        record, _ = _produce(CLIENTS[client])
        assert ("content-type", b"application/json") in list(message_headers(record))
        corr = handle(record)
    producer = rec.get("produce")
    consumer = rec.get("handle")
    assert corr == producer.correlation_id == consumer.correlation_id
    assert consumer.parent_step == "produce"
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.span_id


async def test_async_handler_continues_the_run_for_its_whole_duration() -> None:
    """An async aiokafka handler and the steps it awaits stay in the producer's run."""
    import asyncio

    @flow("bom_kafka")
    @step
    async def enrich() -> str | None:
        await asyncio.sleep(0)
        return penstock.current_correlation_id()

    @flow("bom_kafka")
    @message_step(after="produce")
    async def handle(record: Any) -> tuple[str | None, str | None]:
        await asyncio.sleep(0)
        inner = await enrich()
        return inner, penstock.current_correlation_id()

    with recording() as rec:
        record, _ = _produce(_aiokafka_record)
        inner, outer = await handle(record)
        assert current_ids() is None  # the producer's context is gone once the handler returns
    producer = rec.get("produce")
    assert inner == outer == producer.correlation_id
    assert rec.get("enrich").parent_step == "handle"
    assert rec.get("handle").parent_step == "produce"


def test_handler_records_under_logging_carry_the_producer_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Under the logging backend the consumer's record names the producer's run and step."""

    @flow("bom_kafka")
    @message_entrypoint
    def handle(msg: Any) -> None:
        return None

    penstock.configure(backend="logging")
    with caplog.at_level(logging.INFO, logger="penstock"):
        record, _ = _produce(_kafka_python_record)
        handle(record)
    logs = {r.step: r for r in caplog.records if hasattr(r, "step")}  # type: ignore[attr-defined]
    assert logs["handle"].correlation_id == logs["produce"].correlation_id  # type: ignore[attr-defined]
    assert logs["handle"].parent_step == "produce"  # type: ignore[attr-defined]


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_handler_span_is_a_child_of_the_producer_span(otel_spans: Any, client: str) -> None:
    """Under the otel backend the consumer's span is the producing step span's child, a
    CONSUMER span naming the messaging system and the topic."""

    @flow("bom_kafka")
    @message_entrypoint
    def handle(msg: Any) -> None:
        return None

    record, _ = _produce(CLIENTS[client])
    handle(record)
    spans = {s.name: s for s in otel_spans.get_finished_spans()}
    producer, consumer = spans["bom_kafka.produce"], spans["bom_kafka.handle"]
    assert consumer.context.trace_id == producer.context.trace_id
    assert consumer.parent.span_id == producer.context.span_id
    assert consumer.attributes["penstock.entrypoint"] is True
    assert consumer.kind is SpanKind.CONSUMER
    assert consumer.attributes["messaging.system"] == "kafka"
    assert consumer.attributes["messaging.destination.name"] == TOPIC
    assert producer.kind is SpanKind.INTERNAL


def test_link_option_starts_a_linked_run(otel_spans: Any) -> None:
    """With link=True the handler starts a new trace whose span links to the producer's."""

    @flow("bom_kafka")
    @message_entrypoint(link=True)
    def handle(msg: Any) -> None:
        return None

    record, _ = _produce(_kafka_python_record)
    handle(record)
    spans = {s.name: s for s in otel_spans.get_finished_spans()}
    producer, consumer = spans["bom_kafka.produce"], spans["bom_kafka.handle"]
    assert consumer.context.trace_id != producer.context.trace_id
    assert consumer.parent is None
    [link] = consumer.links
    assert link.context.span_id == producer.context.span_id
    assert consumer.kind is SpanKind.CONSUMER


def test_confluent_round_trip_through_librdkafka_mock_cluster() -> None:
    """Headers from headers() survive a real produce/consume through confluent-kafka."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

    topic = f"penstock-{uuid.uuid4().hex[:8]}"
    producer = Producer({"test.mock.num.brokers": 1, "log_level": 0})
    broker = next(iter(producer.list_topics(timeout=10).brokers.values()))

    @flow("bom_kafka")
    @step
    def produce() -> None:
        producer.produce(topic, b"{}", partition=0, headers=headers())
        assert producer.flush(10) == 0

    @flow("bom_kafka")
    @message_entrypoint
    def handle(msg: Any) -> str | None:
        return penstock.current_correlation_id()

    consumer = Consumer(
        {
            "bootstrap.servers": f"{broker.host}:{broker.port}",
            "group.id": "penstock-test",
            "enable.auto.commit": False,
            "log_level": 0,
        }
    )
    try:
        with recording() as rec:
            produce()
            consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
            msg = None
            for _ in range(40):
                msg = consumer.poll(0.25)
                if msg is not None and msg.error() is None:
                    break
            assert msg is not None
            assert msg.error() is None
            corr = handle(msg)
    finally:
        consumer.close()
    assert corr == rec.get("produce").correlation_id
    assert rec.get("handle").parent_step == "produce"


def test_continue_from_message_and_extract_message() -> None:
    """The context manager form continues the run; extract_message reads it without doing so."""

    @flow("bom_kafka")
    @step
    def after_read() -> str | None:
        return penstock.current_correlation_id()

    with recording() as rec:
        record, _ = _produce(_confluent_message)
        remote = extract_message(record)
        with continue_from_message(record) as found:
            corr = after_read()
        with continue_from_message(_confluent_message([])) as nothing:
            fresh = after_read()
    assert remote == found
    assert remote is not None
    assert remote.parent_step == "produce"
    assert corr == rec.get("produce").correlation_id == remote.correlation_id
    assert nothing is None
    assert fresh != corr


def test_headers_outside_a_run_add_nothing_and_replace_stale_context() -> None:
    """headers() outside a run copies what it is given; inside one it replaces old context."""
    stale = [("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"), ("k", b"v")]
    assert headers(stale) == stale
    assert headers() == []

    @flow("bom_kafka")
    @step
    def produce() -> list[tuple[str, bytes]]:
        return headers(stale)

    with recording():
        fresh = produce()
    names = [name for name, _ in fresh]
    assert names.count("traceparent") == 1
    assert ("k", b"v") in fresh
    assert dict(fresh)["traceparent"] != stale[0][1]


def test_message_parameter_option_and_its_errors() -> None:
    """message= picks the argument by name; a wrong name or a generator is a DefinitionError."""

    @flow("bom_kafka")
    @message_entrypoint(message="msg")
    def handle(config: Any, msg: Any) -> str | None:
        return penstock.current_correlation_id()

    with recording() as rec:
        record, _ = _produce(_kafka_python_record)
        assert handle(object(), msg=record) == rec.get("produce").correlation_id
        assert handle(object(), record) == rec.get("produce").correlation_id

    with pytest.raises(DefinitionError, match=r"names no parameter .*did you mean 'msg'"):

        @message_entrypoint(message="mgs")
        def wrong(msg: Any) -> None: ...

    with pytest.raises(DefinitionError, match="plain or async function"):

        @message_entrypoint
        def gen(msg: Any) -> Any:
            yield msg


def test_consumer_steps_are_drawn_as_kafka_boundaries() -> None:
    """A message_step after its producer appears in the flow graph with transport kafka."""

    @flow("bom_kafka")
    @step
    def produce() -> None: ...

    @flow("bom_kafka")
    @message_step(after=produce)
    def handle(msg: Any) -> None: ...

    graph = penstock.get_flow("bom_kafka")
    assert graph.step("handle").as_dict()["transport"] == "kafka"
    assert "kafka" in penstock.generate_dag("bom_kafka", format="mermaid")
