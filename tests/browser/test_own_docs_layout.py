"""The layout of penstock's own site at a 1280 px wide window, measured in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.build import run_build
from tests.support.browser import Browser, StaticSite
from tests.support.system import ROOT


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    folder = tmp_path_factory.mktemp("own-docs-layout") / "site"
    run_build(["mkdocs", "build", "--strict", "-d", str(folder)], cwd=ROOT)
    with StaticSite(folder) as served:
        yield served


def evaluate(browser: Browser, url: str, script: str) -> Any:
    context = browser._browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        return page.evaluate(script)
    finally:
        context.close()


_BROKEN_CODE = """
() => [...document.querySelectorAll('.md-typeset td code')]
  .filter((c) => !/\\s/.test(c.textContent) && c.getClientRects().length > 1)
  .map((c) => c.textContent)
"""


@pytest.mark.parametrize(
    "page", ["backends/", "mkdocs/", "sphinx/", "cli/", "testing/", "concepts/"]
)
def test_code_in_table_cells_does_not_break_inside_a_name(
    site: StaticSite, browser: Browser, page: str
) -> None:
    """No `code` without spaces in a table cell is split over two lines."""
    assert evaluate(browser, site.url(page), _BROKEN_CODE) == []


_VERDICT = """
() => {
  const table = document.querySelector('.penstock-bench table');
  const heads = [...table.querySelectorAll('th')].map((th) => th.textContent.trim());
  const column = (name) => `tr > :nth-child(${heads.indexOf(name) + 1})`;
  const cells = (name) => [...table.querySelectorAll(column(name))];
  const right = (els) => Math.max(...els.map((el) => el.getBoundingClientRect().right));
  return {heads, ratio: right(cells('ratio')), ok: right(cells('ok')), width: innerWidth};
}
"""


def test_benchmarks_verdict_columns_are_visible(site: StaticSite, browser: Browser) -> None:
    """ratio, limit and ok are on screen without scrolling the table."""
    found = evaluate(browser, site.url("benchmarks/"), _VERDICT)
    assert {"ratio", "limit", "ok"} <= set(found["heads"])
    assert found["ok"] <= found["width"], found
    assert found["ratio"] <= found["width"], found


_COPIED = """
() => [...document.querySelectorAll('.md-typeset pre > code')].filter(
  (code) => code.querySelector('.gp')).map((code) => {
  // What Material's copy button does: mark the block, read its innerText.
  code.setAttribute('data-md-copying', '');
  const text = code.innerText;
  code.removeAttribute('data-md-copying');
  return text.trimEnd();
})
"""


def test_console_copy_buttons_copy_commands_only(site: StaticSite, browser: Browser) -> None:
    """The copied text of a console block has no prompt and no output lines."""
    copied = evaluate(browser, site.url("cli/"), _COPIED)
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


_WIDE_TABLES = """
() => [...document.querySelectorAll('.md-typeset table')].filter(
  (t) => t.getBoundingClientRect().width > t.closest('.md-content__inner')
    .getBoundingClientRect().width + 1 || t.scrollWidth > t.parentElement.clientWidth + 1
).map((t) => [t.querySelector('th') ? t.querySelector('th').textContent.trim() : '',
  Math.round(t.scrollWidth), Math.round(t.parentElement.clientWidth)])
"""


def test_no_table_is_wider_than_its_column(site: StaticSite, browser: Browser) -> None:
    """At 1280 px every table fits the text column (no sideways scrolling), the benchmark
    results too (benchmarks/RESULTS.md as `make bench` writes it: eight columns, long notes)."""
    context = browser._browser.new_context(viewport={"width": 1280, "height": 900})
    found = {}
    try:
        page = context.new_page()
        for name in _pages(site):
            page.goto(site.url(name), wait_until="load")
            wide = page.evaluate(_WIDE_TABLES)
            if wide:
                found[name] = wide
    finally:
        context.close()
    assert not found, found
