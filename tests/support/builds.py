"""Independent docs builds of one test module, run side by side.

A real ``mkdocs build`` or ``sphinx-build`` is a fresh interpreter that keeps one core busy for
seconds while pytest only waits for it. A module whose builds do not depend on each other writes
its sites and starts every build from one module-scoped fixture, on as many threads as the
machine has cores; each test then waits for its own build and asserts exactly what it asserted
before. Only the waiting overlaps: every build still runs, in its own folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest


def workers() -> int:
    """Builds to run at once: one per core, and at least two (a build also waits on disk)."""
    return max(2, os.cpu_count() or 1)


@pytest.fixture(scope="session")
def build_pool() -> Iterator[ThreadPoolExecutor]:
    """Threads that each wait for one build process; shared by the whole session."""
    with ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="docs-build") as pool:
        yield pool
