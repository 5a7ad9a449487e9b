"""A backend that counts finished calls per step and status, and a flow to try it on."""

from __future__ import annotations

from collections import Counter
from threading import Lock
from typing import Any

import penstock
from penstock import entrypoint, flow, step
from penstock.backends import BaseBackend, StepRun


# --8<-- [start:backend]
class CallCounter(BaseBackend):
    """Count finished calls per (flow, step, status)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()
        # Hooks run in whatever thread calls the step.
        self._lock = Lock()

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        with self._lock:
            self.counts[(step.flow or "-", step.step, step.status)] += 1

    def report(self) -> str:
        lines = []
        for (flow_name, step_name, status), n in sorted(self.counts.items()):
            lines.append(f"{flow_name}.{step_name} {status}: {n}")
        return "\n".join(lines)


# --8<-- [end:backend]


# --8<-- [start:flow]
@flow("checkout")
@entrypoint
def place_order(items: list[str]) -> int:
    reserved = 0
    for item in items:
        try:
            reserve(item)
            reserved += 1
        except LookupError:
            pass
    charge(reserved)
    return reserved


@flow("checkout")
@step(after="place_order")
def reserve(item: str) -> None:
    if item == "unicorn":
        raise LookupError(f"no {item} in stock")


@flow("checkout")
@step(after="reserve")
def charge(count: int) -> None:
    pass


# --8<-- [end:flow]


if __name__ == "__main__":
    # --8<-- [start:run]
    counter = CallCounter()
    penstock.configure(backend=counter)
    place_order(["book", "unicorn", "lamp"])
    place_order(["pen"])
    print(counter.report())
    # --8<-- [end:run]
