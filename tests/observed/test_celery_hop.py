"""A real flow with a Celery hop to a real worker, recorded as JSON log lines and as OTLP
JSON: both recordings give the same counts, and a replayed run labels the hop."""

from __future__ import annotations

import contextlib
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bom_sync import store

import penstock
from penstock import ObservedEdge, observe, replay_run
from tests.support.redis_celery import CeleryWorker, RedisServer

#: Three changed parts (each sends the Celery task), one unchanged, one unknown (fails).
PARTS = ["PN-100", "PN-200", "PN-300", "PN-100", "PN-404"]
RUNS = len(PARTS)
HOPS = 3


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for this module."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def celery_app(redis_server: RedisServer) -> Any:
    """The example's Celery app, pointed at the test Redis; its task is a step of the flow
    for this module's tests (the registry is restored after the module)."""
    tasks = importlib.import_module("bom_sync.tasks")
    if "create_change_logs" not in penstock.get_flow("bom_sync"):
        tasks = importlib.reload(tasks)  # imported quietly by another module before
    tasks.app.conf.update(broker_url=redis_server.url(0), result_backend=redis_server.url(1))
    return tasks.app


def _record_both_sides(
    kind: str, folder: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """Run the example RUNS times with its Celery hop; returns (sender file, worker file)."""
    from bom_sync.consumer import Message, handle_kafka_message

    sender, worker_file = folder / f"sender-{kind}.jsonl", folder / f"worker-{kind}.jsonl"
    worker = CeleryWorker(
        "tests.observed.worker_app:app",
        folder / f"worker-{kind}.log",
        {
            "BOM_SYNC_BROKER_URL": redis_server.url(0),
            "BOM_SYNC_RESULT_BACKEND": redis_server.url(1),
            "PENSTOCK_OBSERVED_FORMAT": kind,
            "PENSTOCK_OBSERVED_FILE": str(worker_file),
        },
        queue="celery",
        name=f"observed-{kind}",
    )
    worker.start()
    monkeypatch.setenv("BOM_SYNC_BROKER_URL", redis_server.url(0))
    monkeypatch.setattr(store, "STORE", store.Store())
    provider = None
    try:
        if kind == "json-log":
            stream = sender.open("w", encoding="utf-8")
            penstock.configure(backend="logging", format="json", stream=stream)
        else:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor

            from tests.support.otlp import OtlpJsonFileExporter

            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(sender)))
            penstock.configure(backend="otel", tracer_provider=provider)
        for part in PARTS:
            payload = json.dumps({"part_number": part}).encode()
            with contextlib.suppress(store.PartNotFound):
                handle_kafka_message(Message(value=payload, headers=[]))
        deadline = time.monotonic() + 30
        while True:
            done = worker_file.exists() and (
                observe("bom_sync", [worker_file]).edge(
                    "publish_change_events", "create_change_logs"
                )
                == ObservedEdge("publish_change_events", "create_change_logs", True, HOPS)
            )
            if done:
                break
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.1)
    finally:
        penstock.reset()
        if provider is not None:
            provider.shutdown()
        elif kind == "json-log":
            stream.close()
        worker.stop()
    return sender, worker_file


@pytest.fixture(scope="module")
def recordings(
    redis_server: RedisServer, celery_app: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Path]]:
    """The same RUNS runs recorded both ways, each by both processes."""
    folder = tmp_path_factory.mktemp("observed-celery")
    out = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for kind in ("json-log", "otlp"):
            out[kind] = list(_record_both_sides(kind, folder, redis_server, monkeypatch))
    return out


def test_logs_and_spans_count_the_same_across_the_celery_hop(
    recordings: dict[str, list[Path]],
) -> None:
    """Steps, errors, edges (the Celery hop included) and runs are equal in both formats."""
    logs = observe("bom_sync", recordings["json-log"])
    spans = observe("bom_sync", recordings["otlp"])
    assert logs.runs == spans.runs == RUNS
    as_counts = [
        ({s.name: (s.calls, s.errors) for s in o.steps}, [e.as_dict() for e in o.edges])
        for o in (logs, spans)
    ]
    assert as_counts[0] == as_counts[1]
    hop = logs.edge("publish_change_events", "create_change_logs")
    assert hop is not None
    assert (hop.declared, hop.count) == (True, HOPS)
    counts = {(e.source, e.target): e.count for e in logs.edges}
    assert counts == {
        ("handle_kafka_message", "sync_reference"): 5,
        ("sync_reference", "upsert_to_db"): 4,
        ("upsert_to_db", "publish_change_events"): 3,
        ("publish_change_events", "update_ebom"): 3,
        ("publish_change_events", "enqueue_changelog"): 3,
        ("publish_change_events", "create_change_logs"): 3,
    }
    assert logs.step("sync_reference").errors == 1  # type: ignore[union-attr]
    # The worker's Celery instrumentation spans are foreign: counted, not read.
    assert spans.foreign_spans > 0
    assert logs.foreign_spans == 0


@pytest.mark.parametrize("kind", ["json-log", "otlp"])
def test_replayed_run_labels_the_celery_hop(recordings: dict[str, list[Path]], kind: str) -> None:
    """One run replayed from both processes' files: in order, the hop labelled celery."""
    files = recordings[kind]
    run_id = _some_run(files)
    run = replay_run("bom_sync", files, run_id)
    assert [s.name for s in run.steps] == [
        "handle_kafka_message",
        "sync_reference",
        "upsert_to_db",
        "publish_change_events",
        "update_ebom",
        "enqueue_changelog",
        "create_change_logs",
    ]
    hop = run.steps[-1]
    assert hop.via == "celery"
    assert hop.edge == ("publish_change_events", "create_change_logs")
    assert hop.depth == 4
    assert run.failed_at is None
    drawn = penstock.generate_dag("bom_sync", observed=run)
    assert 'publish_change_events -. "celery #183; #35;7" .-> create_change_logs' in drawn


def _some_run(files: list[Path]) -> str:
    from penstock._observed.record import Record, Skipped
    from penstock._observed.source import read_records

    for raw in read_records(files, Skipped()):
        record = Record(*raw)
        if record.step == "create_change_logs":
            return record.correlation_id
    raise AssertionError("no worker record")


def test_older_spans_across_the_hop_are_placed_from_the_tree(
    recordings: dict[str, list[Path]], tmp_path: Path
) -> None:
    """Spans without the run-structure attributes, from both processes, count the same."""
    from tests.observed.test_readers import _strip_run_structure

    legacy = []
    for i, path in enumerate(recordings["otlp"]):
        target = tmp_path / f"old-{i}.jsonl"
        _strip_run_structure(path, target)
        legacy.append(target)
    from_tree = observe("bom_sync", legacy)
    from_logs = observe("bom_sync", recordings["json-log"])
    assert [e.as_dict() for e in from_tree.edges] == [e.as_dict() for e in from_logs.edges]
    assert from_tree.runs == from_logs.runs == RUNS
