"""Offline by default: sites built with penstock's defaults draw with nothing but the site.

No ``mermaid_js``, no ``mermaid_use_local``, no npm: penstock serves the Mermaid (and the d3
of ``:zoom:``) it ships. Every request off 127.0.0.1 is blocked and counts as a failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.build import BOM_SYNC, EXAMPLES, run_build
from tests.support.browser import Browser, StaticSite

PAGE_MD = """\
# Flows

::: penstock-flow bom_sync
    direction: LR

```mermaid
graph TD
    hand --> written
```
"""

MKDOCS_YML = """\
site_name: offline
theme:
{theme}
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
plugins:
  - search
  - penstock:
      modules: [bom_sync.consumer, bom_sync.sync]
      paths: [{examples}]
      # Step labels are counted one by one; the legend is checked in test_links_site.py.
      legend: false
"""

THEMES = {
    # The themes' own CDN requests (Material's Google Fonts, the mkdocs theme's highlight.js)
    # are not penstock's: turned off as the MkDocs page documents.
    "material": "  name: material\n  font: false",
    "mkdocs": "  name: mkdocs\n  highlightjs: false",
}


@pytest.fixture(scope="module", params=sorted(THEMES))
def mkdocs_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    theme: str = request.param
    root = tmp_path_factory.mktemp(f"offline-{theme}")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(PAGE_MD, encoding="utf-8")
    config = MKDOCS_YML.format(theme=THEMES[theme], examples=json.dumps(str(EXAMPLES)))
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def test_mkdocs_site_draws_offline_with_the_shipped_mermaid(
    mkdocs_site: StaticSite, browser: Browser
) -> None:
    """Both the penstock diagram and a hand-written fence render; nothing leaves 127.0.0.1."""
    report = browser.check_page(mkdocs_site.url("index.html"))
    report.assert_clean(expected_diagrams=2)
    assert sorted(report.diagrams[0].labels) == sorted(BOM_SYNC)
    assert sorted(report.diagrams[1].labels) == ["hand", "written"]
    licence = Path(mkdocs_site.folder, "assets/javascripts/penstock/mermaid.LICENSE.txt")
    assert "MIT License" in licence.read_text(encoding="utf-8")


CONF = """\
project = "offline"
extensions = ["penstock_sphinx"]
penstock_modules = ["bom_sync.consumer", "bom_sync.sync"]
penstock_paths = [{examples!r}]
penstock_legend = False
html_theme = {theme!r}
"""

INDEX_RST = """\
Flows
=====

.. penstock-flow:: bom_sync
   :direction: LR
   :zoom:

.. penstock-flow:: bom_sync
"""


@pytest.fixture(scope="module", params=["alabaster", "furo"])
def sphinx_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    theme: str = request.param
    if theme == "furo":
        pytest.importorskip("furo", reason="furo is in the dev extra")
    root = tmp_path_factory.mktemp(f"offline-sphinx-{theme}")
    src = root / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF.format(examples=str(EXAMPLES), theme=theme))
    (src / "index.rst").write_text(INDEX_RST)
    out = root / "html"
    run_build(["sphinx", "-W", "-q", "-b", "html", str(src), str(out)], cwd=root)
    with StaticSite(out) as served:
        yield served


def test_sphinx_site_draws_offline_with_zoom(sphinx_site: StaticSite, browser: Browser) -> None:
    """Mermaid and the d3 of :zoom: come from the site; both diagrams render."""
    report = browser.check_page(sphinx_site.url("index.html"))
    report.assert_clean(expected_diagrams=2)
    for diagram in report.diagrams:
        assert sorted(diagram.labels) == sorted(BOM_SYNC)
    static = Path(sphinx_site.folder, "_static", "penstock")
    assert (static / "d3.min.js").is_file()
    assert "MIT License" in (static / "mermaid.LICENSE.txt").read_text(encoding="utf-8")
