"""Fixtures for the Sphinx extension's tests: Sphinx's own test app over small test roots."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sphinx.testing.fixtures import (  # noqa: F401 (fixtures are found by name)
    _shared_result_cache,
    app,
    app_params,
    make_app,
    shared_result,
    sphinx_test_tempdir,
    status,
    test_params,
    warning,
)

# Sphinx's fixtures, imported rather than loaded with `pytest_plugins`: pytest refuses that in a
# conftest below the top level when the whole suite runs, and the top-level conftest should not
# load Sphinx for every other test. The `sphinx` marker is registered in pyproject.toml.
from tests.support.mermaid import mermaid_oracle  # noqa: F401 (a fixture)

ROOTS = Path(__file__).parent / "roots"
#: The packages the test roots declare their flows in.
ROOT_PACKAGES = frozenset({"shop", "flawed"})

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where ``@pytest.mark.sphinx(testroot=NAME)`` finds ``roots/test-NAME``."""
    return ROOTS


@pytest.fixture(autouse=True)
def _restore_modules() -> Iterator[None]:
    """Modules a build dropped come back and the test roots' modules go, after each test.

    A build re-imports its modules afresh, which drops every module that declared steps
    (the example app's too); the registry itself is restored by the top-level fixture.
    """
    saved = dict(sys.modules)
    yield
    for name in list(sys.modules):
        if name not in saved and name.split(".")[0] in ROOT_PACKAGES:
            del sys.modules[name]
    for name, module in saved.items():
        sys.modules.setdefault(name, module)


def plain(text: str) -> str:
    """Build output without colour codes."""
    return _ANSI.sub("", text)
