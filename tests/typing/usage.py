"""Documented usage that mypy --strict must accept (run by `make test` via mypy's files)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import penstock
from penstock import entrypoint, flow, step


@flow("typed")
@entrypoint
def receive(payload: bytes, *, strict: bool = False) -> int:
    return len(payload) if strict else 0


@flow("typed")
@step(after=receive)
async def enrich(n: int) -> str:
    return str(n)


@flow("typed")
@step(after=["enrich"], name="fan out", description="Yield parts")
def fan_out(n: int) -> Iterator[int]:
    yield from range(n)


@flow("typed")
@step(after="fan out")
async def stream(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


class Handler:
    @flow("typed")
    @step(after=receive)
    def method(self, x: int) -> int:
        return x


# The decorated functions keep their signatures for the type checker.
count: int = receive(b"abc", strict=True)
parts: Iterator[int] = fan_out(3)
value: int = Handler().method(1)
graph: penstock.FlowGraph = penstock.get_flow("typed")
text: str = penstock.generate_dag("typed", format="dot", direction="LR")
problems: list[penstock.Problem] = penstock.check()
