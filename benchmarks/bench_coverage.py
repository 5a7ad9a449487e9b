"""Flow coverage (issue 24): what ``--penstock-cov`` costs a test suite, and what it costs off.

A generated pytest suite of 100 tests, each running a four-step flow 250 times (100,000
decorated calls), under the backend a suite gets without configuring one. Each case is a fresh
``python -m pytest`` process, run in alternation; the figure is the median over the rounds of
the CPU time (user + system) the process used, which other processes on a busy machine
disturb less than its wall-clock time.

Targets:

- with ``--penstock-cov`` (term report): at most 1.10x the same suite without it;
- the plugin loaded but not enabled: at most 1.02x the suite with it not loaded at all
  (``-p no:penstock_coverage``): nothing measurable.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

Row = dict[str, object]

APP = """
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def place(n):
    check(n)
    if n % 2:
        pay(n)
    else:
        hold(n)
    audit(n)
    return n


@flow("orders")
@step(after="place")
def check(n):
    return n


@flow("orders")
@step(after="check", when="odd")
def pay(n):
    return n


@flow("orders")
@step(after="check", when="even")
def hold(n):
    return n


@flow("orders")
@step(after=["pay", "hold"])
def audit(n):
    return n
"""

TEST = """
import pytest

from app import place


@pytest.mark.parametrize("i", range(100))
def test_orders(i):
    for n in range(250):
        assert place(n) == n
"""


def _suite(folder: Path) -> None:
    (folder / "app.py").write_text(APP)
    (folder / "test_orders.py").write_text(TEST)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")


def _time(folder: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    env.pop("PYTEST_ADDOPTS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{proc.stdout[-2000:]}")
    return took


def run(quick: bool = False) -> list[Row]:
    rounds = 3 if quick else 9
    cases = {
        "not loaded": ["-p", "no:penstock_coverage"],
        "off": [],
        "on": ["--penstock-cov"],
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _suite(folder)
        _time(folder, ["--penstock-cov"])  # warm up: bytecode, file cache
        for _ in range(rounds):
            for name, args in cases.items():
                times[name].append(_time(folder, args))
    med = {k: statistics.median(v) for k, v in times.items()}
    on_ratio = med["on"] / med["off"]
    off_ratio = med["off"] / med["not loaded"]

    def spread(name: str) -> str:
        return f"{min(times[name]):.2f}-{max(times[name]):.2f} s"

    return [
        {
            "benchmark": "pytest suite, 100,000 decorated calls, with --penstock-cov",
            "baseline": "the same suite without --penstock-cov",
            "baseline_us": med["off"] * 1e6,
            "penstock_us": med["on"] * 1e6,
            "ratio": on_ratio,
            "limit": 1.10,
            "ok": on_ratio <= 1.10,
            "note": f"median CPU time of {rounds} fresh pytest processes each, alternated: "
            f"{med['on']:.2f} s ({spread('on')}) vs {med['off']:.2f} s ({spread('off')}); "
            "default backend, 100 tests x 250 runs of 4 steps",
        },
        {
            "benchmark": "pytest suite, coverage plugin installed but not enabled",
            "baseline": "the same suite with -p no:penstock_coverage",
            "baseline_us": med["not loaded"] * 1e6,
            "penstock_us": med["off"] * 1e6,
            "ratio": off_ratio,
            "limit": 1.02,
            "ok": off_ratio <= 1.02,
            "note": f"{med['off']:.2f} s ({spread('off')}) vs {med['not loaded']:.2f} s "
            f"({spread('not loaded')}); the plugin only declares its options until enabled",
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
