"""Carrying a run across processes costs at most 5% of the call that carries it (issue 5).

Targets, each measured against the same call without penstock, in one run, on loopback:

- a Celery round trip (``send_task`` then ``result.get()``) through a real Redis and one real
  ``celery worker --pool=solo`` that has two tasks with the same body: a plain Celery task
  (the baseline, sent outside any run with penstock's signal handlers disconnected) and a
  ``flow_task`` step (sent from inside a run with the handlers connected: the context is
  injected into the headers, extracted in the worker and continued around the task);
- a gRPC unary call to real servers in another process on 127.0.0.1 (registered method
  handlers, a few bytes each way), made inside a run, with penstock's defaults (the W3C trace
  context, no step names). Rows:

  1. penstock's fastest path: the client passes ``metadata=metadata()`` and the server
     registers ``wrap_handler(method_handler)``; the baseline is a plain method of the same
     service, called through the same channel. All calls come from one client step, as in a
     loop over items (the client reuses its headers);
  2. the same, each call made from a new client step (new span id): nothing can be reused;
  3. and 4. the least code to change: :func:`~penstock.contrib.grpc.intercept_channel` on the
     client, and the service registered through ``wrap_server(server)``, from one step and
     from a new step per call. Rows 1 to 4 call methods of one server through one channel,
     their baseline a plain method of the same server: server instances differ by tens of us
     among themselves, by chance;
  5. ``ClientInterceptor`` in gRPC's own ``grpc.intercept_channel`` and ``ServerInterceptor``
     against do-nothing interceptors that send and read the same metadata: penstock's share
     of gRPC's interceptor path, whose own machinery costs more than that.

  All rows are pooled over several server processes, in each of which the rows take turns
  in slices of rounds.

Both sides use the ``noop`` backend: runs, ids and propagation work as under any backend, but
no record is written, so the figures are the cost of carrying the run (what a backend costs
per step is measured by ``bench_runtime``). Round trips are dominated by I/O and scheduling
noise: the two setups are called in strict alternation, and the penstock figure is the
baseline's median plus the median difference within pairs.

The Celery worker is this module itself (``celery -A benchmarks.bench_propagation:app`` with
``PENSTOCK_BENCH_WORKER`` set); the gRPC servers are ``python -m benchmarks.bench_propagation
grpc-servers``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.processes import stop_process

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 1.05
PLAIN_TASK = "bench.plain"
TRACED_TASK = "bench.traced"

Row = dict[str, object]


# --- the worker side (only when run by `celery -A benchmarks.bench_propagation:app`) --------


def _worker_app() -> Any:
    """One worker, two tasks: a plain Celery task and the same body as a penstock flow_task."""
    from celery import Celery

    import penstock
    from penstock.contrib.celery import flow_task

    celery_app = Celery(
        "bench",
        broker=os.environ["PENSTOCK_BENCH_BROKER"],
        backend=os.environ["PENSTOCK_BENCH_BACKEND"],
    )
    celery_app.conf.update(broker_connection_retry_on_startup=False)
    penstock.configure(backend="noop")

    @celery_app.task(name=PLAIN_TASK)
    def plain(x: Any) -> Any:
        return x

    @penstock.flow("bench")
    @flow_task(app=celery_app, name=TRACED_TASK)
    def traced(x: Any) -> Any:
        return x

    return celery_app


if os.environ.get("PENSTOCK_BENCH_WORKER"):
    app = _worker_app()


# --- processes -----------------------------------------------------------------------------


@contextmanager
def _redis_and_worker(folder: Path) -> Iterator[tuple[str, str]]:
    """A real redis-server and a real ``celery worker`` of this module's app (the test
    suite's process helpers): yields the Redis URL and the worker's queue."""
    from tests.support.redis_celery import CeleryWorker, RedisServer

    redis = RedisServer(folder).start()
    try:
        worker = CeleryWorker(
            "benchmarks.bench_propagation:app",
            folder / "worker.log",
            {
                "PENSTOCK_BENCH_WORKER": "1",
                "PENSTOCK_BENCH_BROKER": redis.url(0),
                "PENSTOCK_BENCH_BACKEND": redis.url(1),
            },
            queue="bench",
        ).start()
        try:
            yield f"redis://127.0.0.1:{redis.port}", "bench"
        finally:
            worker.stop()
    finally:
        redis.stop()


# --- measuring -----------------------------------------------------------------------------


def _alternate(
    plain: Callable[[], object],
    traced: Callable[[], object],
    pairs: int,
    setup: Callable[[bool], None] | None = None,
) -> tuple[float, float]:
    """Per-call us of ``plain`` and ``traced``, called in strict alternation.

    Returns the median of ``plain`` and that median plus the median of the pairwise
    differences: on a loaded machine neighbouring calls share the load, so differences within
    a pair are steadier than two separate medians.
    """
    times: tuple[list[float], list[float]] = ([], [])
    calls = (plain, traced)
    for index in (0, 1, 0, 1) * 10:  # warm up connections, imports and caches
        if setup is not None:
            setup(index == 1)
        calls[index]()
    for _ in range(pairs):
        for index in (0, 1):
            if setup is not None:
                setup(index == 1)
            fn = calls[index]
            start = time.perf_counter_ns()
            fn()
            times[index].append((time.perf_counter_ns() - start) / 1000.0)
    base = statistics.median(times[0])
    extra = statistics.median(t - p for p, t in zip(times[0], times[1], strict=True))
    return base, base + extra


def _row(name: str, baseline: str, base: float, traced: float, note: str) -> Row:
    ratio = traced / base
    return {
        "benchmark": name,
        "baseline": baseline,
        "baseline_us": round(base, 1),
        "penstock_us": round(traced, 1),
        "ratio": round(ratio, 3),
        "limit": LIMIT,
        "ok": ratio <= LIMIT,
        "note": note,
    }


@contextmanager
def _in_a_run() -> Iterator[None]:
    """The sender's side runs inside one penstock step (entered once, outside the timing)."""
    import penstock
    from penstock.propagation import continue_remote

    penstock.configure(backend="noop")
    with continue_remote(0x1234, 0x5678, parent_step="bench"):
        yield
    penstock.reset()


def celery_round_trip(pairs: int) -> Row:
    """Median ``send_task(...).get()`` time: plain task vs the same body as a flow_task."""
    if shutil.which("redis-server") is None:
        return _skipped("celery round trip", "redis-server is not installed")
    from celery import Celery

    from penstock.contrib import celery as penstock_celery

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with _redis_and_worker(folder) as (url, queue):
            sender = Celery("bench-sender", broker=f"{url}/0", backend=f"{url}/1")

            def plain() -> object:
                return sender.send_task(PLAIN_TASK, (1,), queue=queue).get(timeout=10)

            def traced() -> object:
                return sender.send_task(TRACED_TASK, (1,), queue=queue).get(timeout=10)

            def setup(with_penstock: bool) -> None:
                if with_penstock:
                    penstock_celery.install()
                else:
                    penstock_celery.uninstall()

            try:
                with _in_a_run():
                    base, with_penstock = _alternate(plain, traced, pairs, setup=setup)
            finally:
                penstock_celery.uninstall()
    return _row(
        "celery round trip (send_task + get)",
        "plain task, sender without penstock",
        base,
        with_penstock,
        "one real worker (--pool=solo) runs both tasks; real redis-server; medians",
    )


def _grpc_servers() -> None:
    """Serve three echo servers and print their ports.

    The first has no interceptors. Its methods are found by exact name, as generated code
    registers them (``add_registered_method_handlers``): ``bench.Echo/Echo`` plain,
    ``bench.Echo/Traced`` wrapped by wrap_handler, and ``bench.Served/Echo`` registered through
    wrap_server. The second has penstock's ServerInterceptor, the third a do-nothing
    interceptor that reads the metadata; both serve ``bench.Echo/Echo`` plain.
    """
    import grpc

    import penstock
    from penstock.contrib.grpc import ServerInterceptor, wrap_handler, wrap_server

    penstock.configure(backend="noop")

    def echo(request: bytes, context: Any) -> bytes:
        return request

    class ReadMetadata(grpc.ServerInterceptor):  # type: ignore[misc]
        """The baseline of the propagation-only row: grpc's interceptor path, no penstock."""

        def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
            dict(handler_call_details.invocation_metadata or ())
            return continuation(handler_call_details)

    plain = grpc.unary_unary_rpc_method_handler(echo)
    servers = []
    for interceptors in ([], [ServerInterceptor()], [ReadMetadata()]):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), interceptors=interceptors)
        if interceptors:
            server.add_registered_method_handlers("bench.Echo", {"Echo": plain})
        else:
            handlers = {"Echo": plain, "Traced": wrap_handler(plain)}
            server.add_registered_method_handlers("bench.Echo", handlers)
            wrap_server(server).add_registered_method_handlers("bench.Served", {"Echo": plain})
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        print(port, flush=True)
    servers[0].wait_for_termination()


def _interleave(calls: list[Callable[[], object]], rounds: int) -> list[list[float]]:
    """Per-call us of each of ``calls``, called in turn, round after round."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(20):  # warm up connections, imports and caches
        for fn in calls:
            fn()
    for _ in range(rounds):
        for fn, out in zip(calls, times, strict=True):
            start = time.perf_counter_ns()
            fn()
            out.append((time.perf_counter_ns() - start) / 1000.0)
    return times


def _paired(base: list[float], other: list[float]) -> tuple[float, float]:
    """``base``'s median, and that plus the median difference of ``other`` within rounds."""
    median = statistics.median(base)
    return median, median + statistics.median(o - b for b, o in zip(base, other, strict=True))


def _from_new_step(call: Callable[[], object]) -> Callable[[], object]:
    """``call`` made inside a new remote parent each time (entering it is timed on both sides
    of the pair, so it cancels out)."""
    import random

    from penstock.propagation import continue_remote

    def called() -> object:
        trace_id, span_id = random.getrandbits(128) | 1, random.getrandbits(64) | 1
        with continue_remote(trace_id, span_id, parent_step="bench"):
            return call()

    return called


def _ping(
    method: Callable[..., object], make_metadata: Callable[[], Any] | None = None
) -> Callable[[], object]:
    """A unary call of ``method`` (with ``make_metadata()`` made anew for each call)."""
    if make_metadata is None:
        return lambda: method(b"ping", timeout=10)
    return lambda: method(b"ping", timeout=10, metadata=make_metadata())


@contextmanager
def _grpc_server_process() -> Iterator[list[Any]]:
    """One process of echo servers (see ``_grpc_servers``): a channel to each."""
    import grpc

    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_propagation", "grpc-servers"],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        ports = [int(proc.stdout.readline()) for _ in range(3)]
        channels = [grpc.insecure_channel(f"127.0.0.1:{port}") for port in ports]
        try:
            yield channels
        finally:
            for channel in channels:
                channel.close()
    finally:
        stop_process(proc)


#: Server processes the gRPC rows are pooled over: the same code costs a few us more or less
#: from one process to the next (where things land in memory), and each process draws anew.
SERVER_DRAWS = 8
#: Turns each row takes in every server process.
SLICES = 8


def grpc_unary(rounds: int) -> list[Row]:
    """Median unary call times: plain, penstock's fast path, its interceptors, null ones."""
    import grpc

    from penstock.contrib.grpc import ClientInterceptor, intercept_channel, metadata
    from penstock.contrib.grpc._client import _CallDetails

    fixed = [("traceparent", "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01")]  # what penstock sends

    class AddFixedMetadata(ClientInterceptor):
        """grpc's interceptor path sending the same metadata penstock sends, without penstock."""

        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            new = _CallDetails(
                details.method,
                details.timeout,
                [*(details.metadata or ()), *fixed],
                details.credentials,
                details.wait_for_ready,
                getattr(details, "compression", None),
            )
            return continuation(new, request)

    def pooled(pairs: list[tuple[list[float], list[float]]]) -> tuple[float, float]:
        base = [t for b, _ in pairs for t in b]
        other = [t for _, o in pairs for t in o]
        return _paired(base, other)

    rows: dict[str, list[tuple[list[float], list[float]]]] = {
        name: [] for name in ("fast", "fresh", "slow", "slow_fresh", "share")
    }
    part = rounds // (SERVER_DRAWS * SLICES)
    for _ in range(SERVER_DRAWS):
        with _grpc_server_process() as channels, _in_a_run():
            # Every penstock setup but the interceptors' is a method of the first server, its
            # baseline a plain method of the same server, called through the same channel:
            # server instances differ by tens of us among themselves.
            plain = channels[0].unary_unary("/bench.Echo/Echo")
            wrapped = channels[0].unary_unary("/bench.Echo/Traced")
            carried = intercept_channel(channels[0]).unary_unary("/bench.Served/Echo")
            chained = grpc.intercept_channel(channels[1], ClientInterceptor()).unary_unary(
                "/bench.Echo/Echo"
            )
            null = grpc.intercept_channel(channels[2], AddFixedMetadata()).unary_unary(
                "/bench.Echo/Echo"
            )
            # Pairs, not rounds of four: a call's time depends on the call before it. Each
            # call from a new parent step: nothing is reused on either side.
            pairs = {
                "fast": [_ping(plain), _ping(wrapped, metadata)],
                "fresh": [_from_new_step(_ping(plain)), _from_new_step(_ping(wrapped, metadata))],
                "slow": [_ping(plain), _ping(carried)],
                "slow_fresh": [_from_new_step(_ping(plain)), _from_new_step(_ping(carried))],
                "share": [_ping(null), _ping(chained)],
            }
            # The rows take turns in slices: a row measured only after the others would
            # meet another machine (its baselines differed by 60 us from the others', which
            # moved its ratio by 0.006 for the same difference).
            for _ in range(SLICES):
                for name, calls in pairs.items():
                    rows[name].append(_interleave(calls, part))
    fast, fresh, slow, slow_fresh, share = (pooled(rows[name]) for name in rows)
    where = (
        f"real grpc servers in another process on 127.0.0.1; medians of paired rounds, pooled"
        f" over {SERVER_DRAWS} server processes; the W3C trace context only (names=False)"
    )
    return [
        _row(
            "grpc unary call: metadata() + wrap_handler",
            "same call, no penstock",
            *fast,
            f"{where}; client passes metadata=metadata(), server registers"
            " wrap_handler(method handler): no interceptors; calls from one step",
        ),
        _row(
            "grpc unary call: metadata() + wrap_handler, a new parent step per call",
            "same call, no penstock, also from a new step",
            *fresh,
            "as above, but each call is made from a new client step (new span id): the"
            " client cannot reuse its headers",
        ),
        _row(
            "grpc unary call: intercept_channel + wrap_server",
            "same call, no penstock",
            *slow,
            f"{where}; the service registered through wrap_server(server); calls from one step",
        ),
        _row(
            "grpc unary call: intercept_channel + wrap_server, a new parent step per call",
            "same call, no penstock, also from a new step",
            *slow_fresh,
            "as above, each call from a new client step",
        ),
        _row(
            "grpc unary call: ClientInterceptor in grpc.intercept_channel + ServerInterceptor",
            "do-nothing interceptors sending/reading the same metadata",
            *share,
            "penstock's share of gRPC's interceptor path: inject + extract + continuing the"
            " run; gRPC's client interceptor machinery itself costs more than that",
        ),
    ]


def _skipped(name: str, why: str) -> Row:
    return {
        "benchmark": name,
        "baseline": "-",
        "baseline_us": float("nan"),
        "penstock_us": float("nan"),
        "ratio": float("nan"),
        "limit": LIMIT,
        "ok": False,
        "note": why,
    }


def run(quick: bool = False) -> list[Row]:
    """Both round trips, with and without penstock."""
    return [celery_round_trip(200 if quick else 1000), *grpc_unary(800 if quick else 6400)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["grpc-servers"]:
        _grpc_servers()
    else:
        for row in run(quick="--quick" in sys.argv):
            print(row)
