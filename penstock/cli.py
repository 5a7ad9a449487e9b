"""The ``penstock`` command: list, draw, check and walk flows (for CI and humans)."""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from penstock._errors import FlowNotFoundError, ObservedError, PenstockError
from penstock._graph.checks import check
from penstock._graph.model import flows, get_flow
from penstock._render.dag import FORMATS, generate_dag
from penstock._render.mermaid import DIRECTIONS

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class _ImportFailed(Exception):
    def __init__(self, module: str, text: str) -> None:
        super().__init__(module)
        self.module = module
        self.text = text


def _common_options(default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-m",
        "--module",
        action="append",
        default=default,
        metavar="MODULE",
        help="import MODULE before running (repeatable); its decorators register the flows",
    )
    common.add_argument(
        "--path",
        action="append",
        default=default,
        metavar="DIR",
        help="add DIR to sys.path before importing (repeatable; default: the current directory)",
    )
    return common


def _build_parser() -> argparse.ArgumentParser:
    # The options are accepted before and after the command; a subcommand's copy must not
    # reset what was given before it, hence SUPPRESS there.
    parser = argparse.ArgumentParser(
        prog="penstock",
        description="Draw, check and list the business flows declared with penstock.",
        parents=[_common_options([])],
    )
    common = _common_options(argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("list", parents=[common], help="list flows, their entrypoints and sizes")

    dag = sub.add_parser("dag", parents=[common], help="print or write a flow's diagram")
    dag.add_argument("flow")
    dag.add_argument("-f", "--format", choices=FORMATS, default="mermaid")
    dag.add_argument(
        "-d",
        "--direction",
        default="TD",
        type=str.upper,
        choices=DIRECTIONS,
        help="layout direction (default: TD)",
    )
    dag.add_argument("--title", help="Mermaid only: a title above the diagram")
    dag.add_argument("--show-docs", action="store_true", help="show docstring summaries")
    dag.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    dag.add_argument(
        "--check",
        action="store_true",
        help="with -o: do not write; exit 1 with a diff if FILE is not up to date",
    )

    sub.add_parser("check", parents=[common], help="report every problem; exit 1 if any")

    paths = sub.add_parser(
        "paths", parents=[common], help="every path from an entrypoint to a final step"
    )
    paths.add_argument("flow")
    paths.add_argument(
        "--limit", type=int, default=10_000, help="stop after this many paths (default 10000)"
    )
    from penstock._cli_observe import add_parser as add_observe

    add_observe(sub, common)
    return parser


def _import_modules(modules: Sequence[str], paths: Sequence[str]) -> None:
    # Like `python -m`: the current directory is importable unless --path says otherwise.
    for p in reversed(list(paths) or [os.getcwd()]):
        resolved = str(Path(p).resolve())
        if resolved not in sys.path:
            sys.path.insert(0, resolved)
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise _ImportFailed(name, traceback.format_exc()) from exc


def _cmd_list() -> int:
    all_flows = flows()
    if not all_flows:
        print("no flows registered (import the modules that declare them with -m MODULE)")
        return EXIT_OK
    width = max(len(n) for n in all_flows)
    for name, g in all_flows.items():
        entries = ", ".join(g.entrypoints) or "(no entrypoint)"
        print(f"{name:<{width}}  {len(g.steps):>4} steps  entrypoints: {entries}")
    return EXIT_OK


def _cmd_dag(args: argparse.Namespace) -> int:
    text = generate_dag(
        args.flow,
        format=args.format,
        direction=args.direction,
        title=args.title,
        show_docs=args.show_docs,
    )
    if args.output is None:
        if args.check:
            print("penstock dag: --check needs -o FILE to compare with", file=sys.stderr)
            return EXIT_USAGE
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.output)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current == text:
            return EXIT_OK
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{out} (on disk)",
            tofile=f"{out} (from code)",
        )
        sys.stdout.writelines(diff)
        print(
            f"\n{out} is out of date with flow {args.flow!r}; regenerate it with:\n"
            f"  penstock dag {args.flow} -f {args.format} -d {args.direction} -o {out}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return EXIT_OK


def _cmd_check() -> int:
    problems = check()
    for p in problems:
        print(p)
    n = len(flows())
    if problems:
        print(f"{len(problems)} problem(s) in {n} flow(s)", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"ok: {n} flow(s), no problems", file=sys.stderr)
    return EXIT_OK


def _cmd_paths(args: argparse.Namespace) -> int:
    graph = get_flow(args.flow)
    found = graph.paths(limit=args.limit)
    for path in found:
        print(" -> ".join(path))
    if len(found) >= args.limit:
        print(f"(stopped after {args.limit} paths; raise --limit)", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 problems found, 2 usage or import error)."""
    args = _build_parser().parse_args(argv)
    args.module = list(dict.fromkeys(args.module))
    try:
        _import_modules(args.module, args.path)
    except _ImportFailed as exc:
        print(f"penstock: could not import module {exc.module!r}:\n", file=sys.stderr)
        print(exc.text, file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "dag":
            return _cmd_dag(args)
        if args.command == "check":
            return _cmd_check()
        if args.command == "observe":
            from penstock._cli_observe import run as observe

            return observe(args)
        return _cmd_paths(args)
    except FlowNotFoundError as exc:
        print(f"penstock: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ObservedError as exc:
        print(f"penstock observe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PenstockError as exc:
        print(f"penstock: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
