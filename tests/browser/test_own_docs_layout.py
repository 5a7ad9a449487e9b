"""The layout of penstock's own site at a 1280 px wide window, measured in Chromium.

Each page is loaded once for these checks and test_own_docs.py's (see own_docs.py)."""

from __future__ import annotations

import re

import pytest

from tests.browser.own_docs import OwnDocsPages
from tests.support.browser import StaticSite


@pytest.fixture(scope="module")
def site(own_docs_pages: OwnDocsPages) -> StaticSite:
    """The site served; its pages are loaded once for all checks (see own_docs.py)."""
    return own_docs_pages.served


@pytest.mark.parametrize(
    "page", ["backends/", "mkdocs/", "sphinx/", "cli/", "testing/", "concepts/"]
)
def test_code_in_table_cells_does_not_break_inside_a_name(
    own_docs_pages: OwnDocsPages, page: str
) -> None:
    """No `code` without spaces in a table cell is split over two lines."""
    assert own_docs_pages.measure(page, "broken_code") == []


def test_benchmarks_verdict_columns_are_visible(own_docs_pages: OwnDocsPages) -> None:
    """ratio, limit and ok are on screen without scrolling the table."""
    found = own_docs_pages.measure("benchmarks/", "verdict")
    assert {"ratio", "limit", "ok"} <= set(found["heads"])
    assert found["ok"] <= found["width"], found
    assert found["ratio"] <= found["width"], found


def test_console_copy_buttons_copy_commands_only(own_docs_pages: OwnDocsPages) -> None:
    """The copied text of a console block has no prompt and no output lines."""
    copied = own_docs_pages.measure("cli/", "copied")
    assert copied, "the CLI page has console blocks"
    first = [line for line in copied[0].splitlines() if line.strip()]
    assert first == ["penstock --path examples -m bom_sync.consumer -m bom_sync.sync list"]
    for text in copied:
        lines = [line for line in text.splitlines() if line.strip()]
        assert all(line.startswith("penstock ") for line in lines), text


def _pages(site: StaticSite) -> list[str]:
    return sorted(
        p.relative_to(site.folder).as_posix()
        for p in site.folder.rglob("*.html")
        if p.name != "404.html"
    )


_ROW_AS_TEXT = re.compile(r"<p>\s*\|[^\n]*\|")
_HEADING_IN_TABLE = re.compile(r"<t[dh][^>]*>\s*#{1,6} ")
_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)


def test_the_site_renders_as_written(site: StaticSite) -> None:
    """No Markdown table row shown as text, no heading swallowed into a table, no literal
    role markup outside code."""
    found = []
    for page in _pages(site):
        text = (site.folder / page).read_text(encoding="utf-8")
        prose = _CODE.sub("", text)
        found += [f"{page}: table row as text: {m[:80]!r}" for m in _ROW_AS_TEXT.findall(prose)]
        found += [f"{page}: heading in a table: {m!r}" for m in _HEADING_IN_TABLE.findall(prose)]
        if ":penstock:flow:" in prose:
            found.append(f"{page}: literal :penstock:flow: outside code")
    assert not found, "\n".join(found)


def test_no_table_is_wider_than_its_column(site: StaticSite, own_docs_pages: OwnDocsPages) -> None:
    """At 1280 px every table fits the text column (no sideways scrolling), the benchmark
    results too (benchmarks/RESULTS.md as `make bench` writes it: eight columns, long notes)."""
    found = {}
    for name in _pages(site):
        wide = own_docs_pages.measure(name, "wide_tables")
        if wide:
            found[name] = wide
    assert not found, found
