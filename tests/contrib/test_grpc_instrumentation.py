"""penstock's gRPC integration next to OpenTelemetry's gRPC instrumentation, on a real server.

OpenTelemetry's interceptors own the hop (a CLIENT span on the caller, a SERVER span on the
server); penstock's steps nest inside them as INTERNAL spans, in one trace, with no second
SERVER span and a single ``traceparent`` on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from opentelemetry.trace import SpanKind

from penstock import flow, step
from penstock.contrib.grpc import intercept_channel, wrap_handler

otel_grpc = pytest.importorskip(
    "opentelemetry.instrumentation.grpc", reason="opentelemetry-instrumentation-grpc"
)

SERVICE = "penstock.test.Pair"


@pytest.fixture
def pair(otel_spans: Any) -> Iterator[tuple[grpc.Channel, list[list[tuple[str, str]]]]]:
    """A server with OpenTelemetry's server interceptor and penstock's wrapped handler; a
    channel with OpenTelemetry's client interceptor, wrapped by penstock's intercept_channel."""
    provider = otel_spans.provider
    received: list[list[tuple[str, str]]] = []

    @flow("pair")
    @step(after="call")
    def serve(request: bytes) -> bytes:
        return request

    def unary(request: bytes, context: Any) -> bytes:
        received.append([(k, v) for k, v in context.invocation_metadata() if isinstance(v, str)])
        return serve(request)

    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(unary)}
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2),
        interceptors=[otel_grpc.server_interceptor(tracer_provider=provider)],
    )
    server.add_generic_rpc_handlers((wrap_handler(handler),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    raw = grpc.insecure_channel(f"127.0.0.1:{port}")
    from opentelemetry.instrumentation.grpc import grpcext

    instrumented = grpcext.intercept_channel(
        raw, otel_grpc.client_interceptor(tracer_provider=provider)
    )
    try:
        yield intercept_channel(instrumented), received
    finally:
        raw.close()
        server.stop(None)


def test_opentelemetry_interceptors_own_the_hop(
    pair: tuple[grpc.Channel, list[list[tuple[str, str]]]], otel_spans: Any
) -> None:
    """One CLIENT and one SERVER span, OpenTelemetry's; penstock's steps are INTERNAL, the
    server step a child of the SERVER span, all in the client step's trace."""
    channel, received = pair

    @flow("pair")
    @step
    def call() -> bytes:
        return channel.unary_unary(f"/{SERVICE}/Echo")(b"x", timeout=10)  # type: ignore[no-any-return]

    assert call() == b"x"
    # The server ends its span after the response is on its way: wait for it.
    deadline = time.monotonic() + 10
    while len(otel_spans.get_finished_spans()) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    finished = otel_spans.get_finished_spans()
    [client_step] = [s for s in finished if s.name == "pair.call"]
    [server_step] = [s for s in finished if s.name == "pair.serve"]
    kinds = [s.kind for s in finished]
    assert kinds.count(SpanKind.SERVER) == 1
    assert kinds.count(SpanKind.CLIENT) == 1
    [otel_server] = [s for s in finished if s.kind is SpanKind.SERVER]
    [otel_client] = [s for s in finished if s.kind is SpanKind.CLIENT]
    assert client_step.kind is SpanKind.INTERNAL
    assert server_step.kind is SpanKind.INTERNAL
    assert {s.context.trace_id for s in finished} == {client_step.context.trace_id}
    assert otel_client.parent.span_id == client_step.context.span_id
    assert otel_server.parent.span_id == otel_client.context.span_id
    assert server_step.parent.span_id == otel_server.context.span_id
    [metadata] = received
    assert [k for k, _ in metadata].count("traceparent") == 1
