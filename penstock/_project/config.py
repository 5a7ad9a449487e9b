"""The project's own penstock settings: the ``[tool.penstock]`` table of ``pyproject.toml``.

One table for every tool that needs the user's modules (the ``penstock`` command, the MkDocs
plugin and Markdown extension, the Sphinx extension)::

    [tool.penstock]
    modules = ["shop"]     # a package imports its submodules too
    paths = ["src"]        # put on sys.path, relative to this file
    exclude = ["shop.scripts.*"]  # submodules a package must not import (globs of names)
    coverage = true        # pytest measures flow coverage without --penstock-cov

The search starts at a folder the tool knows (the current folder, ``mkdocs.yml``'s or
``conf.py``'s) and walks up to the first ``pyproject.toml``. Settings given to a tool itself
(``-m``/``--path``, the plugin's ``modules``/``paths``, ``penstock_modules``/``penstock_paths``)
win over the table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from penstock._errors import ProjectConfigError
from penstock._suggest import did_you_mean

__all__ = ["KEYS", "PYPROJECT", "ModuleSources", "ProjectConfig", "find_project", "module_sources"]

PYPROJECT = "pyproject.toml"
#: The keys ``[tool.penstock]`` accepts.
KEYS = ("modules", "paths", "exclude", "coverage")


@dataclass(frozen=True)
class ProjectConfig:
    """What a ``pyproject.toml`` says about penstock.

    Attributes:
        file: the ``pyproject.toml`` that was read.
        modules: the dotted names of ``modules`` (empty when unset).
        paths: the folders to put on ``sys.path``, absolute: those of ``paths``, else the
            file's folder and its ``src/`` folder when the project uses the src layout.
        has_table: whether the file has a ``[tool.penstock]`` table at all.
        exclude: globs of dotted module names that importing a package skips.
        coverage: ``coverage = true``: the pytest plugin measures flow coverage without
            ``--penstock-cov``.
    """

    file: Path
    modules: tuple[str, ...] = ()
    paths: tuple[Path, ...] = ()
    has_table: bool = False
    exclude: tuple[str, ...] = ()
    coverage: bool = False

    @property
    def root(self) -> Path:
        """The project folder: where ``pyproject.toml`` is."""
        return self.file.parent


def find_project(start: str | os.PathLike[str]) -> ProjectConfig | None:
    """Read the first ``pyproject.toml`` found in ``start`` or a folder above it.

    Returns:
        The configuration, or ``None`` when no ``pyproject.toml`` is found.

    Raises:
        ProjectConfigError: the file is not valid TOML, or ``[tool.penstock]`` has an unknown
            key or a value of the wrong type.
    """
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file():
            return _read(candidate)
    return None


def _read(file: Path) -> ProjectConfig:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProjectConfigError(f"{file}: cannot read it as TOML: {exc}") from None
    table = data.get("tool", {}).get("penstock") if isinstance(data.get("tool"), dict) else None
    root = file.parent
    default_paths = (root, root / "src") if (root / "src").is_dir() else (root,)
    if table is None:
        return ProjectConfig(file, paths=default_paths)
    where = f"{file} [tool.penstock]"
    if not isinstance(table, dict):
        raise ProjectConfigError(f"{where}: must be a table, got {table!r}")
    for key in table:
        if key not in KEYS:
            raise ProjectConfigError(
                f"{where}: unknown key {key!r}{did_you_mean(key, KEYS)} (keys: {', '.join(KEYS)})"
            )
    modules = _strings(table.get("modules", []), "modules", where)
    paths = _strings(table.get("paths", []), "paths", where)
    exclude = _strings(table.get("exclude", []), "exclude", where)
    folders = tuple((root / p).resolve() for p in paths) if paths else default_paths
    coverage = table.get("coverage", False)
    if not isinstance(coverage, bool):
        raise ProjectConfigError(f"{where}: coverage must be true or false, got {coverage!r}")
    return ProjectConfig(
        file,
        tuple(modules),
        folders,
        has_table=True,
        exclude=tuple(exclude),
        coverage=coverage,
    )


def _strings(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ProjectConfigError(
            f'{where}: {key} must be a list of strings, e.g. {key} = ["shop"]; got {value!r}'
        )
    return list(value)


@dataclass(frozen=True)
class ModuleSources:
    """Which modules a tool imports and which folders it puts on ``sys.path``, and why.

    Attributes:
        modules: the dotted names to import.
        folders: absolute folders for the front of ``sys.path``, in order.
        project: the project configuration found, if any.
        modules_setting: where ``modules`` came from, as a user would change it.
        paths_setting: where ``folders`` came from, as a user would change it.
        exclude: globs of dotted names that importing a package skips.
    """

    modules: tuple[str, ...]
    folders: tuple[str, ...]
    project: ProjectConfig | None
    modules_setting: str
    paths_setting: str
    exclude: tuple[str, ...] = ()

    @property
    def unlisted(self) -> tuple[str, ...]:
        """Modules of ``[tool.penstock]`` that the tool's own setting left out."""
        if self.project is None:
            return ()
        return tuple(m for m in self.project.modules if m not in self.modules)


def module_sources(
    modules: Sequence[str],
    paths: Sequence[str | os.PathLike[str]],
    *,
    start: str | os.PathLike[str],
    base_dir: str | os.PathLike[str] | None = None,
    settings: tuple[str, str] = ("modules", "paths"),
    fallback_folders: Sequence[str | os.PathLike[str]] = (),
    exclude: Sequence[str] = (),
) -> ModuleSources:
    """Merge a tool's own settings with the project's: the tool's win, setting by setting.

    Args:
        modules: the modules the tool was given (empty: take the project's).
        paths: the folders the tool was given, relative to ``base_dir`` (empty: the project's).
        start: where the search for ``pyproject.toml`` starts.
        base_dir: what relative ``paths`` are resolved from (default: ``start``).
        settings: how the tool names its modules and paths settings, for messages
            (e.g. ``("-m MODULE", "--path DIR")``).
        fallback_folders: folders used when neither the tool nor a project gives any.
        exclude: the globs the tool was given (empty: the project's ``exclude``).

    Raises:
        ProjectConfigError: the ``pyproject.toml`` found is invalid.
    """
    project = find_project(start)
    base = Path(base_dir if base_dir is not None else start)
    mod_setting, path_setting = settings
    where = f"[tool.penstock] in {_shown(project.file)}" if project is not None else ""
    if modules:
        names = tuple(dict.fromkeys(modules))
        modules_from = mod_setting
    else:
        names = project.modules if project is not None else ()
        modules_from = f"modules in {where}" if project is not None and names else mod_setting
    folders: list[Path]
    if paths:
        folders = [(base / p).resolve() for p in paths]
        paths_from = path_setting
    elif project is not None:
        folders = list(project.paths)
        paths_from = f"paths in {where}" if project.has_table else f"{path_setting} (or {where})"
        folders.extend(Path(f).resolve() for f in fallback_folders)
    else:
        folders = [Path(f).resolve() for f in fallback_folders]
        paths_from = path_setting
    unique = tuple(dict.fromkeys(str(f) for f in folders))
    if not exclude and project is not None:
        exclude = project.exclude
    return ModuleSources(
        names, unique, project, modules_from, paths_from, tuple(dict.fromkeys(exclude))
    )


def _shown(file: Path) -> str:
    try:
        return os.path.relpath(file)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(file)
