"""A worker thread that takes jobs from a `queue.Queue` and continues the run that sent each.

The sender puts the headers of its step (`trace_headers`, reused while the same step sends job
after job) next to the job; the worker reads them (`extract`) and does the job inside the run
they carry (`RemoteContext.continue_run`). Public names only: the general integration contract,
the same calls penstock's own gRPC server wrappers make for each call they receive.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from penstock import entrypoint, flow, step
from penstock.propagation import dict_getter, extract, trace_headers

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
        remote = extract(headers, dict_getter)
        if remote is None:  # sent outside a run: the job starts a run of its own
            results.append(process(payload))
            continue
        with remote.continue_run(kind="consumer", attributes={"messaging.system": "queue"}):
            results.append(process(payload))


def start_worker(jobs: queue.Queue[Job | None], results: list[Any]) -> threading.Thread:
    """Start `work` in a daemon thread."""
    thread = threading.Thread(target=work, args=(jobs, results), daemon=True)
    thread.start()
    return thread
