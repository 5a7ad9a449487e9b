"""The browser suite: one headless Chromium per package, sites built once per module, and
penstock's own docs site built once per session (shared by every worker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.build import run_build
from tests.browser.own_docs import OwnDocsPages
from tests.support.browser import Browser, StaticSite, browser
from tests.support.shared import once
from tests.support.system import ROOT

__all__ = ["browser", "own_docs", "own_docs_pages"]


@pytest.fixture(scope="session")
def own_docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The repository's docs built as `make docs` builds them: the site folder and the log."""

    def build(folder: Path) -> str:
        site = folder / "site"
        done = run_build(["mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT)
        return done.stdout + done.stderr

    folder, log = once(tmp_path_factory, "own-docs", build)
    return folder / "site", str(log)


@pytest.fixture(scope="package")
def own_docs_pages(own_docs: tuple[Path, str], browser: Browser) -> Iterator[OwnDocsPages]:
    """The own docs site served, each page loaded once for all the checks that read it."""
    with StaticSite(own_docs[0]) as served:
        yield OwnDocsPages(own_docs[0], served, browser)
