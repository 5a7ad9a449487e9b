"""Helpers for declaring flows in real, importable modules written to a temporary folder."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

ModuleMaker = Callable[[str, str], ModuleType]


@pytest.fixture
def make_module(tmp_path: Path) -> Iterator[ModuleMaker]:
    """Write ``source`` as module ``name`` under tmp_path and import it."""
    sys.path.insert(0, str(tmp_path))
    created: list[str] = []

    def make(name: str, source: str) -> ModuleType:
        path = tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(tmp_path).parents:
            init = tmp_path / parent / "__init__.py"
            if parent != Path(".") and not init.exists():
                init.write_text("")
        path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        sys.modules.pop(name, None)
        created.append(name)
        return importlib.import_module(name)

    yield make
    sys.path.remove(str(tmp_path))
    for name in created:
        sys.modules.pop(name, None)
        for mod in [m for m in sys.modules if m.startswith(name.split(".")[0] + ".")]:
            sys.modules.pop(mod, None)
