"""Things built once per test session and shared by every pytest-xdist worker.

A session-scoped fixture runs once per worker process, so a site several test files read (in
different workers) would still be built once per worker. `once` builds it in a folder every
worker of the run can see (the parent of the workers' temporary folders), under a file lock:
the first worker to ask builds it, the others wait for the lock and read what it left. A build
that failed is not cached: the next worker to ask tries again and fails with its own output.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: workers then build on their own
    fcntl = None  # type: ignore[assignment]


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of this run that all its workers see (the run's own one when serial)."""
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist each worker's basetemp is `.../pytest-N/popen-gwK`.
    return base.parent if base.name.startswith("popen-gw") else base


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def once(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], Any],
) -> tuple[Path, Any]:
    """``(folder, result)`` of ``build(folder)``, run once per session across all workers.

    ``build`` fills the empty ``folder`` and returns a JSON-serialisable result (a build log,
    say); the folder and the result are what later callers get, from any worker.
    """
    root = shared_root(tmp_path_factory) / "shared"
    root.mkdir(exist_ok=True)
    folder = root / name
    done = root / f"{name}.json"
    with _locked(root / f"{name}.lock"):
        if done.exists():
            return folder, json.loads(done.read_text(encoding="utf-8"))["result"]
        if folder.exists():  # left by a build that failed: start afresh
            shutil.rmtree(folder)
        folder.mkdir()
        result = build(folder)
        done.write_text(json.dumps({"result": result}), encoding="utf-8")
        return folder, result
