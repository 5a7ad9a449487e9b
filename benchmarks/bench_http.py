"""An HTTP request through penstock's ASGI middleware costs at most 5% of the request (issue 26).

One uvicorn server process serves the same FastAPI app twice, on two ports: once as it is
(the baseline) and once wrapped in `penstock.contrib.asgi.PenstockMiddleware`. Its endpoint
calls one ``@entrypoint`` in both, so the rows measure the middleware alone: reading the
request's trace context, continuing the run, and the ``X-Correlation-ID`` response header.
The client is ``httpx.Client`` with a kept-alive connection on 127.0.0.1. Rows:

1. requests that carry a ``traceparent`` and penstock's baggage (a run continued), the same
   headers each time, as a client step calling in a loop sends them;
2. the same, each request sent from a new client step (another parent span id each time), so
   nothing read from one request's headers can serve the next;
3. requests that carry none (the entrypoint starts a fresh run; the header names it).

The trace headers are the ones `penstock.propagation.inject` writes in the calling service.

Both sides use the ``noop`` backend (runs and ids as under any backend, no record written;
``bench_runtime`` measures what a backend costs per step). The two apps are called in strict
alternation; the penstock figure is the baseline's median plus the median difference within
pairs, pooled over several server processes (each process draws its own memory layout).

The server is ``python -m benchmarks.bench_http serve``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.bench_propagation import _interleave
from tests.support.processes import free_port, stop_process

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 1.05
#: Server processes the rows are pooled over.
SERVER_DRAWS = 4

Row = dict[str, object]


def _serve() -> None:
    """The server process: the plain app and the wrapped one, on two free ports."""
    import asyncio

    import uvicorn
    from fastapi import FastAPI

    import penstock
    from penstock import entrypoint, flow
    from penstock.contrib.asgi import PenstockMiddleware

    penstock.configure(backend="noop")

    @flow("bench_http")
    @entrypoint
    def handle(item: str) -> str:
        return item

    def app() -> FastAPI:
        made = FastAPI()

        @made.get("/item")
        async def item() -> dict[str, str]:
            return {"item": handle("x")}

        return made

    plain, wrapped = app(), app()
    wrapped.add_middleware(PenstockMiddleware)
    ports = (free_port(), free_port())
    servers = [
        uvicorn.Server(uvicorn.Config(a, host="127.0.0.1", port=p, log_level="error"))
        for a, p in zip((plain, wrapped), ports, strict=True)
    ]

    async def main() -> None:
        tasks = [asyncio.ensure_future(s.serve()) for s in servers]
        while not all(s.started for s in servers):
            await asyncio.sleep(0.01)
        print(*ports, flush=True)
        await asyncio.gather(*tasks)

    asyncio.run(main())


@contextmanager
def _server_process() -> Iterator[tuple[int, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_http", "serve"], stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        plain, wrapped = (int(p) for p in proc.stdout.readline().split())
        yield plain, wrapped
    finally:
        stop_process(proc)


def _row(name: str, pairs: list[tuple[list[float], list[float]]], note: str) -> Row:
    base = [statistics.median(b) for b, _ in pairs]
    extra = [statistics.median(o - b for b, o in zip(b, o, strict=True)) for b, o in pairs]
    median_base = statistics.median(base)
    traced = median_base + statistics.median(extra)
    ratios = sorted((b + e) / b for b, e in zip(base, extra, strict=True))
    ratio = traced / median_base
    return {
        "benchmark": name,
        "baseline": "the same FastAPI app without the middleware",
        "baseline_us": round(median_base, 1),
        "penstock_us": round(traced, 1),
        "ratio": round(ratio, 3),
        "limit": LIMIT,
        "ok": ratio <= LIMIT,
        "note": f"{note}; per server process {ratios[0]:.3f}-{ratios[-1]:.3f}",
    }


def _sent_by_steps(count: int) -> list[dict[str, str]]:
    """The headers ``inject`` writes in ``count`` calling steps of one run (``shop.checkout``)."""
    import random

    from penstock.propagation import continue_remote, inject

    trace_id = random.getrandbits(128) | 1
    sent = []
    for span_id in random.sample(range(1, 2**63), count):
        headers: dict[str, str] = {}
        with continue_remote(trace_id, span_id, parent_step="checkout", parent_flow="shop"):
            inject(headers)
        sent.append(headers)
    return sent


def run(quick: bool = False) -> list[Row]:
    """Both rows, pooled over ``SERVER_DRAWS`` server processes."""
    import httpx

    rounds = 300 if quick else 2000
    # One header set per round and more (the warm-up), each from its own calling step.
    sent = _sent_by_steps(rounds + 50)
    continued: list[tuple[list[float], list[float]]] = []
    new_steps: list[tuple[list[float], list[float]]] = []
    fresh: list[tuple[list[float], list[float]]] = []
    for _ in range(2 if quick else SERVER_DRAWS):
        with _server_process() as (plain, wrapped), httpx.Client() as client:

            def get(port: int, sent: dict[str, str]) -> Callable[[], Any]:
                url = f"http://127.0.0.1:{port}/item"
                return lambda: client.get(url, headers=sent)

            def get_each(port: int, sent: list[dict[str, str]]) -> Callable[[], Any]:
                # Both sides take the next header set of the same list: a pair sends the same.
                url = f"http://127.0.0.1:{port}/item"
                following = iter(sent).__next__
                return lambda: client.get(url, headers=following())

            base, traced = _interleave([get(plain, sent[0]), get(wrapped, sent[0])], rounds)
            continued.append((base, traced))
            base, traced = _interleave([get_each(plain, sent), get_each(wrapped, sent)], rounds)
            new_steps.append((base, traced))
            base, traced = _interleave([get(plain, {}), get(wrapped, {})], rounds)
            fresh.append((base, traced))
    return [
        _row(
            "ASGI request (uvicorn + httpx), PenstockMiddleware, continuing a run",
            continued,
            "traceparent and baggage read, the run continued, X-Correlation-ID sent",
        ),
        _row(
            "ASGI request (uvicorn + httpx), PenstockMiddleware, continuing, a new step per call",
            new_steps,
            "as above, each request from another calling step (parent span id)",
        ),
        _row(
            "ASGI request (uvicorn + httpx), PenstockMiddleware, no incoming context",
            fresh,
            "a fresh run started by the entrypoint, X-Correlation-ID sent",
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve()
    else:
        for row in run(quick="--quick" in sys.argv):
            print(row)
