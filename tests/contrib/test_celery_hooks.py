"""penstock.contrib.celery without a worker: declaring tasks, installing the signal handlers,
and handlers that never raise into Celery (fuzzed with hostile headers)."""

from __future__ import annotations

import contextvars
from typing import Any

import pytest
from celery import Celery, signals
from celery.app.task import Context
from hypothesis import given, settings
from hypothesis import strategies as st

import penstock
from penstock import DefinitionError, flow, step
from penstock.contrib import celery as pc
from penstock.propagation import current_ids
from penstock.testing import recording


def _receivers(signal: Any, uid: str) -> int:
    """How many receivers ``signal`` has under the dispatch uid ``uid``."""
    return sum(1 for key, _receiver in signal.receivers if key[0] == uid)


@pytest.fixture
def app() -> Any:
    """A fresh, lazily configured Celery app (never connects to a broker here)."""
    return Celery("penstock_hooks_test", broker="memory://", set_as_current=False)


def test_install_and_uninstall_are_idempotent_and_symmetric() -> None:
    """install() twice connects each handler once; uninstall() removes them all."""
    was_installed = pc.installed()
    try:
        pc.install()
        pc.install()
        counts = [
            _receivers(signals.before_task_publish, pc._PUBLISH_UID),
            _receivers(signals.task_prerun, pc._PRERUN_UID),
            _receivers(signals.task_postrun, pc._POSTRUN_UID),
        ]
        assert counts == [1, 1, 1]
        assert pc.installed()
        pc.uninstall()
        pc.uninstall()
        assert not pc.installed()
        assert _receivers(signals.before_task_publish, pc._PUBLISH_UID) == 0
        assert _receivers(signals.task_prerun, pc._PRERUN_UID) == 0
    finally:
        if was_installed:
            pc.install()


def test_flow_task_declares_a_celery_step_without_creating_the_task(app: Any) -> None:
    """@flow over @flow_task: a step with transport celery; the app is not finalized."""

    @flow("celery_hooks")
    @step
    def publish() -> None: ...

    @flow("celery_hooks")
    @pc.flow_task(after=publish, app=app, shared=False, max_retries=5)
    def consume(items: list[int]) -> int:
        """Count the items."""
        return len(items)

    assert not app.finalized
    assert isinstance(consume, pc.FlowTask)
    assert consume.__name__ == "consume"
    assert consume.__doc__ == "Count the items."
    node = penstock.get_flow("celery_hooks").step("consume")
    assert node.as_dict()["transport"] == "celery"
    assert penstock.get_flow("celery_hooks").predecessors("consume") == ("publish",)
    # Forwarded to the Celery task (created now, on first use, as Celery itself does).
    assert consume.max_retries == 5
    assert consume.name.endswith(".consume")
    assert consume.task.name == consume.name
    assert pc.installed()


def test_flow_task_bare_and_shared(app: Any) -> None:
    """Bare @flow_task uses shared_task and does not finalize the current app either."""
    from celery import current_app

    previous = current_app._get_current_object()
    app.set_current()
    try:

        @flow("celery_hooks")
        @pc.flow_task
        def shared(x: int) -> int:
            return x

        assert not app.finalized
    finally:
        previous.set_current()
    assert penstock.get_flow("celery_hooks").step("shared").as_dict()["transport"] == "celery"


def test_flow_task_must_be_the_innermost_penstock_decorator() -> None:
    """@flow_task over @step is refused with the function's location."""
    with pytest.raises(DefinitionError, match=r"test_celery_hooks.py:\d+: put @flow_task directly"):

        @pc.flow_task
        @step
        def wrong() -> None: ...


def test_eager_calls_run_inside_the_caller_run(app: Any) -> None:
    """In eager mode (no broker) the task is simply the calling step's child."""
    app.conf.task_always_eager = True

    @flow("celery_hooks")
    @pc.flow_task(app=app, shared=False)
    def consume() -> str | None:
        return penstock.current_correlation_id()

    @flow("celery_hooks")
    @step
    def publish() -> Any:
        return consume.delay().get()

    with recording() as rec:
        corr = publish()
    assert corr == rec.get("publish").correlation_id
    assert rec.get("consume").parent_step == "publish"


def test_publish_hook_writes_headers_only_inside_a_run() -> None:
    """before_task_publish adds traceparent inside a run, nothing outside, and never raises."""
    outside: dict[str, Any] = {"task": "x", "id": "1"}
    pc._before_task_publish(headers=outside)
    assert outside == {"task": "x", "id": "1"}
    pc._before_task_publish(headers=None)
    pc._before_task_publish(headers=["not", "a", "dict"])

    @flow("celery_hooks")
    @step
    def publish() -> dict[str, Any]:
        headers: dict[str, Any] = {"task": "x", "id": "1"}
        pc._before_task_publish(headers=headers)
        return headers

    with recording() as rec:
        headers = publish()
    assert headers["traceparent"].split("-")[1] == rec.get("publish").correlation_id
    assert headers["task"] == "x"


class _Task:
    """Shaped like a Celery task as the signal gives it: a name and a real request Context."""

    def __init__(self, request: Any) -> None:
        self.request = request


hostile_values = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60),
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.just("00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"),
)
hostile_headers = st.dictionaries(
    st.sampled_from(["traceparent", "tracestate", "baggage", "headers", "id", "task"]),
    hostile_values,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(
    headers=hostile_headers,
    as_attributes=st.booleans(),
    task_id=st.one_of(st.text(max_size=8), st.none(), st.integers()),
)
def test_hostile_celery_headers_never_break_the_hooks(
    headers: dict[str, Any], as_attributes: bool, task_id: Any
) -> None:
    """prerun/postrun with junk headers on a real request Context never raise or leak a run."""
    attrs = {k: v for k, v in headers.items() if k not in ("headers", "id", "task")}
    request = Context(attrs if as_attributes else {}, headers=headers)
    task = _Task(request)
    pc._task_prerun(task_id=task_id, task=task)
    started = current_ids()
    pc._task_postrun(task_id=task_id, task=task)
    assert current_ids() is None
    if started is not None:  # the remote parent's ids, valid W3C ids
        trace_id, span_id = started
        assert 0 < trace_id < 1 << 128
        assert 0 < span_id < 1 << 64


def test_prerun_hook_tolerates_broken_tasks() -> None:
    """A task object without a request, or whose request raises, is left alone."""

    class Exploding:
        @property
        def request(self) -> Any:
            raise RuntimeError("no request")

    pc._task_prerun(task_id="1", task=object())
    pc._task_prerun(task_id="1", task=Exploding())
    pc._task_postrun(task_id="1")
    pc._task_postrun(task_id=None)
    assert current_ids() is None


def test_running_tasks_are_never_dropped_and_finished_ones_leave_nothing() -> None:
    """State is kept per task id on the task: 12,000 calls running at once all end their run."""
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    tasks = [_Task(Context({"traceparent": traceparent})) for _ in range(3)]
    calls = [(f"id-{i}", tasks[i % 3], contextvars.copy_context()) for i in range(12_000)]
    # More calls running at once (each in its own context, as a pool's threads are) than the
    # old module-wide table held before it was cleared whole.
    for task_id, task, context in calls:
        context.run(pc._task_prerun, task_id=task_id, task=task)
        assert context.run(current_ids) == (int("ab" * 16, 16), int("cd" * 8, 16))
    assert sum(len(getattr(t, pc._RUNS)) for t in tasks) == len(calls)
    # They finish in another order than they started: each is still there when it ends.
    for task_id, task, context in sorted(calls, key=lambda call: hash(call[0]) % 7):
        assert task_id in getattr(task, pc._RUNS)
        context.run(pc._task_postrun, task_id=task_id, task=task)
        assert context.run(current_ids) is None
    assert [getattr(t, pc._RUNS) for t in tasks] == [{}, {}, {}]
    assert current_ids() is None
