"""MkDocs ``svg: true``: a diagram drawn at build time by Graphviz, inline, with no JavaScript."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from penstock.docs import flow_anchor
from tests.mkdocs.conftest import Build, run, write_site
from tests.support.system import require_executable

FLOWS = '''
"""Orders and shipping."""
from penstock import entrypoint, flow, step
from penstock.contrib.kafka import message_entrypoint, produces


@flow("orders")
@entrypoint
def receive(): ...


@flow("orders")
@produces("order-events")
@step(after=receive, when="paid <b>now</b>")
def publish(): ...


@flow("shipping")
@message_entrypoint(topic="order-events")
def on_order(msg): ...
'''

PAGES = {
    "index.md": "# Orders\n\n::: penstock-flow orders\n    svg: true\n    link: source\n",
    "shipping.md": "# Shipping\n\n::: penstock-flow shipping\n",
}


def _site(root: Path) -> Path:
    return write_site(
        root,
        PAGES,
        plugin={
            "modules": ["shop.flows"],
            "source_url": "https://git.example/app/blob/main/{path}#L{line}",
        },
        modules={"shop/flows.py": FLOWS},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    return run("mkdocs", _site(tmp_path_factory.mktemp("svg")), "--strict")


def test_inline_svg_with_links_and_page_colours(site: Build) -> None:
    """The page holds an <svg> (no pre.mermaid) whose text, links and colours are right."""
    assert site.returncode == 0, site.output
    page = site.page("index")
    assert '<pre class="mermaid">' not in page
    (svg,) = re.findall(r'<svg class="penstock-svg".*?</svg>', page, re.DOTALL)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "receive" in texts
    assert "paid &lt;b&gt;now&lt;/b&gt;" in texts  # a condition stays text
    assert "<b>" not in svg
    assert f'xlink:href="shipping/#{flow_anchor("shipping")}"' in svg
    assert re.search(
        r'xlink:href="https://git\.example/app/blob/main/src/shop/flows\.py#L\d+"', svg
    )
    assert 'stroke="black"' not in svg
    assert 'fill="currentColor"' in svg


def test_missing_graphviz_is_a_clear_located_warning(tmp_path: Path) -> None:
    """Without dot on PATH the build warns at page:line naming Graphviz and how to fix it."""
    root = _site(tmp_path / "nodot")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    python = Path(os.path.realpath(shutil.which("python3") or "python3"))
    (bindir / "python3").symlink_to(python)
    old = os.environ["PATH"]
    os.environ["PATH"] = str(bindir)
    try:
        build = run("mkdocs", root)
    finally:
        os.environ["PATH"] = old
    assert "index.md:3: penstock-flow 'orders'" in build.output, build.output
    assert "Graphviz's 'dot' command was not found" in build.output
    assert "apt-get install graphviz" in build.output


def test_svg_draws_the_observed_overlay_and_warns_drift(tmp_path: Path) -> None:
    """``svg: true`` with ``observed:``: the marks are in the SVG with the classes the page's
    colours use, the legend is HTML below it, and drift is a located warning as in Mermaid."""
    import penstock
    from tests.observed.conftest import record_json_log
    from tests.observed.sites import mkdocs_site

    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    try:
        log = record_json_log(tmp_path / "app.log")
    finally:
        penstock.reset()
    site = mkdocs_site(tmp_path / "site", log, missing=False)
    index = site / "docs" / "index.md"
    index.write_text(index.read_text() + "    svg: true\n")
    build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    page = build.page("index")
    (svg,) = re.findall(r'<svg class="penstock-svg".*?</svg>', page, re.DOTALL)
    assert re.search(r'class="node ps_observed"', svg)
    assert re.search(r'class="node ps_dead"', svg)
    assert re.search(r'class="edge ps_edge_drift"', svg)
    assert "Legend" not in svg
    assert page.index("</svg>") < page.index('class="penstock-legend"')
    assert "index.md:3: penstock-flow 'shop': flow 'shop': recorded runs went 'validate'" in (
        build.output
    )
