"""Which modules naming a package imports: submodules, but no scripts and nothing excluded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.system import ROOT

FLOW = """
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def take_order():
    \"\"\"Begin.\"\"\"


@flow("orders")
@step(after=take_order)
def pack():
    \"\"\"Pack it.\"\"\"
"""

EXTRA_STEP = """
from penstock import flow, step


@flow("orders")
@step(after="pack")
def ship():
    \"\"\"Send it.\"\"\"
"""

#: A driver script as users write them: it runs on import and leaves a file behind.
DRIVER = """#!/usr/bin/env python
import pathlib
import sys

pathlib.Path("driver-ran").write_text(" ".join(sys.argv[1:]))
"""

BOOM = "raise RuntimeError('this module must not be imported')\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A package with a flow, a driver script, a tools subpackage and a __main__ deeper down."""
    return write(
        tmp_path / "proj",
        {
            "pyproject.toml": (
                '[tool.penstock]\nmodules = ["orders"]\nexclude = ["orders.tools", "*.legacy"]\n'
            ),
            "orders/__init__.py": "",
            "orders/flow.py": FLOW,
            "orders/shipping.py": EXTRA_STEP,
            "orders/record.py": DRIVER,
            "orders/legacy.py": BOOM,
            "orders/tools/__init__.py": BOOM,
            "orders/tools/run.py": BOOM,
            "orders/batch/__init__.py": "",
            "orders/batch/__main__.py": BOOM,
        },
    )


def penstock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "penstock", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_package_skips_scripts_main_modules_and_excluded_names(project: Path) -> None:
    """`penstock observe`-like commands import the flows, never the driver or excluded modules."""
    out = penstock("list", cwd=project)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["orders", "3", "steps", "entrypoints:", "take_order"]
    assert sorted(p.name for p in project.iterdir()) == ["orders", "pyproject.toml"], (
        "the driver script ran"
    )


def test_command_line_exclude_replaces_the_tables(project: Path) -> None:
    """--exclude wins over [tool.penstock] exclude, as -m wins over modules."""
    out = penstock("--exclude", "orders.shipping", "list", cwd=project)
    # The table's exclude no longer applies: orders.tools raises on import.
    assert out.returncode == 2
    assert "could not import module 'orders.legacy'" in out.stderr
    out = penstock(
        "list", "--exclude", "orders.shipping", "--exclude", "orders.t*", "--exclude", "*y",
        cwd=project,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:3] == ["orders", "2", "steps"]


def test_a_module_named_explicitly_is_imported_even_a_script(project: Path) -> None:
    """Exclusion applies to what a package finds; -m MODULE always imports MODULE."""
    out = penstock("-m", "orders.flow", "-m", "orders.record", "list", cwd=project)
    assert out.returncode == 0, out.stderr
    assert (project / "driver-ran").read_text().endswith("orders.record list")


def test_exclude_must_be_a_list_of_strings(project: Path) -> None:
    """A wrong type is a usage error that shows the expected form."""
    (project / "pyproject.toml").write_text("[tool.penstock]\nmodules = ['orders']\nexclude = 3\n")
    out = penstock("list", cwd=project)
    assert out.returncode == 2
    assert 'exclude must be a list of strings, e.g. exclude = ["shop"]; got 3' in out.stderr


def test_docs_hosts_read_the_tables_exclude(project: Path) -> None:
    """The docs extensions get the table's exclude through the same module sources."""
    from penstock.docs import module_sources

    sources = module_sources([], [], start=project)
    assert sources.exclude == ("orders.tools", "*.legacy")
    assert module_sources([], [], start=project, exclude=["x.*"]).exclude == ("x.*",)


def test_dump_imports_what_the_other_commands_import(project: Path) -> None:
    """`penstock dump` (the process `diff` runs per revision) honours exclude and --exclude."""
    import json

    out = penstock("dump", "-o", "all.json", cwd=project)
    assert out.returncode == 0, out.stderr
    steps = json.loads((project / "all.json").read_text())["flows"][0]["steps"]
    assert len(steps) == 3
    out = penstock(
        "--exclude", "orders.shipping", "--exclude", "orders.t*", "--exclude", "*y",
        "dump", "-o", "fewer.json", cwd=project,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert len(json.loads((project / "fewer.json").read_text())["flows"][0]["steps"]) == 2
    assert not (project / "driver-ran").exists()
