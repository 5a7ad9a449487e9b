"""``penstock diff``: what changed in the flows between two revisions or dump files."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from penstock._errors import DiffError
from penstock._graph.compare import FlowsDiff, compare
from penstock._render.diff_report import format_json, format_markdown, format_mermaid, format_text
from penstock._render.mermaid import DIRECTIONS
from penstock._suggest import did_you_mean
from penstock._versions.revisions import load_versions
from penstock.cli._common import command_options
from penstock.cli._output import write
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]

DIFF_FORMATS = ("text", "markdown", "json", "mermaid")


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``diff`` on the command's subparsers."""
    diff = subparsers.add_parser(
        "diff",
        parents=[command_options()],
        help="what changed in the flows between two revisions or dump files",
        description=(
            "Compare the flows of OLD and NEW: each a git revision of the repository in the "
            "current folder, or a file written by `penstock dump`. NEW defaults to the working "
            "tree. A revision is checked out in a temporary worktree and loaded in a separate "
            "process, with its own [tool.penstock] configuration unless -m/--path are given."
        ),
    )
    diff.add_argument("old", metavar="OLD", help="a git revision or a dump file")
    diff.add_argument(
        "new",
        metavar="NEW",
        nargs="?",
        help="a git revision or a dump file (default: the working tree)",
    )
    diff.add_argument(
        "-f",
        "--format",
        choices=DIFF_FORMATS,
        default="text",
        help="text (default: a summary like git diff --stat), markdown (a pull-request comment "
        "with diagrams), json, or mermaid (one flow's diagram)",
    )
    diff.add_argument(
        "--exit-code", action="store_true", help="exit with 1 when any flow differs, else 0"
    )
    diff.add_argument(
        "--flow",
        action="append",
        metavar="NAME",
        help="compare only this flow (repeatable)",
    )
    diff.add_argument(
        "-d",
        "--direction",
        default="TD",
        type=str.upper,
        choices=DIRECTIONS,
        help="markdown/mermaid: diagram direction (default: TD)",
    )
    diff.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    # Each side is loaded in its own process, with its own configuration: nothing to import
    # in this one.
    diff.set_defaults(func=run, loads_modules=False)


def run(args: argparse.Namespace) -> int:
    """Compare, print in the chosen format, pick the exit status."""
    try:
        # Both sides are imported at the same time, each in its own process.
        old, new = load_versions([args.old, args.new], modules=args.module, paths=args.path)
        diff = compare(old.flows, new.flows, old_label=old.label, new_label=new.label)
        if args.flow:
            diff = _only(diff, args.flow)
        text = _format(diff, args)
    except DiffError as exc:
        sys.stderr.write(f"penstock diff: {exc}\n")
        return ExitCode.USAGE
    write(text, args.output)
    if args.exit_code and diff.changed:
        return ExitCode.PROBLEMS
    return ExitCode.OK


def _format(diff: FlowsDiff, args: argparse.Namespace) -> str:
    if args.format == "json":
        return format_json(diff)
    if args.format == "text":
        return format_text(diff)
    if args.format == "markdown":
        return format_markdown(diff, direction=args.direction)
    return format_mermaid(diff, direction=args.direction)


def _only(diff: FlowsDiff, wanted: list[str]) -> FlowsDiff:
    for name in wanted:
        if name not in diff.flows:
            hint = did_you_mean(name, diff.flows)
            known = ", ".join(diff.flows) or "none"
            raise DiffError(
                f"flow {name!r} is in neither {diff.old_label} nor {diff.new_label}{hint} "
                f"(flows: {known})"
            )
    kept = {name: d for name, d in diff.flows.items() if name in wanted}
    return FlowsDiff(flows=kept, old_label=diff.old_label, new_label=diff.new_label)
