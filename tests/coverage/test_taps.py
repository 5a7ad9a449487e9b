"""Runtime taps: observers of every step call beside the backend, and nothing without them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import penstock
from penstock import entrypoint, flow, step
from penstock._runtime import lifecycle
from penstock._runtime.taps import add_tap, remove_tap
from penstock.testing import recording


class Tap:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []

    def on_start(self, *, step: Any) -> None:
        self.started.append(step.step)

    def on_end(self, *, step: Any) -> None:
        self.ended.append(step.step)


def _declare() -> Any:
    @flow("taps")
    @entrypoint
    def start() -> None:
        middle()

    @flow("taps")
    @step(after="start")
    def middle() -> None:
        pass

    return start


def test_a_tap_sees_every_call_and_the_backend_still_records() -> None:
    """With the recorder configured, both the tap and the recorder see the same calls."""
    start = _declare()
    tap = Tap()
    add_tap(tap)
    try:
        with recording() as rec:
            start()
        rec.assert_ran("start", "middle", flow="taps")
    finally:
        remove_tap(tap)
    assert tap.started == ["start", "middle"]
    assert tap.ended == ["middle", "start"]


def test_a_tap_sees_calls_the_backend_does_not_record(caplog: pytest.LogCaptureFixture) -> None:
    """A disabled logger records nothing, but the tap still sees the calls; no log line."""
    start = _declare()
    tap = Tap()
    caplog.set_level(logging.CRITICAL, logger="penstock")
    penstock.configure(backend="logging")
    add_tap(tap)
    try:
        start()
    finally:
        remove_tap(tap)
    assert tap.started == ["start", "middle"]
    assert caplog.records == []


def test_a_failing_tap_never_breaks_the_step(caplog: pytest.LogCaptureFixture) -> None:
    """A tap that raises is logged once; the step and the backend's own hook carry on."""
    start = _declare()

    class Broken(Tap):
        def on_start(self, *, step: Any) -> None:
            raise RuntimeError("tap bug")

    tap = Broken()
    add_tap(tap)
    try:
        with recording() as rec:
            start()
            start()
        assert rec.steps("taps") == ["start", "middle", "start", "middle"]
    finally:
        remove_tap(tap)
    failures = [r for r in caplog.records if "failed in on_start" in r.getMessage()]
    assert len(failures) == 1


def test_without_taps_the_noop_backend_keeps_its_bare_path() -> None:
    """Removing the last tap gives back the Active with no hooks at all."""
    start = _declare()
    penstock.configure(backend="noop")
    start()
    assert lifecycle.ACTIVE is not None
    assert lifecycle.ACTIVE.bare
    tap = Tap()
    add_tap(tap)
    try:
        assert not lifecycle.ACTIVE.bare
        start()
    finally:
        remove_tap(tap)
    assert lifecycle.ACTIVE.bare
    assert tap.started == ["start", "middle"]


def test_coverage_tap_counts_runs_across_batches_and_open_runs() -> None:
    """Runs are put away in batches; a run still going then keeps what it does afterwards."""
    import threading

    from penstock._coverage.tap import BATCH, CoverageTap

    @flow("other")
    @entrypoint
    def ping() -> None:
        pass

    @flow("long")
    @entrypoint
    def outer() -> None:
        first()
        # Meanwhile, more than a batch of other runs start (and finish) in another thread.
        worker = threading.Thread(target=lambda: [ping() for _ in range(BATCH + 5)])
        worker.start()
        worker.join()
        second()

    @flow("long")
    @step(after="outer")
    def first() -> None:
        pass

    @flow("long")
    @step(after="first")
    def second() -> None:
        pass

    tap = CoverageTap()
    tap.start()
    try:
        outer()
    finally:
        tap.stop()
    hits = tap.hits()
    assert hits.runs("other") == BATCH + 5
    assert hits.runs("long") == 1
    assert hits.edges("long") == {("outer", "first"), ("first", "second")}
    assert hits.steps("long") == {"outer", "first", "second"}


def test_runs_of_the_same_steps_in_another_order_are_one_shape() -> None:
    """The coverage tap keys runs by their items in call order; the report does not care."""
    from penstock._coverage.tap import CoverageTap

    @flow("taps_order")
    @entrypoint
    def begin_order(first: str) -> None:
        if first == "a":
            side_a()
            side_b()
        else:
            side_b()
            side_a()
        side_a()  # called again: counted once

    @flow("taps_order")
    @step(after="begin_order")
    def side_a() -> None:
        pass

    @flow("taps_order")
    @step(after="begin_order")
    def side_b() -> None:
        pass

    tap = CoverageTap()
    tap.start()
    try:
        for first in ("a", "b", "a"):
            begin_order(first)
    finally:
        tap.stop()
    shapes = tap.hits().flows["taps_order"]
    steps = frozenset({"begin_order", "side_a", "side_b"})
    edges = frozenset({("begin_order", "side_a"), ("begin_order", "side_b")})
    assert shapes == {(steps, edges): 3}
