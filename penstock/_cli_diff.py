"""The ``penstock dump`` and ``penstock diff`` commands (registered by `penstock.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from penstock._errors import DiffError
from penstock._graph.compare import FlowsDiff, compare
from penstock._graph.dump import dump_text
from penstock._render.diff_report import format_json, format_markdown, format_mermaid, format_text
from penstock._render.mermaid import DIRECTIONS
from penstock._suggest import did_you_mean
from penstock._versions.revisions import load_versions, worker_dump

__all__ = ["DIFF_FORMATS", "add_commands", "run_diff", "run_dump"]

DIFF_FORMATS = ("text", "markdown", "json", "mermaid")

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_USAGE = 2


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``dump`` and ``diff`` to the command's subparsers."""
    dump = sub.add_parser(
        "dump",
        parents=[common],
        help="write every flow as one JSON document (for penstock diff and other tools)",
    )
    dump.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    diff = sub.add_parser(
        "diff",
        parents=[common],
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


def run_dump(args: argparse.Namespace) -> int:
    """``penstock dump``: the modules given with -m (default: ``[tool.penstock]``), dumped."""
    here = Path.cwd()
    answer = worker_dump(args.module, args.path, here, here)
    if not answer.get("ok"):
        _report_failure(answer)
        return EXIT_USAGE
    _write(dump_text(answer["dump"]), args.output)
    return EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    """``penstock diff``: compare, print in the chosen format, pick the exit status."""
    try:
        # Both sides are imported at the same time, each in its own process.
        old, new = load_versions([args.old, args.new], modules=args.module, paths=args.path)
        diff = compare(old.flows, new.flows, old_label=old.label, new_label=new.label)
        if args.flow:
            diff = _only(diff, args.flow)
        text = _format(diff, args)
    except DiffError as exc:
        sys.stderr.write(f"penstock diff: {exc}\n")
        return EXIT_USAGE
    _write(text, args.output)
    if args.exit_code and diff.changed:
        return EXIT_DIFFERENT
    return EXIT_OK


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


def _report_failure(answer: dict[str, Any]) -> None:
    module, location = answer.get("module"), answer.get("location")
    if module:
        where = f" ({location})" if location else ""
        sys.stderr.write(f"penstock: could not import module {module!r}{where}:\n")
        sys.stderr.write(f"{answer.get('traceback') or answer.get('error')}\n")
    else:
        sys.stderr.write(f"penstock: {answer.get('error')}\n")


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
