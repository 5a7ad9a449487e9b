"""A worker thread that takes jobs from a `queue.Queue` and continues the run that sent each.

The low-level half of penstock's integration contract, for a hot path where one object per
message counts: the sender puts the headers of its step (`trace_headers`) next to the job;
the worker turns them into a `RemoteEntry` once (`extract_entry`) and enters and leaves it
around the job (`enter_remote`, `exit_remote`). Public names only.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from penstock import entrypoint, flow, step
from penstock.propagation import (
    dict_getter,
    enter_remote,
    exit_remote,
    extract_entry,
    trace_headers,
)

FLOW = "queued_jobs"

Job = tuple[dict[str, str], Any]


@flow(FLOW)
@entrypoint
def submit(jobs: queue.Queue[Job | None], payload: Any) -> None:
    """Put a job on the queue, with the headers that carry this step's run."""
    jobs.put((dict(trace_headers()), payload))


@flow(FLOW)
@step(after=submit)
def process(payload: Any) -> Any:
    """Do the job (in the worker thread, as a step of the sender's run)."""
    return payload


def work(jobs: queue.Queue[Job | None], results: list[Any]) -> None:
    """Take jobs until ``None`` comes; run each inside the run that sent it."""
    while (job := jobs.get()) is not None:
        headers, payload = job
        entry = extract_entry(headers, dict_getter)
        if entry is None:  # sent outside a run: the job starts a run of its own
            results.append(process(payload))
            continue
        token = enter_remote(entry)
        try:
            results.append(process(payload))
        finally:
            exit_remote(token)


def start_worker(jobs: queue.Queue[Job | None], results: list[Any]) -> threading.Thread:
    """Start `work` in a daemon thread."""
    thread = threading.Thread(target=work, args=(jobs, results), daemon=True)
    thread.start()
    return thread
