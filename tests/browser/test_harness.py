"""The browser checks can fail: raw HTML, a syntax error and a CDN request are all reported.

A plain Material site with hand-written Mermaid (no penstock) proves the harness sees what the
other browser tests assert is absent.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.browser.build import mermaid_dist, run_build
from tests.support.browser import Browser, PageReport, StaticSite

_CONFIG = """\
site_name: harness check
theme:
  name: material
  font: false
extra_javascript:
  - js/mermaid.min.js
  - https://cdn.example.invalid/never.js
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
plugins: []
"""

_PAGE = """\
# Hand-written diagrams

```mermaid
graph TD
    a["plain"] --> b["<b>raw bold</b>"]
```

```mermaid
graph TD
    a[[[
```
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[PageReport]:
    root = tmp_path_factory.mktemp("harness")
    (root / "docs" / "js").mkdir(parents=True)
    shutil.copy2(mermaid_dist("12") / "mermaid.min.js", root / "docs" / "js" / "mermaid.min.js")
    (root / "docs" / "index.md").write_text(_PAGE, encoding="utf-8")
    (root / "mkdocs.yml").write_text(_CONFIG, encoding="utf-8")
    run_build(["mkdocs", "build", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as site:
        yield browser.check_page(site.url("index.html"))


def test_raw_html_in_a_label_is_seen_as_markup(report: PageReport) -> None:
    """A label written with raw <b> renders as an element, and the report lists it."""
    first = report.diagrams[0]
    assert first.rendered
    assert sorted(first.labels) == ["plain", "raw bold"]
    assert "b" in first.markup


def test_syntax_error_is_reported(report: PageReport) -> None:
    """A broken diagram is not rendered and Material's stray error SVG text is collected."""
    assert len(report.diagrams) == 2
    assert not report.diagrams[1].rendered
    assert any("Syntax error in text" in e for e in report.errors)
    assert not report.timed_out


def test_requests_off_the_machine_are_blocked_and_reported(report: PageReport) -> None:
    """A script from another host is never fetched; the attempt is reported."""
    assert report.outside_requests == ["https://cdn.example.invalid/never.js"]
    problems = "\n".join(report.problems())
    assert "request outside 127.0.0.1" in problems
    assert "Mermaid error" in problems
