"""The penstock-flow directive: what a correct page turns into."""

from __future__ import annotations

import pytest
from sphinx.testing.util import SphinxTestApp

from penstock.docs import DiagramOptions, flow_diagram
from tests.sphinx.conftest import plain
from tests.sphinx.html import mermaid_blocks


@pytest.mark.sphinx("html", testroot="basic", srcdir="directive-basic")
def test_directive_emits_the_flows_mermaid_text(app: SphinxTestApp) -> None:
    """The page's <pre class="mermaid"> holds exactly penstock's Mermaid text for the flow."""
    app.build()
    blocks = mermaid_blocks(app.outdir / "orders.html")
    expected = flow_diagram("orders", DiagramOptions(direction="LR")).mermaid.strip()
    assert blocks == [expected]
    _front_matter, body = blocks[0].split("\n---\n", 1)
    first, *rest = body.splitlines()
    assert first == "graph LR"
    assert any("take_order" in line and "reserve_stock" in line for line in rest)


@pytest.mark.sphinx("html", testroot="basic", srcdir="directive-basic")
def test_a_correct_project_builds_without_warnings(app: SphinxTestApp) -> None:
    """Drawing correct flows emits no warning at all."""
    app.build()
    assert plain(app.warning.getvalue()) == ""


@pytest.mark.sphinx("html", testroot="basic", srcdir="directive-figure")
def test_caption_makes_a_numbered_referenceable_figure(app: SphinxTestApp) -> None:
    """:caption: wraps the diagram in a figure numbered by numfig; :name: makes it a target."""
    app.build()
    page = (app.outdir / "orders.html").read_text(encoding="utf-8")
    assert '<figure class="align-default" id="order-flow">\n<pre  class="mermaid">' in page
    assert (
        '<span class="caption-number">Fig. 1 </span>'
        '<span class="caption-text">How an order travels</span>'
    ) in page
    index = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert 'href="orders.html#order-flow"><span class="std std-numref">Fig. 1</span>' in index


@pytest.mark.sphinx("html", testroot="basic", srcdir="directive-options")
def test_title_show_docs_and_align_reach_the_diagram(app: SphinxTestApp) -> None:
    """:title: becomes front matter, :show-docs: adds summaries, :align: the node's class."""
    app.build()
    page = (app.outdir / "billing.html").read_text(encoding="utf-8")
    assert '<pre align="center" class="mermaid align-center">' in page
    (text,) = mermaid_blocks(app.outdir / "billing.html")
    titled = flow_diagram("billing", DiagramOptions(title="Billing <v2>", show_docs=True))
    assert text == titled.mermaid.strip()
    front_matter, _, body = text.partition("\n---\ngraph TD\n")
    assert front_matter.startswith('---\nconfig: {"flowchart": {"useMaxWidth": false}}\ntitle: ')
    assert "<small>Charge the customer's card.</small>" in body


@pytest.mark.sphinx(
    "html",
    testroot="basic",
    srcdir="directive-defaults",
    confoverrides={"penstock_direction": "rl", "penstock_show_docs": True},
)
def test_site_defaults_apply_unless_a_directive_overrides_them(app: SphinxTestApp) -> None:
    """penstock_direction/penstock_show_docs set every diagram; a directive's option wins."""
    app.build()
    (billing,) = mermaid_blocks(app.outdir / "billing.html")
    (orders,) = mermaid_blocks(app.outdir / "orders.html")
    assert "graph RL" in billing
    assert "Start an invoice for a shipped order." in billing
    assert "\n---\ngraph LR\n" in orders
    assert "Accept an order from the web shop." in orders


@pytest.mark.sphinx(
    "html",
    testroot="basic",
    srcdir="directive-config",
    confoverrides={"mermaid_config": {"theme": "forest"}},
)
def test_mermaid_config_goes_into_the_front_matter(app: SphinxTestApp) -> None:
    """sphinxcontrib-mermaid's mermaid_config reaches penstock diagrams, next to the title."""
    app.build()
    (orders,) = mermaid_blocks(app.outdir / "orders.html")
    (billing,) = mermaid_blocks(app.outdir / "billing.html")
    # Merged with penstock's own size setting into one config line.
    config = '---\nconfig: {"flowchart": {"useMaxWidth": false}, "theme": "forest"}\n'
    drawn = flow_diagram("orders", DiagramOptions("LR")).mermaid.strip()
    assert orders == config + drawn.split("\n", 2)[2]
    titled = flow_diagram("billing", DiagramOptions(title="Billing <v2>", show_docs=True))
    assert titled.mermaid.split("\n")[2].startswith("title: ")
    assert billing == config + titled.mermaid.strip().split("\n", 2)[2]


@pytest.mark.sphinx("html", testroot="basic", srcdir="directive-js")
def test_mermaid_script_is_added_only_to_pages_with_diagrams(app: SphinxTestApp) -> None:
    """The emitted node is sphinxcontrib-mermaid's: its script lands on diagram pages only.

    The script imports the Mermaid shipped with penstock, served from the site.
    """
    app.build()
    page = (app.outdir / "orders.html").read_text(encoding="utf-8")
    assert 'from "./_static/penstock/penstock-mermaid.mjs"' in page
    assert (app.outdir / "_static" / "penstock" / "mermaid.min.js").is_file()
    assert "mermaid" not in (app.outdir / "plain.html").read_text(encoding="utf-8")


@pytest.mark.sphinx(
    "html",
    testroot="basic",
    srcdir="directive-links",
    confoverrides={
        "penstock_link_source": True,
        "penstock_source_url": "https://git.example/shop/blob/main/{path}#L{line}",
        "penstock_source_root": ".",
    },
)
def test_link_source_makes_nodes_links_to_their_code(app: SphinxTestApp) -> None:
    """With penstock_source_url, each node links to its file (relative to the root) and line."""
    app.build()
    (orders,) = mermaid_blocks(app.outdir / "orders.html")
    clicks = [line.strip() for line in orders.splitlines() if line.strip().startswith("click")]
    assert [c.split('"')[1] for c in clicks] == [
        "https://git.example/shop/blob/main/shop/orders.py#L6",
        "https://git.example/shop/blob/main/shop/orders.py#L12",
    ]


@pytest.mark.sphinx("html", testroot="basic", srcdir="directive-zoom")
def test_zoom_binds_a_css_safe_id(app: SphinxTestApp) -> None:
    """:zoom: gives the diagram an id made of identifier characters, as the zoom script needs."""
    (app.srcdir / "nested").mkdir()
    (app.srcdir / "nested" / "v1.2.rst").write_text(
        "Zoom\n====\n\n.. penstock-flow:: orders\n   :zoom:\n"
    )
    with (app.srcdir / "index.rst").open("a") as index:
        index.write("   nested/v1.2\n")
    app.build()
    page = (app.outdir / "nested" / "v1.2.html").read_text(encoding="utf-8")
    assert '<pre data-zoom-id="penstock-nested-v1-2-0" class="mermaid">' in page
    assert ".mermaid[data-zoom-id=penstock-nested-v1-2-0]" in page


@pytest.mark.sphinx(
    "html",
    testroot="basic",
    srcdir="directive-hostile",
    confoverrides={"penstock_modules": ["shop.orders", "shop.billing", "shop.hostile"]},
)
def test_markup_in_names_and_docstrings_never_becomes_html(app: SphinxTestApp) -> None:
    """Step names and docstrings reach the page as escaped text inside the Mermaid block."""
    (app.srcdir / "hostile.rst").write_text(
        "Hostile\n=======\n\n.. penstock-flow:: hostile\n   :show-docs:\n"
    )
    with (app.srcdir / "index.rst").open("a") as index:
        index.write("   hostile\n")
    app.build()
    page = (app.outdir / "hostile.html").read_text(encoding="utf-8")
    assert "<img" not in page
    assert "<script>alert" not in page
    assert page.count("</pre>") == 1
    (text,) = mermaid_blocks(app.outdir / "hostile.html")
    assert text == flow_diagram("hostile", DiagramOptions(show_docs=True)).mermaid.strip()
    assert plain(app.warning.getvalue()) == ""
