"""``penstock observe``: recorded runs laid over a declared flow."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from penstock.cli._common import command_options
from penstock.cli._output import write
from penstock.cli._status import ExitCode

if TYPE_CHECKING:
    from penstock.cli._common import Subparsers

__all__ = ["add_parser", "run"]

FORMATS = ("text", "json", "mermaid")


def add_parser(subparsers: Subparsers) -> None:
    """Declare ``observe`` on the command's subparsers."""
    cmd = subparsers.add_parser(
        "observe",
        parents=[command_options()],
        help="count what recorded runs did on a flow (JSON log lines or OTLP JSON files)",
    )
    cmd.add_argument("flow")
    cmd.add_argument("files", nargs="*", metavar="FILE", help="log or OTLP JSON files (.gz too)")
    cmd.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="ask a trace store instead of reading files: "
        "clickhouse://USER@HOST:PORT/DATABASE?table=otel_traces (clickhouses:// for TLS; "
        "password from $PENSTOCK_CLICKHOUSE_PASSWORD) or chdb:PATH",
    )
    cmd.add_argument(
        "--show-sql",
        action="store_true",
        help="with --from: print the query penstock sends, and send nothing",
    )
    cmd.add_argument("-f", "--format", choices=FORMATS, default="text")
    cmd.add_argument("--since", metavar="ISO-TIME", help="only calls that started at or after")
    cmd.add_argument("--until", metavar="ISO-TIME", help="only calls that started before")
    cmd.add_argument(
        "--run",
        metavar="CORRELATION_ID",
        help="replay one run (its ID or a unique prefix); --since/--until do not apply",
    )
    cmd.add_argument(
        "-d", "--direction", default="TD", type=str.upper, help="mermaid: layout direction"
    )
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Tally (or replay) the recorded runs; errors are the CLI's to report."""
    # Only this command pays for reading recorded runs.
    from penstock._graph.model import get_flow
    from penstock._observed.replay import replay_run
    from penstock._observed.report import replay_text, summary_text
    from penstock._observed.tally import observe
    from penstock._render.mermaid import render_mermaid
    from penstock._render.observed import drift_messages, observed_overlay, replay_overlay

    graph = get_flow(args.flow)
    sources = _sources(args)
    if args.show_sql:
        return _show_sql(args, graph.name)
    if args.run is not None:
        one = replay_run(graph, sources, args.run)
        if args.format == "json":
            write(json.dumps(one.as_dict(), indent=2, ensure_ascii=False) + "\n")
        elif args.format == "mermaid":
            drawn, overlay = replay_overlay(graph, one)
            write(render_mermaid(drawn, direction=args.direction, overlay=overlay))
        else:
            write(replay_text(one))
        return ExitCode.OK
    observed = observe(graph, sources, since=args.since, until=args.until)
    if args.format == "json":
        write(json.dumps(observed.as_dict(), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "mermaid":
        drawn, overlay = observed_overlay(graph, observed)
        write(render_mermaid(drawn, direction=args.direction, overlay=overlay))
        for message in drift_messages(graph, observed):
            print(f"warning: {message}", file=sys.stderr)
    else:
        write(summary_text(observed))
    return ExitCode.OK


def _sources(args: argparse.Namespace) -> list[str]:
    """The files, or the one store ``--from`` names (exactly one of them)."""
    from penstock._errors import ObservedError
    from penstock._observed.store_url import is_store

    if args.source is None:
        if not args.files:
            raise ObservedError("give the recorded-runs files, or a trace store with --from URL")
        return list(args.files)
    if args.files:
        raise ObservedError(
            f"--from reads a trace store: give no files with it (got {len(args.files)})"
        )
    if not is_store(args.source):
        raise ObservedError(
            f"--from {args.source!r} is not a trace store URL: use "
            "clickhouse://USER@HOST:PORT/DATABASE?table=otel_traces, clickhouses://... or chdb:PATH"
        )
    return [args.source]


def _show_sql(args: argparse.Namespace, flow: str) -> int:
    from penstock._errors import ObservedError
    from penstock._observed.store import tally_query
    from penstock._observed.store_url import parse_store
    from penstock._observed.tally import to_epoch

    if args.source is None:
        raise ObservedError("--show-sql prints the query sent to a store: give --from URL")
    store = parse_store(args.source)
    low, high = to_epoch(args.since, "since"), to_epoch(args.until, "until")
    write(f"-- flow {flow!r}, {store.display()}\n{tally_query(store, flow, low, high)}\n")
    return ExitCode.OK
