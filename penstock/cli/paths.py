"""``penstock paths``: every path from an entrypoint to a final step of one flow."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from penstock._render.branches import describe_path
from penstock._text import shown
from penstock.cli._common import allow_problems_option, checked_flow, command_options
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``paths`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "paths",
        parents=[command_options(), allow_problems_option()],
        help="every path from an entrypoint to a final step",
    )
    cmd.add_argument("flow")
    cmd.add_argument(
        "--limit", type=int, default=10_000, help="stop after this many paths (default 10000)"
    )
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """One line per path; a note on stderr when ``--limit`` cut the list short."""
    graph = checked_flow(args)
    if graph is None:
        return ExitCode.PROBLEMS
    found = graph.paths(limit=args.limit)
    for path in found:
        print(shown(describe_path(graph, path)))  # names with U+202E and the like escaped
    if len(found) >= args.limit:
        print(f"(stopped after {args.limit} paths; raise --limit)", file=sys.stderr)
    return ExitCode.OK
