"""Backstage TechDocs: penstock's plugin beside ``techdocs-core``, as a TechDocs builder runs it.

TechDocs builds each service's docs with ``mkdocs build`` and the ``techdocs-core`` plugin
(Material, its Markdown extensions, the monorepo plugin). Two ways a reader sees the result:

- the static site itself (``techdocs-cli serve:mkdocs``, or the files behind any web server):
  the page's scripts run, and the Mermaid penstock ships draws the diagrams offline;
- Backstage's TechDocs reader, which fetches the page, sanitizes it (scripts removed) and shows
  it inside the Backstage app: only a diagram drawn at build time survives, so the TechDocs
  section of the docs says ``svg: true``. The test loads the page as the reader would show it:
  every ``<script>`` removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.build import BOM_SYNC, EXAMPLES, run_build
from tests.support.browser import Browser, StaticSite
from tests.support.system import ROOT, require_executable

pytest.importorskip("techdocs_core", reason="mkdocs-techdocs-core (pip install -e '.[dev]')")

SCREENSHOTS = ROOT / "build" / "screenshots"

MKDOCS_YML = """\
site_name: bom-sync
# techdocs-core keeps Material's settings: no Google Fonts request, as the MkDocs page says.
theme:
  name: material
  font: false
nav:
  - Flows: index.md
  - In Backstage: backstage.md
plugins:
  - techdocs-core
  - penstock:
      modules: [bom_sync.consumer, bom_sync.sync]
      paths: [{examples}]
      # Step labels are counted one by one; the legend is checked in test_links_site.py.
      legend: false
"""

PAGES = {
    "index.md": "# Flows\n\n::: penstock-flow bom_sync\n",
    "backstage.md": "# In Backstage\n\n::: penstock-flow bom_sync\n    svg: true\n",
}

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """A TechDocs site built with ``mkdocs build --strict``, served from its folder."""
    require_executable("dot", "apt-get install graphviz")
    root = tmp_path_factory.mktemp("techdocs")
    (root / "docs").mkdir()
    for name, text in PAGES.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    config = MKDOCS_YML.format(examples=json.dumps(str(EXAMPLES)))
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def test_the_site_builds_with_techdocs_core_and_knows_its_metadata(site: StaticSite) -> None:
    """techdocs-core ran (its metadata file is there) beside penstock's plugin, strictly."""
    metadata = json.loads(Path(site.folder, "techdocs_metadata.json").read_text("utf-8"))
    assert metadata["site_name"] == "bom-sync"
    html = Path(site.folder, "index.html").read_text("utf-8")
    assert 'class="mermaid"' in html


def test_the_static_site_draws_the_flow_offline(site: StaticSite, browser: Browser) -> None:
    """Served as files (``techdocs-cli serve:mkdocs``): Mermaid draws every step, offline."""
    report = browser.check_page(site.url("index.html"), screenshot=SCREENSHOTS / "techdocs.png")
    # techdocs-core adds MkDocs' own search script, which expects the mkdocs theme's
    # ``base_url`` global that Material does not define: its error, whatever the page holds.
    report.console_errors = [e for e in report.console_errors if "base_url" not in e]
    report.assert_clean(expected_diagrams=1)
    assert sorted(report.diagrams[0].labels) == sorted(BOM_SYNC)


_READ_SVG = """
const svgs = [...document.querySelectorAll("svg.penstock-svg")];
return {
  scripts: document.querySelectorAll("script").length,
  svgs: svgs.map((svg) => {
    const box = svg.getBoundingClientRect();
    const labels = [...svg.querySelectorAll("g.node text")].map((t) => t.textContent.trim());
    return { width: box.width, height: box.height, labels };
  }),
};
"""


def test_backstages_reader_shows_the_build_time_svg(site: StaticSite, browser: Browser) -> None:
    """With every script removed, as Backstage's reader shows a page, the ``svg: true`` diagram
    is still there, with every step; the Mermaid one would not be (it needs a script)."""
    page = Path(site.folder, "backstage", "index.html")
    sanitized = page.with_name("sanitized.html")
    sanitized.write_text(_SCRIPT.sub("", page.read_text("utf-8")), encoding="utf-8")
    got = browser.interact(
        site.url("backstage/sanitized.html"),
        _READ_SVG,
        screenshot=SCREENSHOTS / "techdocs-backstage-reader.png",
    )
    assert got["scripts"] == 0
    (svg,) = got["svgs"]
    assert svg["width"] > 100
    assert svg["height"] > 100
    assert sorted(set(svg["labels"])) == sorted(BOM_SYNC)
