"""``penstock dag``: print or write one flow's diagram, or check that a file is up to date."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penstock._render.dag import FORMATS, generate_dag
from penstock._render.mermaid import DIRECTIONS
from penstock.cli._common import allow_problems_option, checked_flow, command_options, rerun
from penstock.cli._output import write
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]

#: Every option that shapes the diagram, declared once: the parser is built from it, and so is
#: the command ``dag --check`` suggests to regenerate a file (a flag left out of that command
#: would regenerate a different diagram, which the next check rejects again). Each entry:
#: the option strings, `add_argument`'s keywords, whether the suggestion always spells it out.
_SHAPING: tuple[tuple[tuple[str, ...], dict[str, Any], bool], ...] = (
    (("-f", "--format"), {"choices": FORMATS, "default": "mermaid"}, True),
    (
        ("-d", "--direction"),
        {
            "default": "TD",
            "type": str.upper,
            "choices": DIRECTIONS,
            "help": "layout direction (default: TD)",
        },
        True,
    ),
    (("--title",), {"help": "Mermaid only: a title above the diagram"}, False),
    (("--show-docs",), {"action": "store_true", "help": "show docstring summaries"}, False),
    (
        ("--links",),
        {"action": "store_true", "help": "draw the flows this one is linked to as stubs"},
        False,
    ),
    (("--legend",), {"action": "store_true", "help": "add a legend of the shapes used"}, False),
    (
        ("--collapse",),
        {"action": "store_true", "help": "one box per module (for big flows)"},
        False,
    ),
)


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``dag`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "dag",
        parents=[command_options(), allow_problems_option()],
        help="print or write a flow's diagram",
    )
    cmd.add_argument("flow")
    for flags, options, _ in _SHAPING:
        cmd.add_argument(*flags, **options)
    cmd.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    cmd.add_argument(
        "--check",
        action="store_true",
        help="with -o: do not write; exit 1 with a diff if FILE is not up to date",
    )
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Draw the flow; with ``--check``, compare with ``-o FILE`` instead of writing it."""
    graph = checked_flow(args)
    if graph is None:
        return ExitCode.PROBLEMS
    text = generate_dag(
        graph,
        format=args.format,
        direction=args.direction,
        title=args.title,
        show_docs=args.show_docs,
        links=args.links,
        legend=args.legend,
        collapse=args.collapse,
    )
    if args.output is None:
        if args.check:
            print("penstock dag: --check needs -o FILE to compare with", file=sys.stderr)
            return ExitCode.USAGE
        write(text)
        return ExitCode.OK
    if not args.check:
        write(text, args.output)
        return ExitCode.OK
    out = Path(args.output)
    current = out.read_text(encoding="utf-8") if out.exists() else ""
    if current == text:
        return ExitCode.OK
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"{out} (on disk)",
        tofile=f"{out} (from code)",
    )
    sys.stdout.writelines(diff)
    print(
        f"\n{out} is out of date with flow {args.flow!r}; regenerate it with:\n"
        f"  {rerun(args, 'dag', args.flow, *shaping_words(args), '-o', str(out))}",
        file=sys.stderr,
    )
    return ExitCode.PROBLEMS


def shaping_words(args: argparse.Namespace) -> list[str]:
    """The options of ``args`` that shaped the diagram, as words of a command line."""
    words: list[str] = []
    for flags, options, always in _SHAPING:
        dest = flags[-1].lstrip("-").replace("-", "_")
        value = getattr(args, dest)
        if options.get("action") == "store_true":
            if value:
                words.append(flags[-1])
        elif always or value != options.get("default"):
            words += [flags[0], str(value)]
    if args.allow_problems:
        words.append("--allow-problems")
    return words
