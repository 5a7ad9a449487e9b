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
        self.error: ModuleImportError | None = None
        self.loads = 0
        self._stamps: dict[str, Stamp | None] = {}

    def load(self, *, fresh: bool) -> None:
        """Import the modules (dropping the previous imports first when ``fresh``).

        An import failure is kept in `error` rather than raised: each diagram reports it
        where it is drawn.
        """
        self.loads += 1
        self.error = None
        try:
            files = load_modules(self.modules, self.paths, fresh=fresh)
        except ModuleImportError as exc:
            self.error = exc
            # Watch the files the traceback passes through: fixing the culprit retries.
            files = sorted(set(_TRACEBACK_FILE.findall(exc.details)))
        self.files = tuple(files)
        self._stamps = {f: _stamp(f) for f in self.files}

    def ensure(self) -> None:
        """Load if never loaded, or load fresh when a source file changed since the last load.

        Raises:
            ModuleImportError: the last import failed.
        """
        if not self.loads:
            self.load(fresh=False)
        elif self.changed():
            self.load(fresh=True)
        if self.error is not None:
            raise self.error

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
