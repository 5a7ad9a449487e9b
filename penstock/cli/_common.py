"""What the commands share: the ``-m``/``--path``/``--exclude`` options, loading the modules.

Also refusing a broken flow, and the command line that reruns penstock with the same modules.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penstock._graph.checks import Problem, check_resolution
from penstock._graph.model import FlowGraph, resolve_flow
from penstock._project.config import ModuleSources, module_sources
from penstock._project.hints import missing_module_hints, shown_path
from penstock._project.modules import ModuleImportError, import_modules
from penstock.cli._status import ExitCode

__all__ = [
    "allow_problems_option",
    "checked_flow",
    "command_options",
    "load",
    "print_problems",
    "rerun",
    "source_options",
]

if TYPE_CHECKING:
    from typing import TypeAlias

    #: What `add_parser` of each command module receives. argparse names no public type for
    #: it, so the name exists for type checkers only.
    Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def source_options(default: Any) -> argparse.ArgumentParser:
    """A parent parser with ``-m MODULE``, ``--path DIR`` and ``--exclude GLOB``."""
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
    common.add_argument(
        "--exclude",
        action="append",
        default=default,
        metavar="GLOB",
        help="do not import the submodules of a package whose dotted name matches GLOB "
        "(repeatable, e.g. 'shop.scripts.*'); default: exclude in [tool.penstock]",
    )
    return common


def command_options() -> argparse.ArgumentParser:
    """The parent parser of every command.

    The options are accepted before and after the command; a command's copy must not reset
    what was given before it, hence SUPPRESS there.
    """
    return source_options(argparse.SUPPRESS)


def allow_problems_option() -> argparse.ArgumentParser:
    """A parent parser with ``--allow-problems`` (commands that draw or walk one flow)."""
    allow = argparse.ArgumentParser(add_help=False)
    allow.add_argument(
        "--allow-problems",
        action="store_true",
        help="draw the flow even when penstock check reports problems in it",
    )
    return allow


def load(args: argparse.Namespace) -> ModuleSources:
    """Import the modules of ``-m`` (else ``[tool.penstock]``); exit 2 naming the fix on failure."""
    cwd = os.getcwd()
    sources = module_sources(
        args.module,
        args.path,
        start=cwd,
        settings=("-m MODULE", "--path DIR"),
        # Like `python -m`: the current directory is importable unless --path says otherwise.
        fallback_folders=[cwd],
        exclude=args.exclude,
    )
    failures: list[ModuleImportError] = []
    import_modules(
        sources.modules,
        sources.folders,
        failures=failures,
        paths_setting=sources.paths_setting,
        exclude=sources.exclude,
    )
    if failures:
        for error in failures:
            print(f"penstock: {error}\n", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)
    return sources


def rerun(args: argparse.Namespace, *words: str) -> str:
    """A command line that reruns penstock with the same modules and paths: copy and run it."""
    parts = ["penstock"]
    for p in args.path:
        parts += ["--path", p]
    for m in args.module:
        parts += ["-m", m]
    for glob in args.exclude:
        parts += ["--exclude", glob]
    return shlex.join([*parts, *words])


def print_problems(problems: Sequence[Problem], sources: ModuleSources) -> None:
    """Each problem on standard output, with hints about modules left out."""
    for p in problems:
        # The file relative to the current folder, as the hints under it and compilers show it.
        print(f"{shown_path(Path(p.file))}:{p.line}: [{p.kind}] {p.message}")
        for hint in missing_module_hints(p, sources):
            print(f"  {hint}")


def checked_flow(args: argparse.Namespace) -> FlowGraph | None:
    """The graph of ``args.flow``, the command's one look-up of it by name.

    ``None`` when it has problems (reported on stderr), unless --allow-problems.

    Raises:
        FlowNotFoundError: no such flow.
    """
    res = resolve_flow(args.flow)
    if args.allow_problems:
        return res.graph
    problems = check_resolution(res)
    if not problems:
        return res.graph
    print(
        f"penstock {args.command}: flow {args.flow!r} has {len(problems)} problem(s):",
        file=sys.stderr,
    )
    for p in problems:
        print(f"  {p}", file=sys.stderr)
        for hint in missing_module_hints(p, args.sources):
            print(f"    {hint}", file=sys.stderr)
    verb = "draw" if args.command == "dag" else "walk"
    print(
        f"Fix them (all flows: {rerun(args, 'check')}), or pass --allow-problems to "
        f"{verb} the flow anyway.",
        file=sys.stderr,
    )
    return None
