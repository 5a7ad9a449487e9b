"""The layout of penstock's own site at a 1280 px wide window, measured in Chromium."""

from __future__ import annotations

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
