"""Run shapes kept by the runtime for flow coverage, beside the backend; nothing without them."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

import penstock
from penstock import entrypoint, flow, step
from penstock._coverage.tap import CoverageTap
from penstock._runtime import lifecycle
from penstock._runtime.lifecycle import keep_shapes
from penstock._runtime.shapes import BATCH, RunShapes
from penstock.testing import recording


def _declare() -> Any:
    @flow("shapes")
    @entrypoint
    def start() -> None:
        middle()
        last()

    @flow("shapes")
    @step(after="start")
    def middle() -> None:
        pass

    @flow("shapes")
    @step(after="middle")
    def last() -> None:
        pass

    return start


def _named(counts: list[tuple[tuple[Any, ...], int]]) -> list[tuple[tuple[Any, ...], int]]:
    """Shapes with names for StepInfos: ``"start"`` and ``("middle", "start")`` items."""

    def name(item: Any) -> Any:
        if isinstance(item, tuple):
            info, source = item
            return (info.name, None if source is None else source.name)
        return item.name

    return [(tuple(name(i) for i in shape), n) for shape, n in counts]


SHAPE = ("start", ("middle", "start"), ("last", "middle"))


def _kept(run: Any) -> list[tuple[tuple[Any, ...], int]]:
    shapes = RunShapes()
    keep_shapes(shapes)
    try:
        run()
    finally:
        keep_shapes(None)
    return _named(shapes.counts())


def test_the_backend_still_records_while_shapes_are_kept() -> None:
    """With the recorder configured, the shape and the recorder see the same calls."""
    start = _declare()
    with recording() as rec:
        counts = _kept(lambda: [start(), start()])
    assert rec.steps("shapes") == ["start", "middle", "last"] * 2
    assert counts == [(SHAPE, 2)]


@pytest.mark.parametrize("backend", ["noop", "logging"])
def test_shapes_are_kept_on_every_path_of_the_wrappers(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The noop backend's bare path, and a disabled logger's idle one, keep shapes too."""
    start = _declare()
    caplog.set_level(logging.CRITICAL, logger="penstock")
    penstock.configure(backend=backend)

    def generator() -> Any:
        yield 1

    gen_step = flow("shapes_gen")(entrypoint(generator))
    assert _kept(lambda: [start(), list(gen_step())]) == [(SHAPE, 1), (("generator",), 1)]
    assert caplog.records == []


def test_without_shapes_the_noop_backend_keeps_its_bare_path() -> None:
    """Keeping shapes turns the bare path off; stopping gives it back, and nothing is kept."""
    start = _declare()
    penstock.configure(backend="noop")
    start()
    assert lifecycle.ACTIVE is not None
    assert lifecycle.ACTIVE.bare
    shapes = RunShapes()
    keep_shapes(shapes)
    try:
        assert not lifecycle.ACTIVE.bare
        start()
    finally:
        keep_shapes(None)
    assert lifecycle.ACTIVE.bare
    start()
    assert _named(shapes.counts()) == [(SHAPE, 1)]


def test_a_call_whose_caller_started_before_is_a_run_of_its_own() -> None:
    """Shapes kept from inside a run: the calls after that are one run, without the caller."""
    shapes = RunShapes()

    @flow("late")
    @entrypoint
    def outer() -> None:
        keep_shapes(shapes)
        inner()
        inner()

    @flow("late")
    @step(after="outer")
    def inner() -> None:
        pass

    try:
        outer()
    finally:
        keep_shapes(None)
    assert _named(shapes.counts()) == [((("inner", "outer"),), 2)]


def test_a_run_going_at_the_end_counts_as_it_is_and_only_once() -> None:
    """A run counts when its first call ends, in batches; one still going, when asked."""
    shapes = RunShapes()
    waiting, release = threading.Event(), threading.Event()

    @flow("slow")
    @entrypoint
    def slow() -> None:
        early()
        waiting.set()
        release.wait()
        late()

    @flow("slow")
    @step(after="slow")
    def early() -> None:
        pass

    @flow("slow")
    @step(after="early")
    def late() -> None:
        pass

    @flow("slow_quick")
    @entrypoint
    def quick() -> None:
        pass

    keep_shapes(shapes)
    worker = threading.Thread(target=slow)
    try:
        worker.start()
        waiting.wait()
        for _ in range(BATCH + 3):
            quick()
        assert list(shapes.open) != []  # the slow run, going
        first = dict(_named(shapes.counts()))
        assert shapes.open == {}
    finally:
        release.set()
        worker.join()
        keep_shapes(None)
    assert first == {("quick",): BATCH + 3, ("slow", ("early", "slow")): 1}
    assert dict(_named(shapes.counts())) == first  # its end adds nothing


def test_a_nested_tap_gives_the_runs_back_when_it_stops() -> None:
    """A coverage tap started inside another's window takes the runs until it stops."""
    start = _declare()
    outer, inner = CoverageTap(), CoverageTap()
    outer.start()
    try:
        start()
        inner.start()
        start()
        inner.stop()
        start()
    finally:
        outer.stop()
    assert lifecycle.SHAPES is None
    assert outer.hits().runs("shapes") == 2
    assert inner.hits().runs("shapes") == 1


def test_coverage_tap_counts_runs_across_batches_and_open_runs() -> None:
    """Runs are put away in batches; a run still going then keeps what it does afterwards."""

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
