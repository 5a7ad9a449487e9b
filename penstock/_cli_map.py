"""``penstock map``: every flow as one box, the hand-overs between flows as edges."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from penstock._render.map import flow_map, render_map
from penstock._render.mermaid import DIRECTIONS

__all__ = ["add_map_parser", "run_map"]


def add_map_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``map`` command on the CLI's subparsers."""
    cmd = sub.add_parser(
        "map", parents=[common], help="every flow as one box, with the links between flows"
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


def run_map(args: argparse.Namespace) -> int:
    """Print or write the map; 0 on success."""
    text = render_map(flow_map(args.prefix), args.format, args.direction)
    if args.output is None:
        sys.stdout.write(text)
    else:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return 0
