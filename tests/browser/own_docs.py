"""penstock's own docs site, each page loaded once in Chromium for every check that reads it.

The site is built once per session (see conftest.py) and served once per worker. A page is
loaded the first time a test asks for it, at 1280x900: the load reports what
`Browser.check_page` reports (diagrams, errors, requests) and runs every layout script of
`SCRIPTS` on the settled page, so the offline check and the layout checks of one page share a
single load. Each test still asserts on its own part of the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.browser import Browser, PageReport, StaticSite

#: The window the layout checks measure in.
VIEWPORT = (1280, 900)

#: Table cells' `code` without spaces that wrapped over two lines.
BROKEN_CODE = """
() => [...document.querySelectorAll('.md-typeset td code')]
  .filter((c) => !/\\s/.test(c.textContent) && c.getClientRects().length > 1)
  .map((c) => c.textContent)
"""

#: The benchmark table's headings and where its ratio and ok columns end, beside the width.
VERDICT = """
() => {
  const table = document.querySelector('.penstock-bench table');
  const heads = [...table.querySelectorAll('th')].map((th) => th.textContent.trim());
  const column = (name) => `tr > :nth-child(${heads.indexOf(name) + 1})`;
  const cells = (name) => [...table.querySelectorAll(column(name))];
  const right = (els) => Math.max(...els.map((el) => el.getBoundingClientRect().right));
  return {heads, ratio: right(cells('ratio')), ok: right(cells('ok')), width: innerWidth};
}
"""

#: What Material's copy button copies from each console block (one with prompts).
COPIED = """
() => [...document.querySelectorAll('.md-typeset pre > code')].filter(
  (code) => code.querySelector('.gp')).map((code) => {
  // What Material's copy button does: mark the block, read its innerText.
  code.setAttribute('data-md-copying', '');
  const text = code.innerText;
  code.removeAttribute('data-md-copying');
  return text.trimEnd();
})
"""

#: Tables wider than the text column, or scrolling sideways.
WIDE_TABLES = """
() => [...document.querySelectorAll('.md-typeset table')].filter(
  (t) => t.getBoundingClientRect().width > t.closest('.md-content__inner')
    .getBoundingClientRect().width + 1 || t.scrollWidth > t.parentElement.clientWidth + 1
).map((t) => [t.querySelector('th') ? t.querySelector('th').textContent.trim() : '',
  Math.round(t.scrollWidth), Math.round(t.parentElement.clientWidth)])
"""

SCRIPTS = {
    "broken_code": BROKEN_CODE,
    "verdict": VERDICT,
    "copied": COPIED,
    "wide_tables": WIDE_TABLES,
}

# Every script runs; one that throws (no benchmark table on this page) reports its error,
# which only a test asking for that script's result sees.
_ALL = (
    "() => {\n  const run = (f) => { try { return {value: f()}; } "
    "catch (e) { return {error: String(e)}; } };\n  return {"
    + ", ".join(f"{name}: run({script.strip()})" for name, script in SCRIPTS.items())
    + "};\n}"
)


def page_file(page: str) -> str:
    """The file a page address serves: ``cli/`` is ``cli/index.html``, ``""`` the home page."""
    return page + "index.html" if page == "" or page.endswith("/") else page


class OwnDocsPages:
    """The served site and the pages loaded so far, by file (``cli/index.html``)."""

    def __init__(self, folder: Path, served: StaticSite, browser: Browser) -> None:
        self.folder = folder
        self.served = served
        self._browser = browser
        self._reports: dict[str, PageReport] = {}

    def report(self, page: str) -> PageReport:
        """What loading ``page`` showed (loaded on the first call only)."""
        name = page_file(page)
        if name not in self._reports:
            self._reports[name] = self._browser.check_page(
                self.served.url(name), extra=_ALL, viewport=VIEWPORT
            )
        return self._reports[name]

    def measure(self, page: str, script: str) -> Any:
        """What the layout script ``script`` (a key of `SCRIPTS`) returned on ``page``."""
        found = self.report(page).extra[script]
        if "error" in found:
            raise AssertionError(f"{script} failed on {page}: {found['error']}")
        return found["value"]
