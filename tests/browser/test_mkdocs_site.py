"""An MkDocs + Material site using the penstock plugin, checked in headless Chromium.

The site draws the example flow and flows whose names are Mermaid keywords, start with o/x,
or hold quotes, brackets, HTML and entity codes. Built once per Mermaid major version.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator

import pytest

from tests.browser.app import hostile_names
from tests.browser.build import APP, BOM_SYNC, EXAMPLES, mermaid_dist, run_build
from tests.support.browser import Browser, DiagramReport, PageReport, StaticSite

HOSTILE_TITLE = '<b>T</b> "quoted" #35; end'
TITLE_LOOKALIKES = str.maketrans({"&": "\uff06", "<": "\uff1c", ">": "\uff1e"})
# Mermaid's own wrappers inside a label; anything else came from user text.
LABEL_MARKUP = {"div", "span", "p", "br", "small"}

_CONFIG = """\
site_name: penstock browser check
theme:
  name: material
  font: false
extra_javascript:
  - js/mermaid.min.js
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
plugins:
  - penstock:
      modules: [bom_sync.consumer, bom_sync.sync, hostile_flows]
      paths: [{paths}]
      source_url: "https://git.example/app/blob/main/{{path}}#L{{line}}"
      # These pages check step labels one by one; the legend is checked in test_links_site.py.
      legend: false
"""

_INDEX = """\
# The example flow

::: penstock-flow bom_sync
    direction: LR
    title: How a BOM change travels

::: penstock-flow bom_sync
    link_source: true
"""

_HOSTILE = f"""\
# Hostile names

::: penstock-flow end
    show_docs: true

::: penstock-flow end
    direction: LR
    title: {json.dumps(HOSTILE_TITLE)}

::: penstock-flow style
"""


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    """The site built with `mkdocs build --strict` and served, with Mermaid 12 or 11."""
    version: str = request.param
    dist = mermaid_dist(version)
    root = tmp_path_factory.mktemp(f"mkdocs-m{version}")
    docs = root / "docs"
    (docs / "js").mkdir(parents=True)
    shutil.copy2(dist / "mermaid.min.js", docs / "js" / "mermaid.min.js")
    (docs / "index.md").write_text(_INDEX, encoding="utf-8")
    (docs / "hostile.md").write_text(_HOSTILE, encoding="utf-8")
    paths = ", ".join(json.dumps(str(p)) for p in (EXAMPLES, APP))
    (root / "mkdocs.yml").write_text(_CONFIG.format(paths=paths), encoding="utf-8")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


@pytest.fixture(scope="module")
def index_page(site: StaticSite, browser: Browser) -> PageReport:
    return browser.check_page(site.url("index.html"))


@pytest.fixture(scope="module")
def hostile_page(site: StaticSite, browser: Browser) -> PageReport:
    return browser.check_page(site.url("hostile/index.html"))


def _assert_inert(diagram: DiagramReport) -> None:
    stray = set(diagram.markup) - LABEL_MARKUP
    assert not stray, f"user text became live HTML: {sorted(stray)}"
    assert not [h for h in diagram.hrefs if h.strip().lower().startswith("javascript:")]


def test_example_flow_renders_offline_with_its_steps(index_page: PageReport) -> None:
    """The example flow is drawn by the local Mermaid: every step label, the title, no CDN."""
    index_page.assert_clean(expected_diagrams=2)
    diagram = index_page.diagrams[0]
    assert diagram.kind == "flowchart-v2"
    assert sorted(diagram.labels) == sorted(BOM_SYNC)
    assert diagram.title == "How a BOM change travels"


def test_link_source_makes_every_node_a_source_link(index_page: PageReport) -> None:
    """With link_source, each node links to its function through the source_url template."""
    linked = index_page.diagrams[1]
    assert sorted(linked.labels) == sorted(BOM_SYNC)
    assert len(linked.hrefs) == len(BOM_SYNC)
    for href in linked.hrefs:
        assert re.fullmatch(r"https://git\.example/app/blob/main/\w+\.py#L\d+", href), href
    assert index_page.diagrams[0].hrefs == ()


def test_hostile_names_render_without_errors(hostile_page: PageReport) -> None:
    """Keyword, o/x, quote, bracket, HTML and entity-code names all draw, with no error SVG."""
    hostile_page.assert_clean(expected_diagrams=3)


def test_hostile_labels_show_verbatim_with_docstrings(hostile_page: PageReport) -> None:
    """With show_docs, every node shows its name and docstring summary exactly as written."""
    expected = sorted(
        name if doc is None else f"{name}\n{doc}" for name, doc in hostile_names.END_STEPS.items()
    )
    assert sorted(hostile_page.diagrams[0].labels) == expected


def test_hostile_labels_and_title_show_verbatim(hostile_page: PageReport) -> None:
    """Without docs, node labels are the bare names; a hostile title shows as plain text."""
    diagram = hostile_page.diagrams[1]
    assert sorted(diagram.labels) == sorted(hostile_names.END_STEPS)
    # Mermaid sanitizes titles as HTML, so penstock writes & < > as full-width look-alikes.
    assert diagram.title == HOSTILE_TITLE.translate(TITLE_LOOKALIKES)
    assert sorted(hostile_page.diagrams[2].labels) == sorted(hostile_names.STYLE_STEPS)


def test_no_user_text_becomes_markup_or_script(hostile_page: PageReport) -> None:
    """No <b>, <img> or <script> from a name or docstring exists, none ran, no javascript: link."""
    for diagram in hostile_page.diagrams:
        _assert_inert(diagram)
    assert hostile_page.dialogs == []
