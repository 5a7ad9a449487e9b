"""Run every ``benchmarks/bench_*.py`` and write one markdown table (``make bench``).

Usage (from the repository root)::

    python -m benchmarks [--quick] [--only NAME ...] [--processes N] [--output FILE]

A module that fails to import, raises, or returns malformed rows becomes a failed row: one
broken benchmark never hides the others' figures. Exit status 1 when any row is not ok.

Noise: one run of a module is one sample of a machine whose load changes by the second. By
default every module runs in ``--processes`` fresh interpreters (3; 1 with ``--quick``), in
interleaved rounds (round 1 runs every module once, then round 2, ...), so that a burst of load
from elsewhere lands on one sample of each module instead of on every sample of one. Each row
reports the run whose ratio is the median, and the ``spread`` column the lowest and highest
ratio over the processes, so that a reader sees how far a ratio can be trusted.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
COLUMNS = (
    "benchmark",
    "baseline",
    "baseline us",
    "penstock us",
    "ratio",
    "spread",
    "limit",
    "ok",
    "note",
)
#: Required keys of a row, with the types a value may have.
ROW_KEYS: dict[str, tuple[type, ...]] = {
    "benchmark": (str,),
    "baseline": (str,),
    "baseline_us": (int, float),
    "penstock_us": (int, float),
    "ratio": (int, float),
    "limit": (int, float),
    "ok": (bool,),
}

Row = dict[str, Any]


def discover(folder: Path = HERE) -> list[str]:
    """Names (``registry`` for ``bench_registry.py``) of every benchmark module, sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in folder.glob("bench_*.py"))


def failed(benchmark: str, why: str) -> Row:
    return {
        "benchmark": benchmark,
        "baseline": "-",
        "baseline_us": math.nan,
        "penstock_us": math.nan,
        "ratio": math.nan,
        "limit": math.nan,
        "ok": False,
        "note": why,
    }


def _last_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def validate(name: str, rows: object) -> list[Row]:
    """Rows as returned by a module, each malformed one replaced by a failed row saying why."""
    if not isinstance(rows, list) or not rows:
        return [
            failed(f"bench_{name}", f"run() returned {type(rows).__name__}, not a list of rows")
        ]
    out: list[Row] = []
    for i, row in enumerate(rows):
        label = f"bench_{name} row {i}"
        if not isinstance(row, dict):
            out.append(failed(label, f"row is {type(row).__name__}, not a dict"))
            continue
        problems = [
            f"{key} missing" if key not in row else f"{key} is {type(row[key]).__name__}"
            for key, types in ROW_KEYS.items()
            if key not in row
            or not isinstance(row[key], types)
            or (bool not in types and isinstance(row[key], bool))
        ]
        if "note" in row and not isinstance(row["note"], str):
            problems.append(f"note is {type(row['note']).__name__}")
        if problems:
            out.append(failed(str(row.get("benchmark", label)), "bad row: " + ", ".join(problems)))
        else:
            out.append(row)
    return out


def run_module(name: str, quick: bool, package: str = "benchmarks") -> list[Row]:
    """Import ``<package>.bench_<name>`` and run it; failures become failed rows."""
    module_name = f"{package}.bench_{name}"
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # a benchmark must never stop the others
        if isinstance(exc, KeyboardInterrupt):
            raise
        return [failed(f"bench_{name}", f"import failed: {_last_line(exc)}")]
    run = getattr(module, "run", None)
    if not callable(run):
        return [failed(f"bench_{name}", "no run(quick) function")]
    try:
        rows = run(quick=quick)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc(file=sys.stderr)
        return [failed(f"bench_{name}", f"run failed: {_last_line(exc)}")]
    return validate(name, rows)


#: The code benchmarks import in fresh processes (docs builds, the import time).
SOURCES = ("penstock", "penstock_mkdocs", "penstock_sphinx", "examples")


def run_module_process(
    name: str, quick: bool, package: str = "benchmarks", folder: Path = HERE
) -> list[Row]:
    """``run_module`` in a fresh interpreter: no state of an earlier module or round leaks in."""
    command = [sys.executable, "-m", "benchmarks", "--child", name, "--package", package]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(folder.parent)])}
    proc = subprocess.run(
        command + ["--quick"] * quick,
        cwd=HERE.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(proc.stderr)
    try:
        rows = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return [failed(f"bench_{name}", f"process exited {proc.returncode} without rows")]
    return validate(name, rows)


def combine(samples: Sequence[Sequence[Row]]) -> list[Row]:
    """One row per benchmark from several processes' rows: the median run, with the spread.

    Rows are matched by their ``benchmark`` label, in the order the first process reported them.
    The median is taken over ratios (not over each time separately), so the baseline and
    penstock figures shown are one consistent pair from one run. With an even count the upper
    median is shown: a row passes only if at least half the runs did.
    """
    by_label: dict[str, list[Row]] = {}
    for rows in samples:
        for row in rows:
            by_label.setdefault(str(row["benchmark"]), []).append(row)
    out: list[Row] = []
    for rows in by_label.values():
        measured = sorted((r for r in rows if not math.isnan(r["ratio"])), key=lambda r: r["ratio"])
        if not measured:
            out.append({**rows[0], "spread": "-"})
            continue
        median = measured[len(measured) // 2]
        ratios = [r["ratio"] for r in measured]
        combined = {**median, "spread": f"{_ratio(min(ratios))}-{_ratio(max(ratios))}"}
        if len(samples) == 1:
            combined["spread"] = "-"
        if len(measured) < len(samples):
            # A run that failed or lost the row cannot count as a pass.
            combined["ok"] = False
            lost = f"{len(samples) - len(measured)} of {len(samples)} runs gave no ratio"
            combined["note"] = f"{lost}; {combined.get('note', '')}".rstrip("; ")
        out.append(combined)
    return out


def compile_sources(root: Path = HERE.parent) -> None:
    """Write the bytecode of this checkout's packages, as ``pip install`` does for a wheel.

    An editable install under ``PYTHONDONTWRITEBYTECODE`` would otherwise compile penstock
    from source in every process a benchmark starts, while the tools it is compared with
    (MkDocs, Sphinx, Material) load their installed bytecode.
    """
    import compileall

    for name in SOURCES:
        if (root / name).is_dir():
            compileall.compile_dir(root / name, quiet=2)


def _number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _ratio(value: float) -> str:
    # Three decimals: a ratio of 1.047 against a limit of 1.05 must not read as 1.05.
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return f"{value:.3f}" if abs(value) < 100 else _number(value)


def _cell(text: object) -> str:
    # A pipe or line break inside a cell would break the table.
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(["---", "---", *["---:"] * 5, ":---:", "---"]) + "|",
    ]
    for row in rows:
        cells = [
            _cell(row["benchmark"]),
            _cell(row["baseline"]),
            _number(row["baseline_us"]),
            _number(row["penstock_us"]),
            _ratio(row["ratio"]),
            _cell(row.get("spread", "-")),
            _number(row["limit"]),
            "yes" if row["ok"] else "**NO**",
            _cell(row.get("note", "")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def machine_line() -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpus = os.cpu_count() or 0
    impl = platform.python_implementation()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {cpus} CPUs; "
        f"{impl} {platform.python_version()}; {now}"
    )


def main(
    argv: Sequence[str] | None = None, *, folder: Path = HERE, package: str = "benchmarks"
) -> int:
    """Run the benchmarks; ``folder``/``package`` name another collection (for tests)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only bench_NAME.py (repeatable; 'bench_' prefix optional)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="markdown file to write (default: %(default)s)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="fresh interpreters per module, in interleaved rounds (default: 3, 1 with --quick)",
    )
    parser.add_argument("--child", metavar="NAME", help=argparse.SUPPRESS)
    parser.add_argument("--package", default=package, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        # One module in this fresh interpreter; the parent reads the rows from the last line.
        print(json.dumps(run_module(args.child, args.quick, args.package)))
        return 0
    processes = args.processes or (1 if args.quick else 3)

    available = discover(folder)
    names = available
    rows: list[Row] = []
    if args.only:
        wanted = [n.removeprefix("bench_").removesuffix(".py") for n in args.only]
        names = [n for n in available if n in wanted]
        rows += [
            failed(f"bench_{n}", f"no benchmarks/bench_{n}.py; have: {', '.join(available)}")
            for n in wanted
            if n not in available
        ]
    if not names and not rows:
        rows.append(failed("benchmarks", "no benchmarks/bench_*.py found"))

    if folder == HERE:
        compile_sources()
    started = time.perf_counter()
    samples: dict[str, list[list[Row]]] = {name: [] for name in names}
    for round_ in range(processes):
        for name in names:
            print(f"round {round_ + 1}/{processes}: bench_{name} ...", file=sys.stderr, flush=True)
            if processes == 1:
                samples[name].append(run_module(name, args.quick, package))
            else:
                samples[name].append(run_module_process(name, args.quick, package, folder))
    for name in names:
        rows += combine(samples[name])
    took = time.perf_counter() - started

    options = " ".join(
        ["--quick"] * args.quick
        + [f"--only {n}" for n in (args.only or [])]
        + ([f"--processes {args.processes}"] if args.processes else [])
    )
    text = (
        "# Benchmark results\n\n"
        f"{machine_line()}; `python -m benchmarks{' ' + options if options else ''}` "
        f"took {took:.1f} s.\n\n"
        "Times are in microseconds; `ratio` must not exceed `limit`. "
        f"Each module ran {processes} time(s), in interleaved rounds"
        f"{' of fresh processes' if processes > 1 else ''}; a row shows the run with the median "
        "ratio, and `spread` the lowest and highest ratio over the runs.\n\n" + table(rows)
    )
    print(text)
    args.output.write_text(text, encoding="utf-8")
    bad = [r["benchmark"] for r in rows if not r["ok"]]
    if bad:
        print(f"{len(bad)} benchmark row(s) missed their target: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
