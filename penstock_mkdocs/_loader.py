"""Importing the user's flow modules once per build, and again only when their sources change.

A docs host may render every page with a new Markdown instance (Zensical does), so the state
lives here, shared by every extension instance configured with the same modules and paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from penstock.docs import ModuleImportError, ModuleSources, load_modules, module_sources

__all__ = ["SETTINGS", "ModuleLoader", "loader_for", "sources_for"]

_TRACEBACK_FILE = re.compile(r'File "([^"<>]+\.py)"')

Stamp = tuple[int, int]


class ModuleLoader:
    """Imports a fixed list of modules; remembers their source files and how they looked."""

    def __init__(
        self, modules: Sequence[str], paths: Sequence[str], paths_setting: str = "paths"
    ) -> None:
        self.modules = tuple(modules)
        self.paths = tuple(paths)
        #: How users add folders, named when a module is not found.
        self.paths_setting = paths_setting
        #: Where the modules and folders came from, for hints about a module left out.
        self.sources: ModuleSources | None = None
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
        files = set(
            load_modules(
                self.modules,
                self.paths,
                fresh=fresh,
                failures=self.errors,
                paths_setting=self.paths_setting,
                exclude=self.sources.exclude if self.sources is not None else (),
            )
        )
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


_LOADERS: dict[tuple[tuple[str, ...], tuple[str, ...], str], ModuleLoader] = {}

#: How the extension's own settings are named in messages, when no host names them.
SETTINGS = ("the penstock_mkdocs option 'modules'", "the penstock_mkdocs option 'paths'")


def sources_for(
    modules: Sequence[str],
    paths: Sequence[str],
    base_dir: str = "",
    settings: tuple[str, str] = SETTINGS,
) -> ModuleSources:
    """What to import: the given settings, else ``[tool.penstock]`` of the project.

    The search for ``pyproject.toml`` starts at ``base_dir`` (``mkdocs.yml``'s folder), and
    relative ``paths`` are resolved from it; without ``paths``, ``base_dir`` is on ``sys.path``
    too.

    Raises:
        penstock.ProjectConfigError: the ``pyproject.toml`` found is invalid.
    """
    base = Path(base_dir or os.getcwd())
    # Like the penstock command in the current folder: mkdocs.yml's folder is importable.
    return module_sources(
        modules, paths, start=base, base_dir=base, settings=settings, fallback_folders=[base]
    )


def loader_for(sources: ModuleSources) -> ModuleLoader:
    """The shared loader of these sources (one per modules, folders and settings)."""
    key = (sources.modules, sources.folders, sources.paths_setting)
    loader = _LOADERS.get(key)
    if loader is None:
        loader = _LOADERS[key] = ModuleLoader(*key)
        loader.sources = sources
    return loader


def _stamp(path: str) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
