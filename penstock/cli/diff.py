"""``penstock diff``: what changed in the flows between two revisions or dump files."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from penstock._errors import DiffError, PenstockError
from penstock._graph.compare import FlowsDiff, compare
from penstock._observed.traffic import DiffTraffic, diff_traffic, file_tally
from penstock._render.diff_report import (
    DEFAULT_MAX_CHARS,
    format_json,
    format_markdown,
    format_mermaid,
    format_text,
)
from penstock._render.mermaid import DIRECTIONS
from penstock._suggest import did_you_mean
from penstock._versions.revisions import DEFAULT_TIMEOUT, Interrupted, load_versions
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
    diff.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up loading a version after this long (default: {DEFAULT_TIMEOUT:g}; "
        "0: no limit); exit 2",
    )
    diff.add_argument(
        "--max-chars",
        type=_count,
        default=None,
        metavar="N",
        help=f"markdown: keep the comment under N characters (default: {DEFAULT_MAX_CHARS:,}, "
        "under GitHub's comment limit; 0: no limit)",
    )
    diff.add_argument(
        "--full-report",
        metavar="WHERE",
        help="markdown: where the full report is when --max-chars cut it (an artifact's name)",
    )
    observed = diff.add_argument_group(
        "traffic", "what recorded runs did on the removed and changed steps and edges"
    )
    observed.add_argument(
        "--observed",
        nargs="+",
        metavar="FILE",
        help="recorded runs of the OLD flows: JSON log lines or OTLP JSON files, .gz, globs "
        "(as for penstock observe)",
    )
    observed.add_argument("--since", metavar="ISO-TIME", help="only calls that started at or after")
    observed.add_argument("--until", metavar="ISO-TIME", help="only calls that started before")
    observed.add_argument(
        "--fail-on-live-removal",
        action="store_true",
        help="exit 1 when the change removes a step or edge the recorded runs took",
    )
    # Each side is loaded in its own process, with its own configuration: nothing to import
    # in this one.
    diff.set_defaults(func=run, loads_modules=False)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of characters, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more characters, got {text!r}")
    return value


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {text!r}")
    return value or None


def run(args: argparse.Namespace) -> int:
    """``penstock diff``: compare, print in the chosen format, pick the exit status.

    Exit status: 0 no change (or no ``--exit-code``), 1 flows changed (``--exit-code``) or a
    live removal (``--fail-on-live-removal``), 2 for every error, a timeout, a signal and any
    crash: 1 must only ever mean "the flows changed".
    """
    try:
        return _diff(args)
    except Interrupted as exc:
        sys.stderr.write(
            f"penstock diff: stopped by {signal.Signals(exc.signum).name}; the loader processes "
            "were killed and the temporary checkouts removed\n"
        )
        return ExitCode.USAGE
    except KeyboardInterrupt:
        sys.stderr.write("penstock diff: interrupted\n")
        return ExitCode.USAGE
    except PenstockError as exc:
        sys.stderr.write(f"penstock diff: {exc}\n")
        return ExitCode.USAGE
    except Exception as exc:  # a crash must not read as "flows changed" (exit 1)
        import traceback

        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(
            f"penstock diff: internal error ({type(exc).__name__}); please report it\n"
        )
        return ExitCode.USAGE


def _diff(args: argparse.Namespace) -> int:
    if (args.since or args.until or args.fail_on_live_removal) and not args.observed:
        option = "--fail-on-live-removal" if args.fail_on_live_removal else "--since/--until"
        raise DiffError(f"{option} needs --observed FILE... (the recorded runs to read)")
    # Both sides are imported at the same time, each in its own process.
    old, new = load_versions(
        [args.old, args.new],
        modules=args.module,
        paths=args.path,
        exclude=args.exclude,
        timeout=args.timeout,
    )
    diff = compare(
        old.flows,
        new.flows,
        old_label=old.label,
        new_label=new.label,
        old_bodies=old.bodies,
        new_bodies=new.bodies,
    )
    if args.flow:
        diff = _only(diff, args.flow)
    traffic = None
    if args.observed:
        tally = file_tally(args.observed, since=args.since, until=args.until)
        traffic = diff_traffic(
            diff, tally, since=args.since, until=args.until, sources=args.observed
        )
    text = _format(diff, args, traffic)
    write(text, args.output)
    if traffic is not None and args.fail_on_live_removal:
        live = traffic.live_removals(diff)
        if live:
            sys.stderr.write(
                f"penstock diff: the change removes {len(live)} step(s) or edge(s) that recorded "
                f"runs took ({traffic.window_text()}):\n"
            )
            for removal in live:
                sys.stderr.write(f"  {removal}\n")
            return ExitCode.PROBLEMS
    if args.exit_code and diff.changed:
        return ExitCode.PROBLEMS
    return ExitCode.OK


def _format(diff: FlowsDiff, args: argparse.Namespace, traffic: DiffTraffic | None) -> str:
    if args.format == "json":
        return format_json(diff, traffic)
    if args.format == "text":
        return format_text(diff, traffic)
    if args.format == "markdown":
        limit = DEFAULT_MAX_CHARS if args.max_chars is None else (args.max_chars or None)
        return format_markdown(
            diff,
            direction=args.direction,
            traffic=traffic,
            max_chars=limit,
            full_report=args.full_report,
        )
    return format_mermaid(diff, direction=args.direction, traffic=traffic)


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
