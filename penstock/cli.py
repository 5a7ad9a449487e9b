"""The ``penstock`` command: list, draw, check and walk flows (for CI and humans)."""

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from penstock._cli_diff import add_commands, run_diff, run_dump
from penstock._cli_map import add_map_parser, run_map
from penstock._errors import FlowNotFoundError, ObservedError, PenstockError
from penstock._graph.checks import Problem, check
from penstock._graph.model import flows, get_flow
from penstock._project.config import ModuleSources, module_sources
from penstock._project.hints import missing_module_hints
from penstock._project.modules import ModuleImportError, import_modules
from penstock._render.branches import describe_path
from penstock._render.dag import FORMATS, generate_dag
from penstock._render.mermaid import DIRECTIONS

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _common_options(default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-m",
        "--module",
        action="append",
        default=default,
        metavar="MODULE",
        help="import MODULE before running (repeatable; a package imports its submodules); "
        "default: modules in [tool.penstock] of pyproject.toml",
    )
    common.add_argument(
        "--path",
        action="append",
        default=default,
        metavar="DIR",
        help="add DIR to sys.path before importing (repeatable); default: paths in "
        "[tool.penstock], else pyproject.toml's folder (and src/), and the current directory",
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

    allow = argparse.ArgumentParser(add_help=False)
    allow.add_argument(
        "--allow-problems",
        action="store_true",
        help="draw the flow even when penstock check reports problems in it",
    )

    sub.add_parser("list", parents=[common], help="list flows, their entrypoints and sizes")

    dag = sub.add_parser("dag", parents=[common, allow], help="print or write a flow's diagram")
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
    dag.add_argument(
        "--links", action="store_true", help="draw the flows this one is linked to as stubs"
    )
    dag.add_argument("--legend", action="store_true", help="add a legend of the shapes used")
    dag.add_argument("--collapse", action="store_true", help="one box per module (for big flows)")
    dag.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    dag.add_argument(
        "--check",
        action="store_true",
        help="with -o: do not write; exit 1 with a diff if FILE is not up to date",
    )

    sub.add_parser("check", parents=[common], help="report every problem; exit 1 if any")

    paths = sub.add_parser(
        "paths", parents=[common, allow], help="every path from an entrypoint to a final step"
    )
    paths.add_argument("flow")
    paths.add_argument(
        "--limit", type=int, default=10_000, help="stop after this many paths (default 10000)"
    )
    from penstock._cli_observe import add_parser as add_observe

    add_observe(sub, common)
    from penstock._cli_coverage import add_parser as add_coverage

    add_coverage(sub, common)
    add_map_parser(sub, common)
    add_commands(sub, common)
    return parser


def _load(args: argparse.Namespace) -> ModuleSources:
    """Import the modules of ``-m`` (else ``[tool.penstock]``); exit 2 naming the fix on failure."""
    cwd = os.getcwd()
    sources = module_sources(
        args.module,
        args.path,
        start=cwd,
        settings=("-m MODULE", "--path DIR"),
        # Like `python -m`: the current directory is importable unless --path says otherwise.
        fallback_folders=[cwd],
    )
    failures: list[ModuleImportError] = []
    import_modules(
        sources.modules, sources.folders, failures=failures, paths_setting=sources.paths_setting
    )
    if failures:
        for error in failures:
            print(f"penstock: {error}\n", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return sources


def _rerun(args: argparse.Namespace, *words: str) -> str:
    """A command line that reruns penstock with the same modules and paths: copy and run it."""
    parts = ["penstock"]
    for p in args.path:
        parts += ["--path", p]
    for m in args.module:
        parts += ["-m", m]
    return shlex.join([*parts, *words])


def _print_problems(problems: Sequence[Problem], sources: ModuleSources) -> None:
    for p in problems:
        print(p)
        for hint in missing_module_hints(p, sources):
            print(f"  {hint}")


def _refuse(args: argparse.Namespace, sources: ModuleSources) -> bool:
    """Report the flow's problems on stderr and return True, unless --allow-problems."""
    if args.allow_problems:
        return False
    problems = check(args.flow)
    if not problems:
        return False
    print(
        f"penstock {args.command}: flow {args.flow!r} has {len(problems)} problem(s):",
        file=sys.stderr,
    )
    for p in problems:
        print(f"  {p}", file=sys.stderr)
        for hint in missing_module_hints(p, sources):
            print(f"    {hint}", file=sys.stderr)
    verb = "draw" if args.command == "dag" else "walk"
    print(
        f"Fix them (all flows: {_rerun(args, 'check')}), or pass --allow-problems to "
        f"{verb} the flow anyway.",
        file=sys.stderr,
    )
    return True


def _cmd_list() -> int:
    all_flows = flows()
    if not all_flows:
        print(
            "no flows registered: name the modules that declare them with -m MODULE, or in "
            'pyproject.toml:\n\n[tool.penstock]\nmodules = ["your_package"]'
        )
        return EXIT_OK
    width = max(len(n) for n in all_flows)
    for name, g in all_flows.items():
        entries = ", ".join(g.entrypoints) or "(no entrypoint)"
        print(f"{name:<{width}}  {len(g.steps):>4} steps  entrypoints: {entries}")
    return EXIT_OK


def _cmd_dag(args: argparse.Namespace, sources: ModuleSources) -> int:
    if _refuse(args, sources):
        return EXIT_PROBLEMS
    text = generate_dag(
        args.flow,
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
        words = ["dag", args.flow, "-f", args.format, "-d", args.direction]
        if args.title is not None:
            words += ["--title", args.title]
        if args.show_docs:
            words.append("--show-docs")
        if args.allow_problems:
            words.append("--allow-problems")
        print(
            f"\n{out} is out of date with flow {args.flow!r}; regenerate it with:\n"
            f"  {_rerun(args, *words, '-o', str(out))}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return EXIT_OK


def _cmd_check(sources: ModuleSources) -> int:
    problems = check()
    _print_problems(problems, sources)
    n = len(flows())
    if problems:
        broken = len({p.flow for p in problems if p.flow is not None})
        summary = f"{len(problems)} problem(s) in {broken} of {n} flow(s)"
        stray = sum(1 for p in problems if p.flow is None)
        if stray:
            summary += f" ({stray} of them: step(s) in no flow)"
        print(summary, file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"ok: {n} flow(s), no problems", file=sys.stderr)
    return EXIT_OK


def _cmd_paths(args: argparse.Namespace, sources: ModuleSources) -> int:
    graph = get_flow(args.flow)
    if _refuse(args, sources):
        return EXIT_PROBLEMS
    found = graph.paths(limit=args.limit)
    for path in found:
        print(describe_path(graph, path))
    if len(found) >= args.limit:
        print(f"(stopped after {args.limit} paths; raise --limit)", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 problems found, 2 usage or import error)."""
    args = _build_parser().parse_args(argv)
    args.module = list(dict.fromkeys(args.module))
    if args.command == "diff":
        # Each side is loaded in its own process, with its own configuration.
        return run_diff(args)
    try:
        sources = _load(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    except PenstockError as exc:  # an invalid [tool.penstock]
        print(f"penstock: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "dag":
            return _cmd_dag(args, sources)
        if args.command == "check":
            return _cmd_check(sources)
        if args.command == "observe":
            from penstock._cli_observe import run as observe

            return observe(args)
        if args.command == "coverage":
            from penstock._cli_coverage import run as coverage

            return coverage(args)
        if args.command == "map":
            return run_map(args)
        if args.command == "dump":
            return run_dump(args)
        return _cmd_paths(args, sources)
    except FlowNotFoundError as exc:
        print(f"penstock: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ObservedError as exc:
        print(f"penstock {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PenstockError as exc:
        print(f"penstock: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
