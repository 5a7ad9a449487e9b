"""Finding the real system components a test needs.

On a developer's machine a missing component skips the test with a reason; under CI
(``CI=true``) it fails instead, so a green CI run proves the real thing was exercised.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
NODE_MODULES = TOOLS / "node_modules"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str, how: str) -> NoReturn:
    """Skip (or fail under CI) because ``what`` is not available; ``how`` says how to get it."""
    msg = f"{what} is not available ({how})"
    if in_ci():
        pytest.fail(f"CI=true but {msg}", pytrace=False)
    pytest.skip(msg)


def require_executable(name: str, how: str) -> str:
    """Path of executable ``name``, else skip/fail."""
    path = shutil.which(name)
    if path is None:
        missing(f"the {name!r} executable", how)
    return path


def require_node_package(name: str) -> Path:
    """Folder of an npm package installed under tools/ (``make tools``), else skip/fail."""
    require_executable("node", "install Node.js, e.g. apt-get install nodejs npm")
    folder = NODE_MODULES / name
    if not (folder / "package.json").exists():
        missing(f"the npm package {name!r}", "run `make tools`")
    return folder
