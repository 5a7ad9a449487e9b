"""A diff diagram drawn by real Mermaid in headless Chromium: ``since: v1`` on a MkDocs page, and
the Markdown report's diagrams placed on a page as GitHub and GitLab would render them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.build import mermaid_dist, run_build
from tests.diff.conftest import Repo, repo
from tests.diff.test_docs_since import PAGE, in_git
from tests.diff.test_gate import Shop, shop
from tests.mkdocs.conftest import write_site
from tests.support.browser import Browser, StaticSite

__all__ = ["repo", "shop"]

CONFIG_EXTRA = {"extra_javascript": ["js/mermaid.min.js"]}


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo: Repo
) -> Iterator[StaticSite]:
    """A MkDocs site in a git checkout drawing `since: v1`, plus a page holding the Markdown
    report of the test repository's v1 -> v3 change, rendered with a local Mermaid."""
    root = write_site(
        tmp_path_factory.mktemp(f"since-m{request.param}"),
        {"index.md": PAGE, "report.md": _report(repo)},
        extra=CONFIG_EXTRA,
    )
    in_git(root)
    (root / "docs" / "js").mkdir()
    shutil.copy2(mermaid_dist(request.param) / "mermaid.min.js", root / "docs" / "js")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def _report(repo: Repo) -> str:
    out = repo.penstock("diff", "v1", "v3", "-f", "markdown")
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_since_diagram_renders_with_removed_steps_and_legend(
    site: StaticSite, browser: Browser
) -> None:
    """The highlighted flow renders: the kept removed step, the added one, the legend lines."""
    page = browser.check_page(site.url("index.html"))
    page.assert_clean(expected_diagrams=1)
    assert sorted(page.diagrams[0].labels) == sorted(["receive", "email", "fax"])
    legend = ["entrypoint: a run of the flow starts here", "added since v1", "removed since v1"]
    assert sorted(page.diagrams[0].legend) == sorted(legend)


def test_markdown_report_diagrams_render(site: StaticSite, browser: Browser) -> None:
    """Every diagram of a `penstock diff --format markdown` report renders in the browser."""
    page = browser.check_page(site.url("report/index.html"))
    page.assert_clean(expected_diagrams=3)
    orders = sorted(page.diagrams[1].labels)
    assert "legacy_fax" in orders
    assert "check\nrenamed from validate; now an entrypoint" in orders


@pytest.fixture(scope="module")
def traffic_site(tmp_path_factory: pytest.TempPathFactory, shop: Shop) -> Iterator[StaticSite]:
    """A page holding the Markdown report of a change, with the recorded traffic on it."""
    out = shop.penstock("diff", "v1", "v2", "-f", "markdown", "--observed", "runs.log")
    assert out.returncode == 0, out.stderr
    root = write_site(
        tmp_path_factory.mktemp("traffic"), {"index.md": out.stdout}, extra=CONFIG_EXTRA
    )
    (root / "docs" / "js").mkdir()
    shutil.copy2(mermaid_dist("11") / "mermaid.min.js", root / "docs" / "js")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def test_traffic_report_renders_with_counts_on_the_removed_edge(
    traffic_site: StaticSite, browser: Browser, tmp_path: Path
) -> None:
    """The "Still carrying traffic" report's diagram renders, the removed edge labelled."""
    page = browser.check_page(traffic_site.url(), screenshot=tmp_path / "traffic.png")
    page.assert_clean(expected_diagrams=1)
    (diagram,) = page.diagrams
    assert "3 calls" in diagram.edge_labels
    assert any(label.startswith("legacy_fax\n3 calls, last seen ") for label in diagram.labels)
    assert "accept_refund\nrenamed from approve_refund?" in diagram.labels
