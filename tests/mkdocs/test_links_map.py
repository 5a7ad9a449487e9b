"""MkDocs: stubs of linked flows link to the page and anchor of their diagram; the map."""

from __future__ import annotations

import re

import pytest

from penstock.docs import flow_anchor
from tests.mkdocs.conftest import Build, run, write_site
from tests.support.mermaid import MermaidOracle

SHOP = '''
"""Two flows: orders hands each order over to shipping through a Kafka topic."""
from penstock import entrypoint, flow, step
from penstock.contrib.kafka import message_entrypoint, produces


@flow("orders")
@entrypoint
def receive(): ...


@flow("orders")
@produces("order-events")
@step(after=receive)
def publish(): ...


@flow("shipping")
@message_entrypoint(topic="order-events")
def on_order(msg): ...


@flow("shipping")
@step(after=on_order, when="in stock")
def ship(): ...
'''

PAGES = {
    "index.md": "# Map\n\n::: penstock-map\n\n::: penstock-map\n    prefix: nothing.here\n",
    "orders.md": "# Orders\n\n::: penstock-flow orders\n",
    "guide/shipping.md": "# Shipping\n\n::: penstock-flow shipping\n    links: true\n",
    "plain.md": "# Plain\n\n::: penstock-flow orders\n    links: false\n    legend: false\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = write_site(
        tmp_path_factory.mktemp("links"),
        PAGES,
        plugin={"modules": ["shop.flows"]},
        modules={"shop/flows.py": SHOP},
    )
    return run("mkdocs", root, "--strict")


def _clicks(text: str) -> dict[str, str]:
    return dict(re.findall(r'click (\S+) href "([^"]*)"', text))


def test_strict_build_passes(site: Build) -> None:
    """The site builds under --strict with both directives."""
    assert site.returncode == 0, site.output
    assert "WARNING" not in site.output


def test_diagrams_carry_anchors_on_their_page(site: Build) -> None:
    """The page drawing a flow first carries its anchor; other pages drawing it do not."""
    assert f'<a id="{flow_anchor("orders")}"></a>' in site.page("orders")
    assert f'<a id="{flow_anchor("shipping")}"></a>' in site.page("guide/shipping")
    assert "penstock-flow-orders" not in site.page("plain")


def test_stubs_link_to_the_other_flows_page_and_anchor(site: Build) -> None:
    """orders' stub of shipping links to guide/shipping/#anchor, relative to the page."""
    (orders,) = site.diagrams("orders")
    assert '>"shipping"]' in orders
    assert '-. "kafka: order-events" .->' in orders
    assert list(_clicks(orders).values()) == [f"../guide/shipping/#{flow_anchor('shipping')}"]
    (shipping,) = site.diagrams("guide/shipping")
    assert list(_clicks(shipping).values()) == [f"../../orders/#{flow_anchor('orders')}"]
    (plain,) = site.diagrams("plain")
    assert '>"shipping"]' not in plain


def test_map_links_every_flow(site: Build, mermaid_oracle: MermaidOracle) -> None:
    """The map draws both flows, the Kafka link, and links each box to its diagram."""
    full, empty = site.diagrams("index")
    assert _clicks(full) == {
        "n0": f"orders/#{flow_anchor('orders')}",
        "n1": f"guide/shipping/#{flow_anchor('shipping')}",
    }
    assert '    n0 -. "kafka: order-events" .-> n1' in full
    assert empty == "graph LR\n"
    for text in (full, site.diagrams("orders")[0], site.diagrams("guide/shipping")[0]):
        for parsed in mermaid_oracle.parse_one(text):
            assert parsed.ok, parsed.error


def test_legend_by_default_and_off_per_diagram(site: Build, mermaid_oracle: MermaidOracle) -> None:
    """Diagrams get a legend of their shapes unless `legend: false`; it renders in Mermaid."""
    (shipping,) = site.diagrams("guide/shipping")
    # Below the drawing, as HTML: never inside it (where it widened the diagram).
    assert "Legend" not in shipping
    page = site.page("guide/shipping")
    assert '<div class="penstock-legend"' in page
    assert "only one of the labelled arrows leaving it is taken" in page
    (plain,) = site.diagrams("plain")
    assert "Legend" not in plain
    assert "penstock-legend" not in site.page("plain")
    for parsed in mermaid_oracle.parse_one(shipping):
        assert parsed.ok, parsed.error


def test_misspelt_host_option_gets_a_suggestion() -> None:
    """A misspelt zoom (an option only MkDocs has) is a located error suggesting 'zoom'."""
    import markdown

    from penstock_mkdocs import PenstockExtension

    ext = PenstockExtension(strict=False)
    md = markdown.Markdown(extensions=[ext])
    md.convert("::: penstock-flow orders\n    zom: true\n")
    (failure,) = ext.failures
    assert "unknown penstock-flow option 'zom'; did you mean 'zoom'?" in str(failure)
