"""Registration across modules: lazy `after`, reloads and re-imports."""

from __future__ import annotations

import importlib
import sys

import penstock
from penstock._declared.registry import REGISTRY
from tests.core.conftest import ModuleMaker

CONSUMER = """
from penstock import entrypoint, flow

@flow("lazy")
@entrypoint
def receive():
    return "r"
"""

LATER = """
from penstock import flow, step

@flow("lazy")
@step(after="receive")
def process():
    return "p"

@flow("lazy")
@step(after="archive")
def notify():
    return "n"
"""

ARCHIVE = """
from penstock import flow, step

@flow("lazy")
@step(after="process")
def archive():
    return "a"
"""


def test_after_may_name_a_step_from_a_module_imported_later(make_module: ModuleMaker) -> None:
    """`after=` resolves when the graph is built, so definition order across modules is free."""
    make_module("lazyflow.later", LATER)
    make_module("lazyflow.consumer", CONSUMER)
    assert penstock.check("lazy")[0].kind == "unknown-after"  # archive not imported yet
    make_module("lazyflow.archive", ARCHIVE)
    g = penstock.get_flow("lazy")
    assert [(e.source, e.target) for e in g.edges] == [
        ("receive", "process"),
        ("process", "archive"),
        ("archive", "notify"),
    ]
    assert penstock.check("lazy") == []


def test_importlib_reload_replaces_steps(make_module: ModuleMaker) -> None:
    """Reloading a module 20 times keeps one entry per step and picks up the new code."""
    mod = make_module("reloaded", CONSUMER)
    size = len(REGISTRY)
    for _ in range(20):
        mod = importlib.reload(mod)
    assert len(REGISTRY) == size
    assert [s.name for s in penstock.get_flow("lazy").steps] == ["receive"]


def test_reimport_after_removal_forgets_deleted_steps(make_module: ModuleMaker) -> None:
    """A module dropped from sys.modules and imported again loses the steps it no longer has."""
    make_module("dropped", CONSUMER + LATER)
    assert {s.name for s in penstock.get_flow("lazy").steps} == {"receive", "process", "notify"}
    make_module("dropped", CONSUMER)
    assert {s.name for s in penstock.get_flow("lazy").steps} == {"receive"}
    assert "dropped" in sys.modules


def test_forget_module_removes_its_steps(make_module: ModuleMaker) -> None:
    """Registry.forget_module drops exactly that module's entries."""
    make_module("keepme", CONSUMER)
    make_module("dropme", LATER)
    assert REGISTRY.forget_module("dropme") == 2
    assert [s.name for s in penstock.get_flow("lazy").steps] == ["receive"]
