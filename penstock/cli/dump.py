"""``penstock dump``: every flow as one JSON document (for ``penstock diff`` and other tools)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penstock._graph.dump import dump_text
from penstock._versions.revisions import worker_dump
from penstock.cli._common import command_options
from penstock.cli._output import write
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``dump`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "dump",
        parents=[command_options()],
        help="write every flow as one JSON document (for penstock diff and other tools)",
    )
    cmd.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The modules given with -m (default: ``[tool.penstock]``), dumped."""
    here = Path.cwd()
    answer = worker_dump(args.module, args.path, here, here, exclude=args.exclude)
    if not answer.get("ok"):
        _report_failure(answer)
        return ExitCode.USAGE
    write(dump_text(answer["dump"]), args.output)
    return ExitCode.OK


def _report_failure(answer: dict[str, Any]) -> None:
    module, location = answer.get("module"), answer.get("location")
    if module:
        where = f" ({location})" if location else ""
        sys.stderr.write(f"penstock: could not import module {module!r}{where}:\n")
        sys.stderr.write(f"{answer.get('traceback') or answer.get('error')}\n")
    else:
        sys.stderr.write(f"penstock: {answer.get('error')}\n")
