"""Run semantics through the recording backend: nesting, correlation IDs, kinds of functions."""

from __future__ import annotations

import asyncio
import itertools
import re
import traceback
from collections.abc import AsyncIterator, Iterator

import pytest
from bom_sync import store
from bom_sync.consumer import handle_kafka_message
from bom_sync.sync import sync_reference

import penstock
from penstock import entrypoint, flow, step
from penstock.propagation import current_step
from penstock.testing import RecordingBackend
from tests.runtime.app import BOM_STEPS, message

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.usefixtures("bom_store")
def test_example_app_records_its_steps_in_call_order(penstock_recorder: RecordingBackend) -> None:
    """One message runs the whole bom_sync flow as one run, nested as the code calls."""
    result = handle_kafka_message(message("PN-100"))
    assert result["changed"] is True
    penstock_recorder.assert_ran(*BOM_STEPS, flow="bom_sync")
    runs = penstock_recorder.runs()
    assert len(runs) == 1
    (corr,) = runs
    assert HEX32.match(corr)
    parents = {r.step: r.parent_step for r in penstock_recorder.records}
    assert parents == {
        "handle_kafka_message": None,
        "sync_reference": "handle_kafka_message",
        "upsert_to_db": "sync_reference",
        "publish_change_events": "upsert_to_db",
        "update_ebom": "publish_change_events",
        "enqueue_changelog": "publish_change_events",
    }
    preds = {r.step: r.predecessor for r in penstock_recorder.records}
    assert preds["enqueue_changelog"] == "update_ebom"
    assert preds["update_ebom"] == "publish_change_events"
    assert preds["handle_kafka_message"] is None
    assert [r.status for r in penstock_recorder.records] == ["ok"] * 6
    finished = [r.step for r in penstock_recorder.finished]
    assert finished[:2] == ["update_ebom", "enqueue_changelog"]
    assert finished[-1] == "handle_kafka_message"
    for r in penstock_recorder.records:
        assert r.end_ns >= r.start_ns > 0
        assert r.trace_id == int(corr, 16)


@pytest.mark.usefixtures("bom_store")
def test_each_entrypoint_call_is_a_new_run(penstock_recorder: RecordingBackend) -> None:
    """Two messages make two runs with different correlation IDs."""
    handle_kafka_message(message("PN-100"))
    handle_kafka_message(message("PN-200"))
    assert len(penstock_recorder.runs()) == 2


@pytest.mark.usefixtures("bom_store")
def test_step_outside_a_run_is_its_own_run(penstock_recorder: RecordingBackend) -> None:
    """A step called with no run active still works and records as the root of a run."""
    assert sync_reference("PN-200")["changed"] is True
    root = penstock_recorder.records[0]
    assert root.step == "sync_reference"
    assert root.parent is None
    assert root.predecessor is None
    assert len(penstock_recorder.runs()) == 1


def test_entrypoint_inside_a_run_continues_it(penstock_recorder: RecordingBackend) -> None:
    """An entrypoint called while a run is active is a child step of the same run."""

    @flow("inner")
    @entrypoint
    def inner() -> str:
        return "inner"

    @flow("outer")
    @entrypoint
    def outer() -> str:
        return inner()

    assert outer() == "inner"
    first, second = penstock_recorder.records
    assert second.parent is first
    assert second.correlation_id == first.correlation_id
    assert (first.flow, second.flow) == ("outer", "inner")


def test_failure_is_recorded_and_exception_passes_unchanged(
    penstock_recorder: RecordingBackend,
) -> None:
    """A failing step is recorded as an error; the caller gets the very same exception."""
    with pytest.raises(store.PartNotFound) as info:
        handle_kafka_message(message("PN-404"))
    exc = info.value
    innermost = traceback.extract_tb(exc.__traceback__)[-1]
    assert innermost.name == "fetch"
    assert innermost.filename.endswith("store.py")
    by_step = {r.step: r for r in penstock_recorder.records}
    assert by_step["sync_reference"].status == "error"
    assert by_step["sync_reference"].error is exc
    assert by_step["handle_kafka_message"].error is exc
    assert "upsert_to_db" not in by_step


def test_recursion_nests_and_is_not_drift(
    penstock_recorder: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """A recursive step records one nested call per level and logs no drift."""

    @flow("math")
    @entrypoint
    def fact(n: int) -> int:
        return 1 if n <= 1 else n * fact(n - 1)

    assert fact(5) == 120
    records = penstock_recorder.records
    assert [r.step for r in records] == ["fact"] * 5
    for parent, child in itertools.pairwise(records):
        assert child.parent is parent
    assert "drifted" not in caplog.text
    assert penstock.observed_edges("math") == []


def test_methods_classmethods_and_staticmethods_record(
    penstock_recorder: RecordingBackend,
) -> None:
    """Steps can be methods of any kind; self and cls are passed through."""

    class Service:
        factor = 3

        def __init__(self) -> None:
            self.base = 2

        @flow("svc")
        @entrypoint
        def run(self, x: int) -> int:
            return self.scale(x) + self.offset() + self.shift(x)

        @flow("svc")
        @step(after="run")
        def scale(self, x: int) -> int:
            return x * self.base

        @flow("svc")
        @step(after="scale")
        @classmethod
        def offset(cls) -> int:
            return cls.factor

        @flow("svc")
        @step(after="offset")
        @staticmethod
        def shift(x: int) -> int:
            return x + 1

    assert Service().run(10) == 20 + 3 + 11
    penstock_recorder.assert_ran("run", "scale", "offset", "shift", flow="svc")
    assert {r.parent_step for r in penstock_recorder.records[1:]} == {"run"}


async def test_coroutines_nest_across_awaits(penstock_recorder: RecordingBackend) -> None:
    """Async steps nest under the awaiting step and see themselves as current."""
    seen: list[tuple[str, str] | None] = []

    @flow("aflow")
    @step(after="a_root")
    async def a_child(x: int) -> int:
        await asyncio.sleep(0)
        seen.append(current_step())
        return x + 1

    @flow("aflow")
    @entrypoint
    async def a_root() -> int:
        first = await a_child(1)
        seen.append(current_step())
        return await a_child(first)

    assert await a_root() == 3
    assert seen == [("aflow", "a_child"), ("aflow", "a_root"), ("aflow", "a_child")]
    root, c1, c2 = penstock_recorder.records
    assert c1.parent is root
    assert c2.parent is root
    assert c2.predecessor == "a_child"
    assert current_step() is None


def test_generator_records_whole_iteration_and_is_current_only_in_body(
    penstock_recorder: RecordingBackend,
) -> None:
    """A generator step spans the whole iteration; between items its caller is current."""
    inside: list[tuple[str, str] | None] = []

    @flow("gen")
    @step(after="consume")
    def produce(n: int) -> Iterator[int]:
        for i in range(n):
            inside.append(current_step())
            yield i
        return None

    @flow("gen")
    @entrypoint
    def consume() -> list[int]:
        out = []
        for item in produce(3):
            assert current_step() == ("gen", "consume")
            out.append(item)
        return out

    assert consume() == [0, 1, 2]
    assert inside == [("gen", "produce")] * 3
    root, gen = penstock_recorder.records
    assert gen.parent is root
    assert gen.status == "ok"
    assert root.end_ns >= gen.end_ns >= gen.start_ns > 0


def test_generator_send_throw_and_return_value_pass_through(
    penstock_recorder: RecordingBackend,
) -> None:
    """send(), throw() and the generator's return value behave as without penstock."""

    @flow("gen")
    @entrypoint
    def echo() -> Iterator[str]:
        got = yield "ready"
        try:
            yield f"got {got}"
        except KeyError as exc:
            yield f"caught {exc.args[0]}"
        return "done"

    g = echo()
    assert next(g) == "ready"
    assert g.send("x") == "got x"
    assert g.throw(KeyError("k")) == "caught k"
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"
    assert penstock_recorder.records[0].status == "ok"


def test_generator_closed_early_is_cancelled_not_failed(
    penstock_recorder: RecordingBackend,
) -> None:
    """Breaking out of a generator step closes it: status cancelled, context intact."""
    cleaned: list[tuple[str, str] | None] = []

    @flow("gen")
    @entrypoint
    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            cleaned.append(current_step())

    for item in endless():
        if item == 2:
            break
    assert cleaned == [("gen", "endless")]
    assert penstock_recorder.records[0].status == "cancelled"
    assert current_step() is None


async def test_generator_closed_from_another_task_keeps_contexts_clean(
    penstock_recorder: RecordingBackend,
) -> None:
    """A generator started in one task and closed in another breaks neither context."""

    @flow("gen")
    @entrypoint
    def ticks() -> Iterator[int]:
        yield 1
        yield 2

    g = ticks()
    assert next(g) == 1

    async def closer() -> tuple[str, str] | None:
        g.close()
        return current_step()

    assert await asyncio.create_task(closer()) is None
    assert current_step() is None
    assert penstock_recorder.records[0].status == "cancelled"


async def test_async_generator_records_whole_iteration(
    penstock_recorder: RecordingBackend,
) -> None:
    """An async generator step spans its iteration and nests steps called in its body."""

    @flow("agen")
    @step(after="stream")
    async def enrich(x: int) -> int:
        await asyncio.sleep(0)
        return x * 10

    @flow("agen")
    @entrypoint
    async def stream(n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield await enrich(i)

    assert [x async for x in stream(3)] == [0, 10, 20]
    root, *children = penstock_recorder.records
    assert root.step == "stream"
    assert root.status == "ok"
    assert [c.parent for c in children] == [root] * 3
    assert current_step() is None


async def test_async_generator_closed_early_is_cancelled(
    penstock_recorder: RecordingBackend,
) -> None:
    """aclose() on an async generator step records it as cancelled, not failed."""

    @flow("agen")
    @entrypoint
    async def forever() -> AsyncIterator[int]:
        while True:
            yield 1

    agen = forever()
    assert await agen.__anext__() == 1
    await agen.aclose()
    assert penstock_recorder.records[0].status == "cancelled"


async def test_cancelled_task_is_not_a_failure(penstock_recorder: RecordingBackend) -> None:
    """asyncio.CancelledError ends the step as cancelled and still reaches the caller."""
    started = asyncio.Event()

    @flow("aflow")
    @entrypoint
    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = penstock_recorder.records[0]
    assert record.status == "cancelled"
    assert isinstance(record.error, asyncio.CancelledError)


def test_keyboard_interrupt_is_not_a_failure(penstock_recorder: RecordingBackend) -> None:
    """KeyboardInterrupt ends the step as cancelled and propagates."""

    @flow("f")
    @entrypoint
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert penstock_recorder.records[0].status == "cancelled"


def test_step_in_several_flows_takes_its_callers_flow(
    penstock_recorder: RecordingBackend,
) -> None:
    """A shared step records in the flow of the run that calls it."""

    @flow("a")
    @flow("b")
    @step(after=["start_a", "start_b"])
    def shared() -> None:
        return None

    @flow("a")
    @entrypoint
    def start_a() -> None:
        shared()

    @flow("b")
    @entrypoint
    def start_b() -> None:
        shared()

    start_a()
    start_b()
    assert [(r.flow, r.step) for r in penstock_recorder.records] == [
        ("a", "start_a"),
        ("a", "shared"),
        ("b", "start_b"),
        ("b", "shared"),
    ]


def test_recorder_assert_ran_explains_a_mismatch(penstock_recorder: RecordingBackend) -> None:
    """assert_ran fails with both the expected and the recorded sequence."""

    @flow("f")
    @entrypoint
    def only() -> None:
        return None

    only()
    with pytest.raises(AssertionError, match=r"expected: \['other'\]\n  recorded: \['only'\]"):
        penstock_recorder.assert_ran("other", flow="f")


def test_current_correlation_id_inside_and_outside_a_run(
    penstock_recorder: RecordingBackend,
) -> None:
    """current_correlation_id() is the run's ID inside a step and None outside."""
    seen: list[str | None] = []

    @flow("f")
    @entrypoint
    def root() -> None:
        seen.append(penstock.current_correlation_id())

    assert penstock.current_correlation_id() is None
    root()
    assert seen == [penstock_recorder.records[0].correlation_id]
    assert HEX32.match(seen[0] or "")


def test_wrappers_keep_the_function_kind() -> None:
    """inspect sees coroutine, generator and async generator steps as what they are."""
    import inspect

    @step
    async def c() -> None: ...

    @step
    def g() -> Iterator[int]:
        yield 1

    @step
    async def ag() -> AsyncIterator[int]:
        yield 1

    assert inspect.iscoroutinefunction(c)
    assert inspect.isgeneratorfunction(g)
    assert inspect.isasyncgenfunction(ag)


async def test_async_generator_athrow_reaches_the_body(
    penstock_recorder: RecordingBackend,
) -> None:
    """athrow() delivers the exception inside the async generator step's body."""

    @flow("agen")
    @entrypoint
    async def resilient() -> AsyncIterator[str]:
        try:
            yield "first"
        except ValueError as exc:
            yield f"recovered {exc}"

    agen = resilient()
    assert await agen.__anext__() == "first"
    assert await agen.athrow(ValueError("boom")) == "recovered boom"
    with pytest.raises(StopAsyncIteration):
        await agen.__anext__()
    assert penstock_recorder.records[0].status == "ok"


@pytest.mark.usefixtures("bom_store")
@pytest.mark.parametrize("backend", ["logging", "otel", "noop", "recording"])
def test_example_app_under_every_backend(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    """The example app works under each backend and its log lines carry the correlation ID."""
    import logging

    from tests.support.otel import session_exporter

    if backend == "otel":
        session_exporter()
    penstock.configure(backend=backend)
    app_log = logging.getLogger("bom_sync.app")
    caplog.set_level(logging.INFO, logger="bom_sync.app")
    caplog.handler.addFilter(penstock.CorrelationIdFilter())
    seen: list[str | None] = []

    @flow("wrapper")
    @step(after="run")
    def audit(part: str) -> None:
        seen.append(penstock.current_correlation_id())
        app_log.info("audited %s", part)

    @flow("wrapper")
    @entrypoint
    def run(part: str) -> dict[str, object]:
        result = handle_kafka_message(message(part))
        audit(part)
        return result

    assert run("PN-100") == {
        "part_number": "PN-100",
        "changed": True,
        "events": ["ebom", "changelog"],
    }
    (record,) = [r for r in caplog.records if r.name == "bom_sync.app"]
    assert record.correlation_id == seen[0]  # type: ignore[attr-defined]
    assert HEX32.match(seen[0] or "")
    assert not [r for r in caplog.records if getattr(r, "penstock_drift", False)]


@pytest.mark.parametrize("backend", ["noop", "logging", "recording"])
def test_current_ids_are_w3c_valid_and_per_step(backend: str) -> None:
    """current_ids() gives the run's 128-bit trace id and a distinct 64-bit span id per step."""
    from penstock.propagation import current_ids

    penstock.configure(backend=backend)
    seen: list[tuple[tuple[int, int] | None, str | None]] = []

    @flow("ids")
    @step(after="outer")
    def inner() -> None:
        seen.append((current_ids(), penstock.current_correlation_id()))

    @flow("ids")
    @entrypoint
    def outer() -> None:
        seen.append((current_ids(), penstock.current_correlation_id()))
        inner()
        inner()

    assert current_ids() is None
    outer()
    ids = [i for i, _ in seen]
    assert all(i is not None for i in ids)
    trace_ids = {i[0] for i in ids if i}
    span_ids = [i[1] for i in ids if i]
    (trace_id,) = trace_ids
    assert 0 < trace_id < 2**128
    assert all(0 < s < 2**64 for s in span_ids)
    assert len(set(span_ids)) == 3
    assert {c for _, c in seen} == {f"{trace_id:032x}"}


def test_continue_remote_restores_state_when_no_step_ran(
    penstock_recorder: RecordingBackend,
) -> None:
    """Leaving continue_remote restores the enclosing step, whether or not a step ran."""
    from penstock.propagation import continue_remote, current_ids

    @flow("r")
    @entrypoint
    def local() -> list[tuple[int, int] | None]:
        before = current_ids()
        with continue_remote(7, 9, parent_step="upstream", parent_flow="r"):
            during = current_ids()
            assert current_step() == ("r", "upstream")
        return [before, during, current_ids()]

    before, during, after = local()
    assert during == (7, 9)
    assert before == after
    assert before is not None
    assert before[0] != 7


@pytest.mark.parametrize("backend", ["noop", "logging", "recording"])
def test_failure_restores_the_caller_under_every_backend(backend: str) -> None:
    """A failing step re-raises the same exception, and its caller is current again."""
    penstock.configure(backend=backend)
    boom = KeyError("missing")
    seen: list[tuple[str, str] | None] = []

    @flow("fails")
    @step(after="outer")
    def inner() -> None:
        raise boom

    @flow("fails")
    @step(after="inner")
    def after_failure() -> None:
        seen.append(current_step())

    @flow("fails")
    @entrypoint
    def outer() -> None:
        with pytest.raises(KeyError) as caught:
            inner()
        assert caught.value is boom
        seen.append(current_step())
        after_failure()

    outer()
    assert seen == [("fails", "outer"), ("fails", "after_failure")]
    assert current_step() is None
    # The predecessor of after_failure is the failed inner: the run's shape is kept.
    assert penstock.observed_edges("fails") == [("inner", "after_failure"), ("outer", "inner")]
