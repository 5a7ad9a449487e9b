"""The benchmark runner (``python -m benchmarks``): one table, failures as rows, exit status."""

from __future__ import annotations

import importlib
import math
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.__main__ import combine, main, table

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
        "| benchmark | baseline | baseline us | penstock us | ratio | spread | limit | ok | note |"
    )
    body = {r.split(" | ")[0].removeprefix("| "): r for r in rows[1:]}
    assert body["fast thing"].endswith("| 200 | 50.00 | 0.250 | 0.250-0.250 | 1.00 | yes | full |")
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


def _row(ratio: float, note: str = "") -> dict[str, object]:
    return {
        "benchmark": "b",
        "baseline": "x",
        "baseline_us": 100.0,
        "penstock_us": 100.0 * ratio,
        "ratio": ratio,
        "limit": 1.1,
        "ok": ratio <= 1.1,
        "note": note,
    }


def test_rows_of_several_processes_show_the_median_run_and_the_spread() -> None:
    """One noisy process does not decide a row: the median run is shown, with min-max beside."""
    (row,) = combine([[_row(1.3, "loaded")], [_row(1.02, "mid")], [_row(0.98, "low")]])
    assert (row["ratio"], row["note"], row["ok"]) == (1.02, "mid", True)
    assert row["spread"] == "0.980-1.300"
    assert "| 1.020 | 0.980-1.300 | 1.10 | yes | mid |" in table([row])


def test_a_process_without_the_row_fails_it() -> None:
    """A run that crashed leaves no ratio; the row is not ok even if the others passed."""
    lost = {**_row(1.0), "ratio": math.nan, "ok": False}
    (row,) = combine([[_row(1.0)], [lost], [_row(1.01)]])
    assert row["ok"] is False
    assert str(row["note"]).startswith("1 of 3 runs gave no ratio")


def test_several_processes_in_interleaved_rounds(suite: tuple[Path, str], tmp_path: Path) -> None:
    """--processes N runs each module in N fresh interpreters, round by round."""
    folder, package = suite
    out = tmp_path / "RESULTS.md"
    args = ["--processes", "2", "--only", "good", "--only", "raises", "--output", str(out)]
    assert main(args, folder=folder, package=package) == 1
    text = out.read_text()
    assert "| 0.250 | 0.250-0.250 | 1.00 | yes | full |" in text
    assert "run failed: ValueError: boom" in text
    assert "ran 2 time(s), in interleaved rounds of fresh processes" in text
