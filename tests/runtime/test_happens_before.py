"""The happens-before rule at run time: sequential fan-out siblings are no drift."""

from __future__ import annotations

import io
import json
import logging

import pytest

import penstock
from penstock import entrypoint, flow, step
from penstock._runtime.rule import edge_source
from penstock.testing import RecordingBackend


def _declare_orders() -> object:
    @flow("orders")
    @entrypoint
    def place_order() -> None:
        confirm_order()
        release_stock()
        publish_order_placed()
        notify_customer()

    @flow("orders")
    @step(after="place_order")
    def confirm_order() -> None:
        pass

    @flow("orders")
    @step(after="place_order")
    def release_stock() -> None:
        pass

    @flow("orders")
    @step(after="confirm_order")
    def publish_order_placed() -> None:
        pass

    @flow("orders")
    @step(after=["confirm_order", "release_stock"])
    def notify_customer() -> None:
        pass

    return place_order


def test_sequential_fan_out_is_no_drift(
    penstock_recorder: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """Siblings run one after the other take the edges from the earlier declared sibling."""
    place_order = _declare_orders()
    caplog.set_level(logging.WARNING, "penstock")
    place_order()  # type: ignore[operator]
    assert "drifted" not in caplog.text
    assert penstock.observed_edges("orders") == [
        ("confirm_order", "publish_order_placed"),
        ("place_order", "confirm_order"),
        ("place_order", "release_stock"),
        ("release_stock", "notify_customer"),
    ]
    edges = {r.step: r.edge_from for r in penstock_recorder.records}
    assert edges == {
        "place_order": None,
        "confirm_order": "place_order",
        "release_stock": "place_order",
        "publish_order_placed": "confirm_order",
        # The most recent of its declared predecessors that completed before it.
        "notify_customer": "release_stock",
    }


def test_enclosing_caller_further_up_takes_the_edge(penstock_recorder: RecordingBackend) -> None:
    """A step declared after a step that encloses its caller takes that edge."""

    @flow("nest")
    @entrypoint
    def outer() -> None:
        middle()

    @flow("nest")
    @step(after="outer")
    def middle() -> None:
        leaf()

    @flow("nest")
    @step(after="outer")
    def leaf() -> None:
        pass

    outer()
    assert {r.step: r.edge_from for r in penstock_recorder.records}["leaf"] == "outer"
    assert ("outer", "leaf") in penstock.observed_edges("nest")


def test_called_although_declared_after_another_is_still_drift(
    penstock_recorder: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """receipt() calling audit(), declared after charge, is reported with both file:lines."""

    @flow("pay")
    @entrypoint
    def checkout() -> None:
        receipt()
        charge()

    @flow("pay")
    @step(after="checkout")
    def receipt() -> None:
        audit()

    @flow("pay")
    @step(after="checkout")
    def charge() -> None:
        pass

    @flow("pay")
    @step(after="charge")
    def audit() -> None:
        pass

    caplog.set_level(logging.WARNING, "penstock")
    checkout()
    drifts = [r for r in caplog.records if getattr(r, "penstock_drift", False)]
    assert len(drifts) == 1
    message = drifts[0].getMessage()
    assert "'receipt'" in message
    assert "called 'audit'" in message
    assert message.count("test_happens_before.py:") == 2
    assert ("receipt", "audit") in penstock.observed_edges("pay")
    assert {r.step: r.edge_from for r in penstock_recorder.records}["audit"] == "receipt"


def test_drift_warning_follows_json_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """With PENSTOCK_OUTPUT=json and no logging configured, drift is a JSON line too."""
    monkeypatch.setenv("PENSTOCK_OUTPUT", "json")
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    penstock.configure("logging")
    logger = logging.getLogger("penstock")
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "handlers", [])

    @flow("drifty")
    @entrypoint
    def start() -> None:
        first()
        second()

    @flow("drifty")
    @step(after="start")
    def first() -> None:
        pass

    @flow("drifty")
    def second() -> None:
        pass

    try:
        start()
    finally:
        penstock.reset()
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is JSON
    assert any("drifted" in p["message"] for p in parsed)


def test_drift_warning_silent_under_configured_output_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """configure(output="off") silences drift warnings as PENSTOCK_OUTPUT=off does."""
    monkeypatch.delenv("PENSTOCK_OUTPUT", raising=False)
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    penstock.configure("logging", output="off")
    logger = logging.getLogger("penstock")
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logging, "lastResort", logging.StreamHandler(stream))

    @flow("quiet")
    @entrypoint
    def start() -> None:
        stray()

    @flow("quiet")
    def stray() -> None:
        pass

    try:
        start()
    finally:
        penstock.reset()
    # Step records may reach Python's last resort (the application configured no logging and
    # an earlier test may have lowered the logger's level); the drift warning never does.
    out = stream.getvalue()
    assert "ran before" not in out
    assert "'stray'" not in out
    assert "quiet.stray ok" in out or out == ""


@pytest.mark.parametrize(
    ("declared", "completed", "enclosing", "expected"),
    [
        ({"a"}, ["c", "a"], ["e"], ("a", True)),
        ({"a", "c"}, ["c", "a"], ["e"], ("c", True)),
        ({"e"}, ["c"], ["x", "e"], ("e", True)),
        (set(), ["c"], ["e"], ("c", False)),
        (set(), [], ["e"], ("e", False)),
        (set(), [], [], (None, False)),
        (set(), [], ["b"], (None, False)),  # recursion
        ({"a"}, ["b", "a"], ["e"], ("a", True)),
    ],
)
def test_rule_function(
    declared: set[str],
    completed: list[str],
    enclosing: list[str],
    expected: tuple[str | None, bool],
) -> None:
    """The rule itself, over names (the one every reader and the runtime use)."""
    assert edge_source("b", declared, completed, enclosing) == expected
