"""gRPC through a real server on 127.0.0.1 (generic handlers, no protoc): the server continues
the client's run, for the four call types, sync and grpc.aio, under every backend."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import grpc.aio
import pytest
from opentelemetry import trace

import penstock
from penstock import flow, step
from penstock.contrib.grpc import (
    AioServerInterceptor,
    ClientInterceptor,
    ServerInterceptor,
    aio_client_interceptors,
    intercept_channel,
    metadata,
)
from penstock.testing import RecordingBackend, recording

SERVICE = "penstock.test.Echo"
METHODS = ("Unary", "UnaryStream", "StreamUnary", "StreamStream")

#: What the server's handlers call for each request (set by each test).
Serve = Callable[[bytes], bytes]


def _handlers(serve: Callable[[], Serve]) -> grpc.GenericRpcHandler:
    def unary(request: bytes, context: Any) -> bytes:
        return serve()(request)

    def unary_stream(request: bytes, context: Any) -> Iterator[bytes]:
        for i in range(2):
            yield serve()(request + str(i).encode())

    def stream_unary(requests: Iterator[bytes], context: Any) -> bytes:
        return b"|".join(serve()(r) for r in requests)

    def stream_stream(requests: Iterator[bytes], context: Any) -> Iterator[bytes]:
        for r in requests:
            yield serve()(r)

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary),
            "UnaryStream": grpc.unary_stream_rpc_method_handler(unary_stream),
            "StreamUnary": grpc.stream_unary_rpc_method_handler(stream_unary),
            "StreamStream": grpc.stream_stream_rpc_method_handler(stream_stream),
        },
    )


class Server:
    """A real sync gRPC server on 127.0.0.1; ``serve`` is what its handlers call."""

    def __init__(self, interceptors: list[Any]) -> None:
        self.serve: Serve = lambda request: request
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4), interceptors=interceptors
        )
        self.server.add_generic_rpc_handlers((_handlers(lambda: self.serve),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def server() -> Iterator[Server]:
    """A sync server with penstock's server interceptor."""
    srv = Server([ServerInterceptor()])
    yield srv
    srv.server.stop(None)


@pytest.fixture(params=[False, True], ids=["ids", "names"])
def names(request: pytest.FixtureRequest) -> bool:
    """Whether the client names its step (W3C baggage) besides the trace context."""
    return bool(request.param)


@pytest.fixture
def channel(server: Server, names: bool) -> Iterator[grpc.Channel]:
    """A sync channel to ``server`` whose calls carry the run (intercept_channel)."""
    with grpc.insecure_channel(server.target) as raw:
        yield intercept_channel(raw, names=names)


def _call_all(channel: grpc.Channel) -> list[bytes]:
    """Call each of the four methods once; the responses, flattened."""
    out = [channel.unary_unary(f"/{SERVICE}/Unary")(b"a", timeout=10)]
    out += list(channel.unary_stream(f"/{SERVICE}/UnaryStream")(b"b", timeout=10))
    out.append(channel.stream_unary(f"/{SERVICE}/StreamUnary")(iter([b"c", b"d"]), timeout=10))
    out += list(channel.stream_stream(f"/{SERVICE}/StreamStream")(iter([b"e", b"f"]), timeout=10))
    return out


def _declare_rpc_steps(server: Server, call_rpcs: Callable[[], Any]) -> Callable[[], Any]:
    """A client step ``call`` running ``call_rpcs`` and a server step ``serve`` after it."""

    @flow("rpc")
    @step(after="call")
    def serve(request: bytes) -> bytes:
        return json.dumps([request.decode(), penstock.current_correlation_id()]).encode()

    @flow("rpc")
    @step
    def call() -> Any:
        return call_rpcs()

    server.serve = serve
    return call


def _served(rec: RecordingBackend) -> list[Any]:
    return [r for r in rec.records if r.step == "serve"]


def test_all_call_types_continue_the_client_run(
    server: Server, channel: grpc.Channel, names: bool
) -> None:
    """Unary and streaming calls: every server step has the client's run and parent (and its
    name when the client sends names)."""
    call = _declare_rpc_steps(server, lambda: _call_all(channel))
    with recording() as rec:
        responses = call()
    client = rec.get("call")
    served = _served(rec)
    assert len(served) == 7  # 1 + 2 + 2 + 2 requests
    assert {r.correlation_id for r in served} == {client.correlation_id}
    assert {r.parent_step for r in served} == {"call" if names else None}
    assert {r.parent.span_id for r in served} == {client.span_id}
    assert all(client.correlation_id.encode() in r for r in responses)


def test_server_logs_carry_the_client_correlation_id(
    server: Server, channel: grpc.Channel, names: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the logging backend the server step's record names the client's run and parent
    span (and the parent step, when the client sends names)."""
    call = _declare_rpc_steps(server, lambda: channel.unary_unary(f"/{SERVICE}/Unary")(b"x"))
    penstock.configure(backend="logging")
    with caplog.at_level(logging.INFO, logger="penstock"):
        call()
    records = {r.step: r for r in caplog.records if hasattr(r, "step")}  # type: ignore[attr-defined]
    assert records["serve"].correlation_id == records["call"].correlation_id  # type: ignore[attr-defined]
    served, client = records["serve"], records["call"]
    assert served.parent_span_id == client.span_id  # type: ignore[attr-defined]
    assert served.parent_step == ("call" if names else None)  # type: ignore[attr-defined]
    assert records["serve"].threadName != records["call"].threadName


def test_server_span_is_a_child_of_the_client_step(
    server: Server, channel: grpc.Channel, otel_spans: Any
) -> None:
    """Under the otel backend the server step's span is the client step span's child."""
    call = _declare_rpc_steps(server, lambda: _call_all(channel))
    call()
    spans = otel_spans.get_finished_spans()
    [client] = [s for s in spans if s.name == "rpc.call"]
    served = [s for s in spans if s.name == "rpc.serve"]
    assert len(served) == 7
    assert {s.context.trace_id for s in served} == {client.context.trace_id}
    assert {s.parent.span_id for s in served} == {client.context.span_id}
    # One SERVER span per call (the first step of each call), with the RPC attributes.
    server_spans = [s for s in served if s.kind is trace.SpanKind.SERVER]
    assert len(server_spans) == len(METHODS)
    assert {dict(s.attributes or {})["rpc.method"] for s in server_spans} == set(METHODS)
    for span in server_spans:
        attrs = dict(span.attributes or {})
        assert (attrs["rpc.system"], attrs["rpc.service"]) == ("grpc", SERVICE)
    assert {s.kind for s in served} == {trace.SpanKind.SERVER, trace.SpanKind.INTERNAL}
    assert client.kind is trace.SpanKind.INTERNAL


def test_calls_outside_a_run_send_no_metadata_and_start_fresh_runs(
    server: Server, channel: grpc.Channel
) -> None:
    """A call made outside any run carries no context: the server step starts its own run."""
    _declare_rpc_steps(server, lambda: None)
    with recording() as rec:
        channel.unary_unary(f"/{SERVICE}/Unary")(b"x", timeout=10)
    [served] = _served(rec)
    assert served.parent is None


def test_client_interceptor_composes_with_grpc_intercept_channel(server: Server) -> None:
    """ClientInterceptor in gRPC's own interceptor chain carries the run on all call types."""
    with grpc.insecure_channel(server.target) as raw:
        channel = grpc.intercept_channel(raw, ClientInterceptor())
        call = _declare_rpc_steps(server, lambda: _call_all(channel))
        with recording() as rec:
            call()
    served = _served(rec)
    assert len(served) == 7
    assert {r.correlation_id for r in served} == {rec.get("call").correlation_id}
    assert {r.parent.span_id for r in served} == {rec.get("call").span_id}


@pytest.fixture
def metadata_server() -> Iterator[str]:
    """A plain server (no penstock) whose one method returns the metadata it received."""

    def echo_metadata(request: bytes, context: Any) -> bytes:
        return json.dumps(sorted(context.invocation_metadata())).encode()

    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    srv.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE, {"Metadata": grpc.unary_unary_rpc_method_handler(echo_metadata)}
            ),
        )
    )
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    yield f"127.0.0.1:{port}"
    srv.stop(None)


def _sent(reply: bytes) -> dict[str, str]:
    return {k: v for k, v in json.loads(reply) if k != "user-agent"}


def test_carrying_channel_adds_context_to_every_way_of_calling(metadata_server: str) -> None:
    """intercept_channel: __call__, with_call and future all send the run's headers next to
    the call's own metadata; outside a run the call's metadata goes out untouched."""
    with grpc.insecure_channel(metadata_server) as raw:
        channel = intercept_channel(raw, names=True)
        method = channel.unary_unary(f"/{SERVICE}/Metadata", _registered_method=True)
        bare = intercept_channel(raw).unary_unary(f"/{SERVICE}/Metadata")
        own = [("x-tenant", "acme")]
        assert _sent(method(b"", timeout=10, metadata=own)) == {"x-tenant": "acme"}

        @flow("rpc")
        @step
        def call() -> list[bytes]:
            reply, rpc_call = method.with_call(b"", timeout=10, metadata=own)
            assert rpc_call.code() == grpc.StatusCode.OK
            return [
                method(b"", 10, own),  # metadata passed by position
                reply,
                method.future(b"", timeout=10, metadata=own).result(),
                method(b"", timeout=10),
                bare(b"", timeout=10),  # without names: the trace context only
            ]

        with recording() as rec:
            replies = call()
    run = rec.get("call")
    traceparent = f"00-{run.correlation_id}-{run.span_id:016x}-01"
    baggage = f"penstock.trace={run.correlation_id},penstock.step=call,penstock.flow=rpc"
    sent = [_sent(reply) for reply in replies]
    assert [s["traceparent"] for s in sent] == [traceparent] * 5
    assert [s.get("baggage") for s in sent] == [baggage] * 4 + [None]
    assert [s.get("x-tenant") for s in sent] == ["acme", "acme", "acme", None, None]
    assert own == [("x-tenant", "acme")]  # the caller's list is not changed


def test_metadata_helper_without_client_interceptor(server: Server) -> None:
    """metadata() passed by hand carries the run like the client interceptor does."""
    with grpc.insecure_channel(server.target) as raw:
        call = _declare_rpc_steps(
            server,
            lambda: raw.unary_unary(f"/{SERVICE}/Unary")(
                b"x", metadata=metadata([("x-app", "1")], names=True), timeout=10
            ),
        )
        with recording() as rec:
            call()
    [served] = _served(rec)
    assert served.correlation_id == rec.get("call").correlation_id
    assert served.parent_step == "call"
    assert metadata([("x-app", "1")]) == [("x-app", "1")]


def test_link_option_starts_a_linked_run() -> None:
    """With ServerInterceptor(link=True) the server step starts a run linked to the client's."""
    srv = Server([ServerInterceptor(link=True)])
    try:
        with grpc.insecure_channel(srv.target) as raw:
            channel = intercept_channel(raw)
            call = _declare_rpc_steps(srv, lambda: channel.unary_unary(f"/{SERVICE}/Unary")(b"x"))
            with recording() as rec:
                call()
    finally:
        srv.server.stop(None)
    client = rec.get("call")
    [served] = _served(rec)
    assert served.parent is None
    assert served.correlation_id != client.correlation_id
    assert served.linked is not None
    assert served.linked.correlation_id == client.correlation_id


def test_hostile_metadata_never_fails_a_call(server: Server) -> None:
    """Malformed trace metadata sent by a raw client is ignored: the call succeeds, fresh run."""
    _declare_rpc_steps(server, lambda: None)
    hostile = [
        [("traceparent", "00-" + "0" * 32 + "-" + "0" * 16 + "-01")],
        [("traceparent", "00-zz-yy-01")],
        [("traceparent", "x" * 6000)],  # oversized, yet under gRPC's own 8 KiB soft limit
        [("traceparent", "00-" + "a" * 32 + "-" + "b" * 16 + "-01"), ("baggage", "%%%;;==")],
        [("traceparent-bin", b"\xff\x00\xfe")],
        [("tracestate", "," * 1000), ("traceparent", "ff-" + "a" * 32 + "-" + "b" * 16 + "-01")],
    ]
    with grpc.insecure_channel(server.target) as raw, recording() as rec:
        for metadata in hostile:
            assert raw.unary_unary(f"/{SERVICE}/Unary")(b"x", metadata=metadata, timeout=10)
    served = _served(rec)
    assert len(served) == len(hostile)
    # The one well-formed traceparent (with junk baggage) is continued; the rest start fresh.
    assert [r.parent is not None for r in served] == [False, False, False, True, False, False]
    assert served[3].correlation_id == "a" * 32
    assert not served[3].parent_step


# --- grpc.aio ------------------------------------------------------------------------------


def _aio_handlers(serve: Callable[[], Serve]) -> grpc.GenericRpcHandler:
    async def unary(request: bytes, context: Any) -> bytes:
        return serve()(request)

    async def unary_stream(request: bytes, context: Any) -> Any:
        for i in range(2):
            yield serve()(request + str(i).encode())

    async def stream_unary(requests: Any, context: Any) -> bytes:
        return b"|".join([serve()(r) async for r in requests])

    async def stream_stream(requests: Any, context: Any) -> Any:
        async for r in requests:
            yield serve()(r)

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary),
            "UnaryStream": grpc.unary_stream_rpc_method_handler(unary_stream),
            "StreamUnary": grpc.stream_unary_rpc_method_handler(stream_unary),
            "StreamStream": grpc.stream_stream_rpc_method_handler(stream_stream),
        },
    )


async def _aio_call_all(channel: grpc.aio.Channel) -> list[bytes]:
    out = [await channel.unary_unary(f"/{SERVICE}/Unary")(b"a", timeout=10)]
    out += [r async for r in channel.unary_stream(f"/{SERVICE}/UnaryStream")(b"b", timeout=10)]

    async def two(*items: bytes) -> Any:
        for item in items:
            yield item

    out.append(await channel.stream_unary(f"/{SERVICE}/StreamUnary")(two(b"c", b"d"), timeout=10))
    stream = channel.stream_stream(f"/{SERVICE}/StreamStream")(two(b"e", b"f"), timeout=10)
    out += [r async for r in stream]
    return out


@pytest.mark.parametrize("backend", ["recording", "otel"])
async def test_aio_client_and_server_continue_the_run(backend: str, request: Any) -> None:
    """grpc.aio: every server step of the four call types continues the client's run."""
    box: dict[str, Serve] = {}
    server = grpc.aio.server(interceptors=[AioServerInterceptor()])
    server.add_generic_rpc_handlers((_aio_handlers(lambda: box["serve"]),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()

    @flow("rpc")
    @step(after="call")
    def serve(request: bytes) -> bytes:
        return json.dumps([request.decode(), penstock.current_correlation_id()]).encode()

    box["serve"] = serve
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", interceptors=aio_client_interceptors(names=True)
        ) as channel:

            @flow("rpc")
            @step
            async def call() -> list[bytes]:
                return await _aio_call_all(channel)

            if backend == "otel":
                spans = request.getfixturevalue("otel_spans")
                await call()
                finished = spans.get_finished_spans()
                [client] = [s for s in finished if s.name == "rpc.call"]
                served = [s for s in finished if s.name == "rpc.serve"]
                assert len(served) == 7
                assert {s.parent.span_id for s in served} == {client.context.span_id}
                assert {s.context.trace_id for s in served} == {client.context.trace_id}
            else:
                with recording() as rec:
                    responses = await call()
                corr = rec.get("call").correlation_id
                assert {r.correlation_id for r in _served(rec)} == {corr}
                assert {r.parent_step for r in _served(rec)} == {"call"}
                assert len(_served(rec)) == 7
                assert all(corr.encode() in r for r in responses)
    finally:
        await server.stop(None)
