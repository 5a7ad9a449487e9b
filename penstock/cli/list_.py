"""``penstock list``: the flows, their entrypoints and sizes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from penstock._graph.model import flows
from penstock._text import shown
from penstock.cli._common import command_options
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``list`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "list", parents=[command_options()], help="list flows, their entrypoints and sizes"
    )
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """One line per flow; a hint on how to name the modules when there is none."""
    all_flows = flows()
    if not all_flows:
        print(
            "no flows registered: name the modules that declare them with -m MODULE, or in "
            'pyproject.toml:\n\n[tool.penstock]\nmodules = ["your_package"]'
        )
        return ExitCode.OK
    # Names are shown with invisible and reordering characters (U+202E...) escaped.
    width = max(len(shown(n)) for n in all_flows)
    for name, g in all_flows.items():
        entries = ", ".join(shown(e) for e in g.entrypoints) or "(no entrypoint)"
        print(f"{shown(name):<{width}}  {len(g.steps):>4} steps  entrypoints: {entries}")
    return ExitCode.OK
