"""Importing the user's flow modules: the one way the CLI and the docs extensions do it.

A package name imports its submodules too, so naming the top package finds every flow in it.
What it never imports on its own: a ``__main__`` module (running it would start the
application), a module that is a program (its first line is a ``#!`` line: a driver script
that reads ``sys.argv`` at import), and the names matching an ``exclude`` glob. A module named
explicitly is always imported. A failure becomes a `ModuleImportError` that says what to change: a
package missing from ``sys.path`` names the folders penstock added and the setting that adds
more; an error raised by the user's own code keeps its traceback, starting at the user's file.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import importlib
import importlib.util
import os
import pkgutil
import site
import sys
import sysconfig
import traceback
from collections.abc import Iterable
from types import ModuleType, TracebackType

from penstock._declared.registry import REGISTRY
from penstock._errors import DocsError

__all__ = ["ModuleImportError", "excluded", "import_modules", "is_missing_package"]


class ModuleImportError(DocsError):
    """A module of the user's could not be imported.

    Attributes:
        module: the dotted name that was imported.
        details: what to show under the one-line summary: the traceback from the user's code,
            or, when the module was not found, what was searched and what to change.
        location: ``file:line`` of the culprit (the line that raised, or the syntax error), or
            ``None`` when it cannot be told (a module not found).
        missing: the name Python could not find when the module itself (or its package) is not
            on ``sys.path``; ``None`` for an error inside the user's code.
    """

    def __init__(
        self, module: str, details: str, location: str | None = None, missing: str | None = None
    ) -> None:
        self.module = module
        self.details = details
        self.location = location
        self.missing = missing
        where = f" ({location})" if location else ""
        super().__init__(f"could not import module {module!r}{where}:\n{details}")

    @property
    def summary(self) -> str:
        """``ExceptionType: message at file:line`` on one line, for a list of failures."""
        lines = [line.strip() for line in self.details.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else "import failed"
        return f"{last} at {self.location}" if self.location else last


def import_modules(
    modules: Iterable[str],
    folders: Iterable[str | os.PathLike[str]] = (),
    *,
    fresh: bool = False,
    failures: list[ModuleImportError] | None = None,
    paths_setting: str = "paths",
    exclude: Iterable[str] = (),
) -> list[str]:
    """Import the modules (and a package's submodules); return every step's source file.

    Args:
        modules: dotted names to import.
        folders: put at the front of ``sys.path`` first (resolved to absolute paths).
        fresh: drop previously imported user modules (the listed ones, those that registered
            steps, and any module under ``folders``) and their steps before importing, so
            edits are seen: what a docs server needs before each rebuild.
        failures: when given, a module that fails is appended here and the others are still
            imported, so one broken module does not take every flow down with it.
        paths_setting: the setting that adds folders, named in the "not found" message.
        exclude: globs of dotted names (``fnmatch``, e.g. ``"shop.scripts.*"``) of submodules
            that importing a package skips, with everything under them.

    Raises:
        ModuleImportError: a module failed (only when ``failures`` is not given).
    """
    added = [os.path.abspath(os.fspath(f)) for f in folders]
    for folder in reversed(added):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    names = list(dict.fromkeys(modules))
    if fresh:
        _drop_user_modules(names, added)
    skip = tuple(exclude)
    for name in names:
        for error in _import_tree(name, added, paths_setting, skip):
            if failures is None:
                raise error from error.__cause__
            failures.append(error)
    return sorted({s.file for s in REGISTRY.all() if s.file and not s.file.startswith("<")})


def _import_tree(
    name: str, added: list[str], setting: str, exclude: tuple[str, ...]
) -> list[ModuleImportError]:
    """Import ``name``, then every submodule when it is a package; collect the failures."""
    errors: list[ModuleImportError] = []
    module = _import_one(name, added, setting, errors)
    if module is None or not hasattr(module, "__path__"):
        return errors
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        full = f"{name}.{info.name}"
        if info.name == "__main__" or excluded(full, exclude) or _is_program(info):
            continue
        errors.extend(_import_tree(full, added, setting, exclude))
    return errors


def excluded(name: str, globs: Iterable[str]) -> bool:
    """Whether the dotted ``name`` matches one of the ``exclude`` globs."""
    return any(fnmatch.fnmatchcase(name, glob) for glob in globs)


def _is_program(info: pkgutil.ModuleInfo) -> bool:
    """A module whose first line is ``#!``: a script made to be run, never a library.

    Importing such a driver (``orders/record.py`` reading ``sys.argv[1]``) would run it.
    """
    if info.ispkg:
        return False
    spec = info.module_finder.find_spec(info.name, None)
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return False
    try:
        with open(origin, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


def _import_one(
    name: str, added: list[str], setting: str, errors: list[ModuleImportError]
) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        missing = is_missing_package(name, exc)
        if missing is not None:
            error = ModuleImportError(
                name, _not_found(name, missing, added, setting), None, missing
            )
        else:
            error = ModuleImportError(name, _user_traceback(exc), _culprit(exc))
        error.__cause__ = exc
        errors.append(error)
        return None


def is_missing_package(name: str, exc: BaseException) -> str | None:
    """The name that was not found, when ``name`` itself (or a parent package) is missing.

    ``None`` when importing ``name`` failed inside the user's code instead.
    """
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    if name == exc.name or name.startswith(exc.name + "."):
        return exc.name
    return None


def _not_found(name: str, missing: str, added: list[str], setting: str) -> str:
    top = missing.split(".")[0]
    if missing != top:
        what = f"package {top!r} was found, but it has no module {missing!r}"
        fix = f"check the spelling of {name!r} (a module of package {top!r})"
    else:
        what = f"no module named {top!r} was found on sys.path"
        fix = f"add the folder that holds {top!r} with {setting}"
    folders = "".join(f"\n    {f}" for f in added) or " none"
    return f"{what}.\n  Folders penstock put on sys.path:{folders}\n  To fix it, {fix}."


def _internal(filename: str) -> bool:
    return (
        filename.startswith("<frozen")
        or os.sep + "importlib" + os.sep in filename
        or os.path.abspath(filename).startswith(_PENSTOCK_DIR)
    )


_PENSTOCK_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the first frame in the user's code (no importlib, no penstock)."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and _internal(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip("\n")


def _culprit(exc: BaseException) -> str | None:
    """``file:line`` of what made an import fail: the syntax error, else the deepest frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno or 0}"
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")
    ]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None


def _drop_user_modules(names: list[str], folders: list[str]) -> None:
    roots = {n.split(".")[0] for n in names}
    doomed = set(REGISTRY.modules())
    for mod_name, loaded in list(sys.modules.items()):
        if mod_name.split(".")[0] in roots:
            doomed.add(mod_name)
            continue
        file = getattr(loaded, "__file__", None)
        if (
            file
            and folders
            and any(_is_under(file, f) for f in folders)
            and not any(_is_under(file, d) for d in installed_dirs())
        ):
            doomed.add(mod_name)
    doomed = {
        d for d in doomed if d != "__main__" and d != "penstock" and not d.startswith("penstock.")
    }
    for mod_name in doomed:
        mod = sys.modules.pop(mod_name) if mod_name in sys.modules else None
        REGISTRY.forget_module(mod_name)
        file = getattr(mod, "__file__", None)
        if file and file.endswith(".py"):
            # A source edited within the same second with the same size would otherwise be
            # shadowed by its stale bytecode (pyc validation compares mtime seconds and size).
            with contextlib.suppress(OSError, ValueError, NotImplementedError):
                os.unlink(importlib.util.cache_from_source(file))
    importlib.invalidate_caches()


@functools.cache
def installed_dirs() -> tuple[str, ...]:
    """Where the interpreter keeps the standard library and installed packages.

    Never dropped by a fresh import, even under a project folder: a virtualenv kept in the
    project (``.venv/``) holds MkDocs and Markdown themselves, and importing those twice makes
    their classes differ from the ones already in use.
    """
    found = {
        path
        for key, path in sysconfig.get_paths().items()
        if key in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    found.update(getattr(site, "getsitepackages", list)())
    found.add(site.getusersitepackages())
    return tuple(sorted(os.path.abspath(d) for d in found if d))


def _is_under(file: str, folder: str) -> bool:
    # A prefix test, not os.path.commonpath: this runs for every entry of sys.modules on every
    # docs rebuild.
    return os.path.abspath(file).startswith(folder.rstrip(os.sep) + os.sep)
