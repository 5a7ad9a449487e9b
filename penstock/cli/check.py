"""``penstock check``: every problem in every flow; exit 1 if any (for CI)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from penstock._graph.checks import check
from penstock._graph.model import flows
from penstock.cli._common import command_options, print_problems
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``check`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "check", parents=[command_options()], help="report every problem; exit 1 if any"
    )
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Problems on standard output, a summary on standard error."""
    problems = check()
    print_problems(problems, args.sources)
    n = len(flows())
    if problems:
        broken = len({p.flow for p in problems if p.flow is not None})
        summary = f"{len(problems)} problem(s) in {broken} of {n} flow(s)"
        stray = sum(1 for p in problems if p.flow is None)
        if stray:
            summary += f" ({stray} of them: step(s) in no flow)"
        print(summary, file=sys.stderr)
        return ExitCode.PROBLEMS
    print(f"ok: {n} flow(s), no problems", file=sys.stderr)
    return ExitCode.OK
