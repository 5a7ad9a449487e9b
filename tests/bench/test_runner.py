"""The benchmark runner (``python -m benchmarks``): one table, failures as rows, exit status."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.__main__ import main

GOOD = """
def run(quick=False):
    return [{"benchmark": "fast thing", "baseline": "slow thing", "baseline_us": 200.0,
             "penstock_us": 50.0, "ratio": 0.25, "limit": 1.0, "ok": True,
             "note": "quick" if quick else "full"}]
"""
SLOW = """
def run(quick=False):
    return [{"benchmark": "slow | thing", "baseline": "budget", "baseline_us": 10.0,
             "penstock_us": 30.0, "ratio": 3.0, "limit": 1.0, "ok": False}]
"""
BROKEN = "import no_such_module_for_penstock_bench\n"
RAISES = "def run(quick=False):\n    raise ValueError('boom')\n"
MALFORMED = "def run(quick=False):\n    return [{'benchmark': 'x', 'ok': 'yes'}]\n"


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A throwaway benchmark package with one module of each behaviour."""
    package = "penstock_fake_benchmarks"
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name, source in {
        "good": GOOD,
        "slow": SLOW,
        "broken": BROKEN,
        "raises": RAISES,
        "malformed": MALFORMED,
    }.items():
        (folder / f"bench_{name}.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield folder, package
    sys.path.remove(str(tmp_path))
    for mod in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[mod]


def test_every_module_gets_rows_and_misses_fail_the_run(
    suite: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken, raising and malformed modules become failed rows; any miss means exit 1."""
    folder, package = suite
    out = tmp_path / "RESULTS.md"
    assert main(["--output", str(out)], folder=folder, package=package) == 1
    text = out.read_text()
    assert text.strip() in capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == (
        "| benchmark | baseline | baseline us | penstock us | ratio | limit | ok | note |"
    )
    body = {r.split(" | ")[0].removeprefix("| "): r for r in rows[1:]}
    assert body["fast thing"].endswith("| 200 | 50.00 | 0.250 | 1.00 | yes | full |")
    assert "**NO**" in body["slow \\| thing"]
    assert "import failed: ModuleNotFoundError" in body["bench_broken"]
    assert "run failed: ValueError: boom" in body["bench_raises"]
    assert "bad row:" in body["x"]
    assert "CPUs; CPython" in text


def test_only_and_quick(suite: tuple[Path, str], tmp_path: Path) -> None:
    """--only runs the named modules (with or without the bench_ prefix); --quick reaches run()."""
    folder, package = suite
    out = tmp_path / "RESULTS.md"
    assert (
        main(
            ["--quick", "--only", "bench_good", "--output", str(out)],
            folder=folder,
            package=package,
        )
        == 0
    )
    text = out.read_text()
    assert "| quick |" in text
    assert "bench_broken" not in text
    assert "`python -m benchmarks --quick --only bench_good`" in text


def test_unknown_name_is_a_failed_row(suite: tuple[Path, str], tmp_path: Path) -> None:
    """--only with a name that has no module fails, listing the modules there are."""
    folder, package = suite
    out = tmp_path / "RESULTS.md"
    assert main(["--only", "gud", "--output", str(out)], folder=folder, package=package) == 1
    assert "no benchmarks/bench_gud.py; have: broken, good, malformed, raises, slow" in (
        out.read_text()
    )
