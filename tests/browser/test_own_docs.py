"""penstock's own documentation: `mkdocs build --strict` passes and every diagram renders.

The site is built from the repository's mkdocs.yml exactly as `make docs` builds it (into a
temporary folder), served on 127.0.0.1 and loaded in headless Chromium without network access.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from penstock._render.legend import DECISION, ENTRYPOINT, LINKED, REMOTE
from tests.browser.build import BOM_SYNC as EXAMPLE_STEPS
from tests.browser.build import html_pages_with_diagrams
from tests.browser.own_docs import OwnDocsPages
from tests.support.browser import PageReport

#: The docs site also imports bom_sync.tasks, whose Celery task is drawn as a dotted edge
#: labelled "celery".
BOM_SYNC = {*EXAMPLE_STEPS, "create_change_logs"}
#: The texts of the legend penstock adds to diagrams that draw more than boxes and arrows.
LEGEND = frozenset(key.text for key in (ENTRYPOINT, REMOTE, DECISION, LINKED))
SOURCE_LINK = re.compile(
    r"https://github\.com/penstock-dev/penstock/blob/main/examples/bom_sync/\w+\.py#L\d+\Z"
)


@pytest.fixture(scope="module")
def built(own_docs: tuple[Path, str]) -> tuple[Path, str]:
    """The site folder and the build's log (one build per session: see conftest.py)."""
    return own_docs


@pytest.fixture(scope="module")
def pages(built: tuple[Path, str], own_docs_pages: OwnDocsPages) -> dict[str, PageReport]:
    """Every page that has a diagram, as the browser saw it."""
    return {page: own_docs_pages.report(page) for page in html_pages_with_diagrams(built[0])}


def test_strict_build_has_no_warnings(built: tuple[Path, str]) -> None:
    """`mkdocs build --strict` of the repository's docs succeeds and logs no warning at all."""
    _, log = built
    assert "WARNING" not in log, log


def steps(labels: tuple[str, ...]) -> list[str]:
    """The node labels of a diagram without its legend (the site draws one: see LEGEND)."""
    return [label for label in labels if label not in LEGEND]


def test_home_and_getting_started_draw_the_example_live(pages: dict[str, PageReport]) -> None:
    """The home page draws the code beside it; getting started the example service."""
    assert {"index.html", "getting-started/index.html", "gallery/index.html"} <= set(pages)
    home = pages["index.html"].diagrams
    assert len(home) == 1
    assert {"place_order", "charge_card", "ship", "email_declined"} <= set(home[0].labels)
    assert set(home[0].edge_labels) == {"paid", "declined"}
    gallery = pages["gallery/index.html"].diagrams[0]
    assert sorted(label.split("\n")[0] for label in steps(gallery.labels)) == sorted(BOM_SYNC)
    assert gallery.title == "bom_sync, as declared in the code"
    assert gallery.edge_labels == ("celery",)
    started = pages["getting-started/index.html"].diagrams
    assert len(started) == 1
    # show_docs: each label is the step name, then its docstring summary.
    labels = steps(started[0].labels)
    assert sorted(label.split("\n")[0] for label in labels) == sorted(BOM_SYNC)
    assert all("\n" in label for label in labels)


def test_every_diagram_on_every_page_renders_offline(pages: dict[str, PageReport]) -> None:
    """Each diagram of the site renders with the bundled Mermaid; no error, no outside request."""
    for report in pages.values():
        report.assert_clean()
        assert report.diagrams


def test_home_diagram_links_each_step_to_its_source(pages: dict[str, PageReport]) -> None:
    """With link_source, every node of the gallery's first diagram links to its source."""
    diagram = pages["gallery/index.html"].diagrams[0]
    assert len(diagram.hrefs) == len(BOM_SYNC)
    assert all(SOURCE_LINK.match(href) for href in diagram.hrefs), diagram.hrefs


def test_directive_inside_a_code_fence_stays_literal(built: tuple[Path, str]) -> None:
    """The syntax shown in getting started's code block is text, not a diagram."""
    html = (built[0] / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="mermaid"') == 1
    assert "::: penstock-flow bom_sync" in html


def test_api_reference_documents_every_public_name(built: tuple[Path, str]) -> None:
    """Each name in penstock.__all__ has its own anchor on the `penstock` reference page."""
    import penstock

    page = (built[0] / "reference" / "penstock" / "index.html").read_text(encoding="utf-8")
    documented = set(re.findall(r'id="penstock\.(\w+)"', page))
    missing = sorted(set(penstock.__all__) - documented - {"__version__"})
    assert not missing, f"not on the reference page: {missing}"


def test_pages_without_diagrams_load_offline_too(
    built: tuple[Path, str], own_docs_pages: OwnDocsPages, pages: dict[str, PageReport]
) -> None:
    """Every other page (API reference included) loads with no error and no outside request."""
    others = sorted(
        p.relative_to(built[0]).as_posix()
        for p in built[0].rglob("index.html")
        if p.relative_to(built[0]).as_posix() not in pages
    )
    assert "reference/penstock/index.html" in others
    for page in others:
        own_docs_pages.report(page).assert_clean(expected_diagrams=0)


def _api_text(built: tuple[Path, str]) -> str:
    import html

    pages = sorted((built[0] / "reference").rglob("index.html"))
    text = "".join(page.read_text(encoding="utf-8") for page in pages)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def test_api_reference_shows_public_signatures_only(built: tuple[Path, str]) -> None:
    """Overloaded decorators show their overloads, not the implementation's catch-all one."""
    text = _api_text(built)
    assert "step(func: Callable[P, R]) -> Callable[P, R]" in text
    assert "func: Callable[..., Any] | None = None" not in text


def test_api_reference_lists_fields_and_members(built: tuple[Path, str]) -> None:
    """The graph types' fields and ProblemKind's members are described on the page."""
    text = _api_text(built)
    for phrase in (
        "the function's source file",  # StepNode.file
        "the step that runs first",  # Edge.source
        "its declared edges, in a stable order",  # FlowGraph.edges
        "an after= that names no step of the flow",  # ProblemKind.UNKNOWN_AFTER
    ):
        assert phrase in text, phrase


def test_api_reference_shows_no_rest_markup(built: tuple[Path, str]) -> None:
    """Docstrings are Google style: no literal reST roles, tables or `::` blocks on the page."""
    text = _api_text(built)
    found = re.findall(
        r".{30}(?::(?:func|class|meth|mod|attr|data|exc|obj):`|::\n|={4,}).{10}", text
    )
    assert found == []
