"""The ``penstock`` command: list, draw, check and walk flows (for CI and humans).

One module per command (``list_``, ``check``, ``dag``, ``paths``, ``observe``, ``coverage``,
``map_``, ``dump``, ``diff``),
each with ``add_parser(subparsers)`` declaring its arguments and ``run(args) -> int`` doing the
work; ``add_parser`` binds ``run`` with ``set_defaults(func=run)``, so adding a command is a new
module and one line in `COMMANDS`. Output goes through `penstock.cli._output`; every command
exits with an `ExitCode`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from penstock._errors import FlowNotFoundError, ObservedError, PenstockError
from penstock._version import __version__

# list_ and map_: a submodule named list or map would be bound over the builtin in this
# package's namespace once imported.
from penstock.cli import check, coverage, dag, diff, dump, list_, map_, observe, paths
from penstock.cli._common import load, source_options
from penstock.cli._status import ExitCode

__all__ = ["COMMANDS", "ExitCode", "build_parser", "main"]

#: The command modules, in the order ``penstock --help`` lists them.
COMMANDS = (list_, dag, check, paths, observe, coverage, map_, dump, diff)


def build_parser() -> argparse.ArgumentParser:
    """The ``penstock`` argument parser, with every command of `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="penstock",
        description="Draw, check and list the business flows declared with penstock.",
        parents=[source_options([])],
    )
    parser.add_argument("--version", action="version", version=f"penstock {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status.

    See `ExitCode`: 0 ok, 1 problems found, 2 usage or import error.
    """
    args = build_parser().parse_args(argv)
    args.module = list(dict.fromkeys(args.module))
    if getattr(args, "loads_modules", True):
        try:
            args.sources = load(args)
        except SystemExit as exc:
            return int(exc.code or 0)
        except PenstockError as exc:  # an invalid [tool.penstock]
            print(f"penstock: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    try:
        return int(args.func(args))
    except FlowNotFoundError as exc:
        print(f"penstock: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except ObservedError as exc:
        print(f"penstock {args.command}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except PenstockError as exc:
        print(f"penstock: {exc}", file=sys.stderr)
        return ExitCode.USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
