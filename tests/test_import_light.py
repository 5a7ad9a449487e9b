"""``import penstock`` loads no heavy or costly module (timing: benchmarks/bench_import.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks import bench_import
from tests.support.system import ROOT

# One list for the benchmark's row and this test: heavy dependencies that only the code
# needing them may import.
HEAVY = bench_import.HEAVY
#: Standard modules that alone cost more than the rest of ``import penstock``.
COSTLY_STDLIB = ("typing", "inspect", "dataclasses", "logging", "enum", "asyncio", "threading")

_PROBE = """
import json, sys
before = set(sys.modules)
import penstock
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.fixture(scope="module")
def loaded() -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules: list[str] = json.loads(proc.stdout)
    assert "penstock" in modules
    return modules


@pytest.mark.parametrize("name", HEAVY)
def test_import_penstock_loads_no_heavy_module(loaded: list[str], name: str) -> None:
    """A fresh ``import penstock`` leaves the heavy dependency and its submodules unloaded."""
    assert [m for m in loaded if m == name or m.startswith(name + ".")] == []


@pytest.mark.parametrize("name", COSTLY_STDLIB)
def test_import_penstock_loads_no_costly_stdlib_module(loaded: list[str], name: str) -> None:
    """A fresh ``import penstock`` does not pull in a costly standard module."""
    assert name not in loaded
