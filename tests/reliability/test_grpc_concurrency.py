"""gRPC under concurrency: 8 client threads share one channel to a real server whose 4 pooled
threads serve every call; each served step continues exactly its own caller's run."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

import penstock
from penstock import flow, step
from penstock.contrib.grpc import ServerInterceptor, intercept_channel
from penstock.testing import RecordingBackend
from tests.contrib.test_grpc import SERVICE, Server
from tests.reliability.threads import run_in_threads

THREADS = 8
RUNS_PER_THREAD = 100


@pytest.fixture
def server() -> Iterator[Server]:
    """A real sync server (4 worker threads) with penstock's server interceptor."""
    srv = Server([ServerInterceptor()])
    yield srv
    srv.server.stop(None)


@pytest.mark.heavy
def test_pooled_server_threads_never_mix_runs(
    server: Server, penstock_recorder: RecordingBackend
) -> None:
    """800 client runs from 8 threads, 3 served steps each: every one in its caller's run."""

    @flow("rpc")
    @step(after="call")
    def serve(request: bytes) -> bytes:
        return json.dumps([request.decode(), penstock.current_correlation_id()]).encode()

    server.serve = serve
    errors: list[BaseException] = []

    with grpc.insecure_channel(server.target) as raw:
        channel = intercept_channel(raw, names=True)
        unary = channel.unary_unary(f"/{SERVICE}/Unary")
        streams = channel.stream_stream(f"/{SERVICE}/StreamStream")

        @flow("rpc")
        @step
        def call() -> list[Any]:
            mine = (penstock.current_correlation_id() or "").encode()
            replies = [unary(mine, timeout=30), *streams(iter([mine, mine]), timeout=30)]
            return [json.loads(r) for r in replies]

        barrier = threading.Barrier(THREADS)

        def client(_: int) -> None:
            try:
                barrier.wait()
                for _ in range(RUNS_PER_THREAD):
                    for sent, seen in call():
                        assert sent == seen, f"a call of run {sent} was served in run {seen}"
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        run_in_threads(client, THREADS, switch_interval=1e-4)
    assert errors == []
    runs = penstock_recorder.runs()
    assert len(runs) == THREADS * RUNS_PER_THREAD
    for records in runs.values():
        assert Counter(r.step for r in records) == {"call": 1, "serve": 3}
        [caller] = [r for r in records if r.step == "call"]
        for served in (r for r in records if r.step == "serve"):
            assert served.parent is not None
            assert (served.parent_step, served.parent.span_id) == ("call", caller.span_id)
        assert all(r.status == "ok" for r in records)
