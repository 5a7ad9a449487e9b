"""Importing the user's flow modules once per build, and again only when their sources change.

A docs host may render every page with a new Markdown instance (Zensical does), so the state
lives here, shared by every extension instance configured with the same modules and paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from penstock.docs import ModuleImportError, load_modules

__all__ = ["ModuleLoader", "loader_for"]

_TRACEBACK_FILE = re.compile(r'File "([^"<>]+\.py)"')

Stamp = tuple[int, int]


class ModuleLoader:
    """Imports a fixed list of modules; remembers their source files and how they looked."""

    def __init__(self, modules: Sequence[str], paths: Sequence[str]) -> None:
        self.modules = tuple(modules)
        self.paths = tuple(paths)
        self.files: tuple[str, ...] = ()
        #: The modules that failed at the last load; the others were imported all the same.
        self.errors: list[ModuleImportError] = []
        #: Whether `errors` were reported already (once per load, not once per diagram).
        self.reported = False
        self.loads = 0
        self._stamps: dict[str, Stamp | None] = {}

    def load(self, *, fresh: bool) -> None:
        """Import the modules (dropping the previous imports first when ``fresh``).

        A module that fails is kept in `errors` and the others are imported all the same:
        the failure is reported once, and the flows of the healthy modules are still drawn.
        """
        self.loads += 1
        self.errors = []
        self.reported = False
        files = set(load_modules(self.modules, self.paths, fresh=fresh, failures=self.errors))
        for exc in self.errors:
            # Watch the files the traceback passes through: fixing the culprit retries.
            files.update(_TRACEBACK_FILE.findall(exc.details))
        self.files = tuple(sorted(files))
        self._stamps = {f: _stamp(f) for f in self.files}

    def ensure(self) -> None:
        """Load if never loaded, or load fresh when a source file changed since the last load."""
        if not self.loads:
            self.load(fresh=False)
        elif self.changed():
            self.load(fresh=True)

    def changed(self) -> bool:
        """True when a source file was edited, added or removed since the last load."""
        return any(_stamp(f) != stamp for f, stamp in self._stamps.items())


_LOADERS: dict[tuple[tuple[str, ...], tuple[str, ...]], ModuleLoader] = {}


def loader_for(modules: Sequence[str], paths: Sequence[str], base_dir: str = "") -> ModuleLoader:
    """The shared loader for these modules and paths (relative paths resolved from ``base_dir``)."""
    base = Path(base_dir or os.getcwd())
    folders = tuple(str((base / p).resolve()) for p in paths)
    key = (tuple(modules), folders)
    loader = _LOADERS.get(key)
    if loader is None:
        loader = _LOADERS[key] = ModuleLoader(*key)
    return loader


def _stamp(path: str) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
