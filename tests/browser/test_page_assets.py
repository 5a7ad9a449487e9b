"""penstock's stylesheet and scripts only on the MkDocs pages that need them.

A site of three pages (a diagram on the home page, none on ``other/``, one in ``sub/page/``)
is built with Material, with Material and its instant navigation, and with MkDocs' own theme.
Without instant navigation the page without a diagram loads none of penstock's files (Mermaid
is about 3 MB) and the others draw offline; under instant navigation, which swaps a page's
content without loading that page's own scripts, every page links them, so a reader who starts
on the page without a diagram and follows a link still sees the next page's diagram drawn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser.build import run_build
from tests.support.browser import _ALL_SETTLED, _OPEN_SHADOW_ROOTS, Browser, StaticSite

FLOWS = """
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive_order(order): ...


@flow("orders")
@step(after=receive_order)
def ship_order(order): ...


@flow("refunds")
@entrypoint
def receive_refund(refund): ...


@flow("refunds")
@step(after=receive_refund)
def pay_back(refund): ...
"""

PAGES = {
    "index.md": "# Home\n\n::: penstock-flow orders\n\n[Other](other.md)\n",
    "other.md": "# Other\n\nNo diagram here. [Refunds](sub/page.md)\n",
    "sub/page.md": "# Refunds\n\n::: penstock-flow refunds\n",
}
#: The built pages, by source page.
HTML = {
    "index.md": "index.html",
    "other.md": "other/index.html",
    "sub/page.md": "sub/page/index.html",
}
THEMES = {
    "material": "  name: material\n  font: false\n",
    "instant": "  name: material\n  font: false\n  features: [navigation.instant]\n",
    "mkdocs": "  name: mkdocs\n  highlightjs: false\n",
}
_PENSTOCK_FILE = re.compile(
    r'<(?:script|link)\b[^>]*(?:src|href)="[^"]*(?:/penstock/|penstock\.css)[^"]*"'
)


def _write(root: Path, theme: str, url: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "pageflows.py").write_text(FLOWS)
    for name, text in PAGES.items():
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "mkdocs.yml").write_text(
        "site_name: assets\n"
        # Material's instant navigation follows the links its sitemap lists: the sitemap must
        # name the served address, port included.
        f"site_url: {url}\n"
        f"theme:\n{THEMES[theme]}"
        # MkDocs' theme fails on load without the search plugin's modal.
        "plugins:\n"
        "  - search\n"
        "  - penstock:\n"
        "      modules: [pageflows]\n"
        "      paths: [app]\n"
    )
    return root


def _build(root: Path) -> Path:
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    return root / "site"


@pytest.fixture(scope="module")
def sites(
    tmp_path_factory: pytest.TempPathFactory, build_pool: ThreadPoolExecutor
) -> Iterator[dict[str, StaticSite]]:
    """Each theme's site, built side by side, served on 127.0.0.1."""
    served: dict[str, StaticSite] = {}
    jobs: dict[str, Future[Path]] = {}
    for theme in THEMES:
        root = tmp_path_factory.mktemp(theme)
        (root / "site").mkdir()
        served[theme] = StaticSite(root / "site")
        jobs[theme] = build_pool.submit(_build, _write(root, theme, served[theme].url()))
    try:
        for job in jobs.values():
            job.result()
        yield served
    finally:
        for site in served.values():
            site.close()


def _linked(site: StaticSite, page: str) -> list[str]:
    return _PENSTOCK_FILE.findall((site.folder / HTML[page]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("theme", ["material", "mkdocs"])
def test_only_pages_with_a_diagram_link_penstock_files(
    sites: dict[str, StaticSite], browser: Browser, theme: str
) -> None:
    """The page without a diagram names no penstock file; the others draw, nested too."""
    site = sites[theme]
    assert _linked(site, "other.md") == []
    for page in ("index.md", "sub/page.md"):
        linked = " ".join(_linked(site, page))
        for name in ("penstock.css", "mermaid.min.js", "penstock-diagrams.js"):
            assert name in linked, (page, linked)
    assert 'href="../../assets/stylesheets/penstock/penstock.css"' in (
        site.folder / HTML["sub/page.md"]
    ).read_text(encoding="utf-8")
    home = browser.check_page(site.url(HTML["index.md"]))
    home.assert_clean(expected_diagrams=1)
    nested = browser.check_page(site.url(HTML["sub/page.md"]))
    nested.assert_clean(expected_diagrams=1)
    assert nested.diagrams[0].labels == ("receive_refund", "pay_back")


def test_page_without_a_diagram_loads_no_penstock_file(
    sites: dict[str, StaticSite], browser: Browser
) -> None:
    """In the browser too: no request for Mermaid or penstock's files from that page."""
    context = browser._browser.new_context()
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(sites["material"].url(HTML["other.md"]), wait_until="load")
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert requested, "the page loaded nothing"
    assert not [u for u in requested if "/penstock/" in u or "penstock.css" in u], requested


def test_instant_navigation_links_them_from_every_page_and_draws(
    sites: dict[str, StaticSite], browser: Browser
) -> None:
    """Under Material's instant navigation, from a page without a diagram to one with."""
    site = sites["instant"]
    for page in HTML:
        assert any("mermaid.min.js" in link for link in _linked(site, page)), page
    context = browser._browser.new_context()
    try:
        context.add_init_script(_OPEN_SHADOW_ROOTS)
        page = context.new_page()
        page.goto(site.url("other/"), wait_until="load")
        # Instant navigation starts once Material has read the sitemap.
        page.wait_for_timeout(1000)
        # A marker on the window survives instant navigation only: a full load would drop it.
        page.evaluate("() => { window.__penstockStayed = true; }")
        page.click("article a[href*='sub/page']")
        page.wait_for_function("() => location.pathname.includes('/sub/page/')", timeout=10_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.penstock-diagram .mermaid').length > 0",
            timeout=10_000,
        )
        page.wait_for_function(_ALL_SETTLED, timeout=20_000, polling=100)
        stayed = page.evaluate("() => window.__penstockStayed === true")
        fitted = page.evaluate(
            "() => [...document.querySelectorAll('.penstock-diagram')]"
            ".map((b) => b.getAttribute('data-penstock-fit'))"
        )
        labels = page.evaluate(
            "() => [...document.querySelector('.penstock-diagram .mermaid').shadowRoot"
            ".querySelectorAll('g.node')].map((n) => n.textContent.trim())"
        )
    finally:
        context.close()
    assert stayed, "the link was followed by a full page load, not instant navigation"
    assert labels == ["receive_refund", "pay_back"]
    assert fitted == ["natural"]
