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

# Recorded runs read back and drawn over the flow.
observed: penstock.ObservedFlow = penstock.observe("typed", ["runs/*.jsonl.gz"], since="2026-11-01")
rate: float = observed.steps[0].error_rate
counts: dict[tuple[str, str], int] = {(e.source, e.target): e.count for e in observed.edges}
one_run: penstock.RunReplay = penstock.replay_run("typed", ["runs/app.jsonl"], "4bf92f35")
failed: penstock.ReplayStep | None = one_run.failed_at
drawn: str = penstock.generate_dag("typed", observed=observed)

# Branch conditions, hand-overs between flows, the legend and collapsed drawings.


@flow("typed")
@step(after=receive, when="declined")
def notify(x: int) -> None: ...


@flow("audit", after=penstock.FlowStep("typed", "notify"))
@entrypoint
def record() -> None: ...


links: tuple[penstock.FlowLink, ...] = penstock.flow_links()
with_extras: str = penstock.generate_dag(
    "typed", links=True, flow_url=lambda f: f"#{f}", legend=True, collapse=False
)
key: penstock.LegendKey = penstock.LegendKey("diamond", "one of the labelled arrows is taken")
condition: str | None = graph.edges[0].when
