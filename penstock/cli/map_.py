"""``penstock map``: every flow as one box, the hand-overs between flows as edges."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from penstock._render.map import flow_map, render_map
from penstock._render.mermaid import DIRECTIONS
from penstock.cli._common import command_options
from penstock.cli._output import write
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``map`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "map",
        parents=[command_options()],
        help="every flow as one box, with the links between flows",
    )
    cmd.add_argument("-f", "--format", choices=("mermaid", "dot", "json"), default="mermaid")
    cmd.add_argument(
        "-d",
        "--direction",
        default="LR",
        type=str.upper,
        choices=DIRECTIONS,
        help="layout direction (default: LR)",
    )
    cmd.add_argument(
        "--prefix",
        action="append",
        metavar="MODULE",
        help="only flows with a step in MODULE or below it (e.g. myapp.billing; repeatable)",
    )
    cmd.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the map."""
    write(render_map(flow_map(args.prefix), args.format, args.direction), args.output)
    return ExitCode.OK
