"""Hints for problems that come from a module left out, not from a wrong declaration.

An ``unknown-after`` naming a step whose module was never imported, or a flow whose entrypoint
lives in such a module, looks like a typo but is fixed by importing one more module. The
project's folders are searched (as text, nothing is imported) for the missing definition.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from penstock._graph.checks import Problem, ProblemKind
from penstock._project.config import ModuleSources

__all__ = ["missing_module_hints", "shown_path"]

#: Folders never searched: environments, caches, build output.
_SKIP = {"__pycache__", "node_modules", "site-packages", "build", "dist", "venv", "env"}
#: Enough for a real project; a home folder on sys.path must not make a check slow.
_MAX_FILES = 5000


def missing_module_hints(
    problem: Problem, sources: ModuleSources, modules_option: str | None = "-m"
) -> list[str]:
    """Lines to print under ``problem`` when a module that was not imported would fix it.

    Args:
        problem: a problem `penstock.check` reported.
        sources: what was imported, and from which settings.
        modules_option: the command-line option that names a module (``-m``); ``None`` for a
            docs build, whose hints name the setting in ``sources.modules_setting`` instead.
    """
    replaced_by = modules_option or sources.modules_setting
    if problem.kind is ProblemKind.UNKNOWN_AFTER:
        label = _after_label(problem.message)
        if label is None:
            return []
        pattern = re.compile(rf"^\s*(?:async\s+)?def\s+{re.escape(label)}\s*\(", re.M)
        what = f"{label!r} is defined"
    elif problem.kind is ProblemKind.NO_ENTRYPOINT and problem.flow is not None:
        quoted = re.escape(problem.flow)
        pattern = re.compile(rf"""flow\(\s*["']{quoted}["'][^\n]*\n(?:\s*@.*\n)*?\s*@entrypoint""")
        what = f"an @entrypoint of flow {problem.flow!r} is declared"
    else:
        return []
    lines = []
    for module, file in _unimported(sources.folders):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if pattern.search(text):
            owner = next(
                (u for u in sources.unlisted if module == u or module.startswith(u + ".")), None
            )
            listed = (
                f" ({owner!r} is in [tool.penstock] modules; {replaced_by} replaced them)"
                if owner is not None
                else ""
            )
            if modules_option is None:
                fix = f"add {module!r} to {sources.modules_setting}"
            else:
                fix = f"add {modules_option} {module}" + (
                    "" if listed else ", or add it to modules in [tool.penstock]"
                )
            lines.append(
                f"hint: {what} in {shown_path(file)}, module {module!r}{listed}, which was not "
                f"imported: {fix}"
            )
    if not lines and sources.unlisted:
        names = ", ".join(sources.unlisted)
        lines.append(
            f"hint: [tool.penstock] modules also lists {names}, not imported because "
            f"{replaced_by} was given"
        )
    return lines


def _after_label(message: str) -> str | None:
    match = re.search(r"runs after '([^']+)'", message)
    return match[1] if match else None


def _unimported(folders: Sequence[str]) -> Iterator[tuple[str, Path]]:
    imported = {
        os.path.abspath(f)
        for m in list(sys.modules.values())
        if isinstance(f := getattr(m, "__file__", None), str)
    }
    seen = 0
    visited: set[Path] = set()
    # Deepest folders first: src/shop/x.py is module shop.x, not src.shop.x.
    for folder in sorted(folders, key=lambda f: -len(Path(f).parts)):
        root = Path(folder)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and d not in _SKIP and d.isidentifier()
            )
            for name in sorted(filenames):
                if not name.endswith(".py") or name == "__main__.py":
                    continue
                seen += 1
                if seen > _MAX_FILES:
                    return
                path = Path(dirpath, name)
                if path in visited:
                    continue
                visited.add(path)
                if str(path.resolve()) in imported:
                    continue
                module = _module_name(root, path)
                if module is not None:
                    yield module, path


def _module_name(root: Path, path: Path) -> str | None:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    # A file in a folder without __init__.py is importable only as a namespace package.
    return ".".join(parts)


def shown_path(file: Path) -> str:
    """``file`` relative to the current folder when it is under it, else absolute."""
    try:
        shown = os.path.relpath(file)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(file)
    # ../../../tmp/x.py says less than /tmp/x.py
    return str(file) if shown.startswith(os.pardir + os.sep) else shown
