"""``import penstock`` stays cheap: application code pays it at start-up.

Targets (issue 2): penstock's cumulative ``-X importtime`` (the median of 5 fresh interpreters)
is at most 15 ms, and none of the heavy modules is loaded by ``import penstock``.

Each interpreter reads bytecode from a warmed private cache, as an installed package would:
with ``PYTHONDONTWRITEBYTECODE`` every run would compile the sources again and measure the
compiler instead.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_US = 15_000.0
RUNS = 5
#: Modules ``import penstock`` must not load (a name or any of its submodules).
HEAVY = (
    "networkx",
    "opentelemetry.sdk",
    "opentelemetry.trace",
    "mkdocs",
    "sphinx",
    "docutils",
    "celery",
    "grpc",
    "kafka",
    "redis",
)
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|\s*penstock\s*$", re.M)


def _python(code: str, cache: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def import_cost_us(cache: str) -> float:
    """penstock's cumulative import time in one fresh interpreter, in microseconds."""
    proc = _python("import penstock", cache, "-X", "importtime")
    match = _LINE.search(proc.stderr)
    if match is None:
        raise RuntimeError(f"no 'penstock' line in -X importtime output:\n{proc.stderr[-2000:]}")
    return float(match.group(1))


def wall_us(code: str, cache: str) -> float:
    start = time.perf_counter()
    _python(code, cache)
    return (time.perf_counter() - start) * 1e6


def heavy_modules(cache: str) -> list[str]:
    """Heavy modules present in ``sys.modules`` right after ``import penstock``."""
    proc = _python("import json, sys, penstock; print(json.dumps(sorted(sys.modules)))", cache)
    loaded = json.loads(proc.stdout)
    return [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def run(quick: bool = False) -> list[dict[str, object]]:
    runs = 3 if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="penstock-bench-") as cache:
        import_cost_us(cache)  # warm the bytecode cache
        costs = [import_cost_us(cache) for _ in range(runs)]
        bare = statistics.median(wall_us("pass", cache) for _ in range(runs))
        loaded = statistics.median(wall_us("import penstock", cache) for _ in range(runs))
        heavy = heavy_modules(cache)
    cost = statistics.median(costs)
    return [
        {
            "benchmark": "import penstock (-X importtime, cumulative)",
            "baseline": "budget: 15 ms over a bare interpreter",
            "baseline_us": BUDGET_US,
            "penstock_us": cost,
            "ratio": cost / BUDGET_US,
            "limit": 1.0,
            "ok": cost <= BUDGET_US,
            "note": (
                f"median of {runs}; runs {', '.join(f'{c / 1000:.1f}' for c in costs)} ms; "
                f"wall clock: bare interpreter {bare / 1000:.1f} ms, "
                f"with import penstock {loaded / 1000:.1f} ms"
            ),
        },
        {
            "benchmark": "import penstock: heavy modules loaded",
            "baseline": "none allowed",
            "baseline_us": 0.0,
            "penstock_us": float(len(heavy)),
            "ratio": float(len(heavy)),
            "limit": 0.0,
            "ok": not heavy,
            "note": ("loaded: " + ", ".join(heavy))
            if heavy
            else "none of " + ", ".join(HEAVY) + " (counts, not us)",
        },
    ]
