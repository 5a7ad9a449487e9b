"""Test helpers: a backend that keeps every step call, and a pytest fixture around it.

Example:
    In a test:

    ```python
    def test_an_unknown_part_stops_at_the_lookup(penstock_recorder):
        with pytest.raises(PartNotFound):
            handle_kafka_message(message_for("PN-404"))
        # Exactly the steps that started, in order.
        penstock_recorder.assert_ran("handle_kafka_message", "sync_reference", flow="bom_sync")
    ```

The ``penstock_recorder`` fixture comes with penstock (a pytest plugin registered under the
``pytest11`` entry point); outside pytest, use ``with penstock.testing.recording() as rec:``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from threading import Lock
from typing import Any

from penstock._runtime.configure import configured
from penstock.backends import BaseBackend, StepRun

__all__ = ["RecordingBackend", "penstock_recorder", "recording"]


class RecordingBackend(BaseBackend):
    """Keep every step call, in the order the calls started.

    Attributes:
        records: the `StepRun` of each call, in start order
            (``status`` is ``"running"`` until it finishes).
        finished: the same objects, in the order the calls finished.
    """

    def __init__(self) -> None:
        self.records: list[StepRun] = []
        self.finished: list[StepRun] = []
        self._lock = Lock()

    def on_start(self, *, step: StepRun, **kwargs: Any) -> None:
        """Keep the call."""
        with self._lock:
            self.records.append(step)

    def on_end(self, *, step: StepRun, **kwargs: Any) -> None:
        """Note that the call finished."""
        with self._lock:
            self.finished.append(step)

    def clear(self) -> None:
        """Forget what was recorded."""
        with self._lock:
            self.records.clear()
            self.finished.clear()

    def steps(self, flow: str | None = None, *, correlation_id: str | None = None) -> list[str]:
        """Names of the steps that started, in order; optionally of one flow or one run."""
        return [
            r.step
            for r in self.records
            if (flow is None or r.flow == flow)
            and (correlation_id is None or r.correlation_id == correlation_id)
        ]

    def runs(self) -> dict[str, list[StepRun]]:
        """The calls grouped by correlation ID, runs in the order they started."""
        grouped: dict[str, list[StepRun]] = {}
        for r in self.records:
            grouped.setdefault(r.correlation_id, []).append(r)
        return grouped

    def get(self, step: str, *, flow: str | None = None) -> StepRun:
        """The first call of ``step``.

        Raises:
            AssertionError: the step never ran (the message lists the steps that did).
        """
        for r in self.records:
            if r.step == step and (flow is None or r.flow == flow):
                return r
        raise AssertionError(f"step {step!r} did not run; steps that ran: {self.steps()}")

    def assert_ran(self, *steps: str, flow: str | None = None) -> None:
        """Assert that exactly these steps started, in this order (of ``flow``, if given).

        Raises:
            AssertionError: showing the expected and the recorded sequences.
        """
        recorded = self.steps(flow)
        if recorded != list(steps):
            where = f" in flow {flow!r}" if flow is not None else ""
            raise AssertionError(
                f"steps that ran{where} differ from the expected ones:\n"
                f"  expected: {list(steps)}\n"
                f"  recorded: {recorded}"
            )

    def __repr__(self) -> str:
        return f"<RecordingBackend {len(self.records)} records>"


@contextmanager
def recording() -> Iterator[RecordingBackend]:
    """Record through a fresh `RecordingBackend` while the block runs.

    Afterwards the backend configured before the block records again, as it was: it is not
    closed nor made anew (a logging handler it installed stays), and a choice still to be made
    at the first run (``"auto"``, ``"otel"``) is still to be made. Blocks nest.
    """
    backend = RecordingBackend()
    with configured(backend):
        yield backend


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is only needed for the fixture
    pass
else:

    @pytest.fixture
    def penstock_recorder() -> Iterator[RecordingBackend]:
        """A `RecordingBackend` that records the test's step calls (reset after)."""
        with recording() as backend:
            yield backend
