"""``penstock coverage``: flow coverage of recorded runs, and combined coverage reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penstock.cli._common import command_options
from penstock.cli._output import write
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]

FORMATS = ("text", "json", "markdown", "mermaid")


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``coverage`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "coverage",
        parents=[command_options()],
        help="which declared steps, edges, branches and paths recorded runs exercised",
        description="Read recorded runs (JSON log lines or OTLP JSON, as penstock observe "
        "does) and report the flow coverage they show, as the pytest plugin does for tests; "
        "with --combine, combine coverage reports (JSON) instead.",
    )
    cmd.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="recorded runs (log or OTLP JSON files, .gz too, globs); with --combine, "
        "coverage reports written with --penstock-cov-report=json:PATH or -f json",
    )
    cmd.add_argument(
        "--combine",
        action="store_true",
        help="FILEs are coverage reports: report their union, and what each covers alone "
        "(tested but never used in production, and the reverse)",
    )
    cmd.add_argument(
        "--flow",
        action="append",
        default=[],
        metavar="NAME",
        help="only this flow (repeatable); default: every declared flow",
    )
    cmd.add_argument("-f", "--format", choices=FORMATS, default="text")
    cmd.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write to PATH instead of stdout (a folder for -f mermaid: one file per flow)",
    )
    cmd.add_argument(
        "--skip-covered", action="store_true", help="text: leave out fully covered flows"
    )
    cmd.add_argument(
        "--fail-under",
        type=float,
        metavar="PCT",
        help="exit 1 when less than PCT percent of the declared edges are covered",
    )
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Measure (or combine) and report; penstock errors are the CLI's to report."""
    # Only this command pays for the coverage computation and reading recorded runs.
    from penstock._coverage.combine import combine
    from penstock._coverage.compute import report
    from penstock._coverage.model import read_report
    from penstock._coverage.recorded import hits_from_files
    from penstock._errors import CoverageError
    from penstock._graph.model import flows
    from penstock._suggest import did_you_mean

    graphs = flows()
    notes: list[str] = []
    if args.combine:
        loaded = [(str(f), read_report(str(f))) for f in args.files]
        result = combine(loaded)
        if args.flow:
            result = _only(result, args.flow)
    else:
        if not graphs:
            raise CoverageError(
                "no flows declared: name the modules that declare them with -m MODULE, or in "
                'pyproject.toml:\n\n[tool.penstock]\nmodules = ["your_package"]'
            )
        if args.flow:
            for name in args.flow:
                if name not in graphs:
                    raise CoverageError(
                        f"--flow {name}: no such flow{did_you_mean(name, sorted(graphs))}"
                    )
            graphs = {k: v for k, v in graphs.items() if k in args.flow}
        read = hits_from_files(graphs, args.files)
        result = report(graphs, read.hits, source="recorded runs", root=str(Path.cwd()))
        notes.append(
            f"{read.records:,} step record(s) of {len(result.flows)} flow(s) in "
            f"{len(read.files)} file(s)"
        )
        if read.other_flows:
            names = ", ".join(sorted(read.other_flows)[:5])
            notes.append(f"{sum(read.other_flows.values()):,} record(s) of other flows ({names})")
        if read.skipped:
            notes.append(f"{sum(read.skipped.values()):,} input record(s) skipped")
    _write(args, result, graphs)
    for note in notes:
        print(f"penstock coverage: {note}", file=sys.stderr)
    if args.fail_under is not None:
        percent = result.totals()["edges"].percent or 0.0
        if percent < args.fail_under:
            print(
                f"FAIL Required flow coverage of {args.fail_under:g}% (edges) not reached. "
                f"Total edge coverage: {percent:.2f}%",
                file=sys.stderr,
            )
            return ExitCode.PROBLEMS
    return ExitCode.OK


def _only(result: Any, wanted: list[str]) -> Any:
    from dataclasses import replace

    from penstock._errors import CoverageError
    from penstock._suggest import did_you_mean

    for name in wanted:
        if name not in result.flows:
            hint = did_you_mean(name, sorted(result.flows))
            raise CoverageError(f"--flow {name}: no such flow in the reports{hint}")
    return replace(result, flows={k: v for k, v in result.flows.items() if k in wanted})


def _write(args: argparse.Namespace, result: Any, graphs: Any) -> None:
    from penstock._coverage.combine import only_in
    from penstock._coverage.drawing import coverage_mermaid
    from penstock._coverage.markdown import markdown_text
    from penstock._coverage.text import table_text
    from penstock._errors import CoverageError

    what = "production" if result.source == "recorded runs" else "the runs"
    if args.format == "mermaid":
        if not args.output:
            raise CoverageError("-f mermaid writes one file per flow: give a folder with -o DIR")
        folder = Path(args.output)
        folder.mkdir(parents=True, exist_ok=True)
        for name, fc in result.flows.items():
            if name in graphs:
                text = coverage_mermaid(graphs[name], fc, what=what)
                (folder / f"{_file_name(name)}.mmd").write_text(text, encoding="utf-8")
        return
    if args.format == "json":
        text = result.text()
    elif args.format == "markdown":
        text = markdown_text(result, graphs)
    else:
        text = table_text(result, missing=True, skip_covered=args.skip_covered)
        for source in result.sources:
            for flow, items in only_in(result, source).items():
                text += f"\n{flow}: covered only by {source}\n"
                for kind, item in items:
                    singular = "branch" if kind == "branches" else kind[:-1]
                    text += f"  {singular:<6}  {item.label(kind)}\n"
    write(text, args.output)


def _file_name(flow: str) -> str:
    import re

    return re.sub(r"[^\w.-]+", "_", flow).strip("._") or "flow"
