"""Shared fixtures: the example app is importable, every test gets the registry back as it
found it, and penstock's run-time state is reset around every test."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.builds import build_pool  # noqa: F401 (a fixture)
from tests.support.schedule import longest_files_first, make_scheduler
from tests.support.system import ROOT

EXAMPLES = ROOT / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

# Imported once, before any snapshot, so the example flow is part of every test's baseline.
import bom_sync.consumer  # noqa: E402
import bom_sync.sync  # noqa: E402,F401

import penstock  # noqa: E402
from penstock._declared.registry import REGISTRY  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    """Steps declared inside a test vanish after it."""
    saved = REGISTRY.snapshot()
    yield
    REGISTRY.restore(saved)


@pytest.fixture(autouse=True, scope="module")
def _isolated_registry_per_module() -> Iterator[None]:
    """Steps declared by module-scoped fixtures vanish after the module's tests."""
    saved = REGISTRY.snapshot()
    yield
    REGISTRY.restore(saved)


@pytest.fixture(autouse=True)
def _reset_penstock() -> Iterator[None]:
    """No backend choice, observed edge or failed-hook memory leaks between tests."""
    penstock.reset()
    yield
    penstock.reset()


#: The cyclic garbage collector's thresholds while the tests run (CPython's are 700, 10, 10).
GC_THRESHOLDS = (20_000, 50, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect less often, and never look again at what imports and collection made.

    Those objects (Sphinx, MkDocs, OpenTelemetry, Hypothesis, every test module) live to the
    end of the session, and every full collection walked them all again: the tests that make
    tens of thousands of runs or spans spent a third of their time in the collector. Tests
    that measure memory call ``gc.collect()`` before each sample, as they did.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the longest files go to the workers first (see support/schedule)."""
    longest_files_first(config, items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` keeps the files that share a cache on one worker (support/schedule)."""
    if config.getoption("dist") == "loadfile":
        return make_scheduler(config, log)
    return None
