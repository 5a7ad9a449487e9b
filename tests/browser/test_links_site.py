"""Conditions, links between flows, the legend and the map, drawn by Mermaid in Chromium.

An MkDocs + Material site (Mermaid 12 and 11): every diagram renders, the decision points,
stubs and legend are drawn, and a stub's link opens the other flow's page at its diagram.
Full-page screenshots go to ``build/screenshots/`` for a reviewer.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest

from penstock.docs import flow_anchor
from tests.browser.build import mermaid_dist, run_build
from tests.support.browser import Browser, PageReport, StaticSite
from tests.support.system import ROOT

SCREENSHOTS = ROOT / "build" / "screenshots"

_FLOWS = '''
"""Orders hand work to shipping (Kafka) and to invoicing (a shared Celery-style entrypoint)."""
from penstock import entrypoint, flow, step
from penstock.contrib.kafka import message_entrypoint, produces


@flow("orders")
@entrypoint
def receive(): ...


@flow("orders")
@step(after=receive)
def charge_payment(): ...


@flow("orders")
@step(after=charge_payment, when="declined <b>card</b>")
def notify_declined(): ...


@flow("orders")
@produces("order-events")
@step(after=charge_payment, when="approved")
def publish(): ...


@flow("shipping")
@message_entrypoint(topic="order-events")
def on_order(msg): ...


@flow("shipping")
@step(after=on_order)
def ship(): ...
'''

_CONFIG = """\
site_name: penstock links check
theme:
  name: material
  font: false
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      toggle: {{icon: material/weather-night, name: Dark mode}}
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      toggle: {{icon: material/weather-sunny, name: Light mode}}
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
      modules: [linked_flows]
      paths: [{path}]
"""

PAGES = {
    "index.md": "# Map\n\n::: penstock-map\n",
    "orders.md": "# Orders\n\n::: penstock-flow orders\n",
    "shipping.md": "# Shipping\n\n::: penstock-flow shipping\n    direction: LR\n",
    "zoom.md": "# Zoom\n\n::: penstock-flow orders\n    zoom: true\n",
    "svg.md": "# SVG\n\n::: penstock-flow orders\n    svg: true\n",
}


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, StaticSite]]:
    version: str = request.param
    dist = mermaid_dist(version)
    root = tmp_path_factory.mktemp(f"links-m{version}")
    docs = root / "docs"
    (docs / "js").mkdir(parents=True)
    shutil.copy2(dist / "mermaid.min.js", docs / "js" / "mermaid.min.js")
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    (root / "src").mkdir()
    (root / "src" / "linked_flows.py").write_text(_FLOWS, encoding="utf-8")
    config = _CONFIG.format(path=json.dumps(str(root / "src")))
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield version, served


def _check(browser: Browser, site: tuple[str, StaticSite], page: str) -> PageReport:
    version, served = site
    shot = SCREENSHOTS / f"links-mermaid{version}-{page.replace('/', '-') or 'index'}.png"
    return browser.check_page(served.url(page), screenshot=shot)


def test_conditions_stubs_and_legend_render(browser: Browser, site: tuple[str, StaticSite]) -> None:
    """The orders diagram draws: conditions as edge text (markup inert), stub, legend keys."""
    report = _check(browser, site, "orders/")
    report.assert_clean(expected_diagrams=1)
    (diagram,) = report.diagrams
    assert "declined <b>card</b>" in diagram.edge_labels
    assert "approved" in diagram.edge_labels
    assert "kafka: order-events" in diagram.edge_labels
    assert "b" not in diagram.markup
    assert "shipping" in diagram.labels
    # The legend is below the drawing (HTML), never inside it.
    assert "only one of the labelled arrows leaving it is taken" in diagram.legend
    assert "another flow this one hands work to or receives work from" in diagram.legend
    assert not set(diagram.legend) & set(diagram.labels)


def test_stub_link_opens_the_other_flows_diagram(
    browser: Browser, site: tuple[str, StaticSite]
) -> None:
    """The shipping stub links to the shipping page's anchor, which exists on that page."""
    _, served = site
    report = _check(browser, site, "orders/")
    (href,) = report.diagrams[0].hrefs
    assert href.endswith(f"shipping/#{flow_anchor('shipping')}")
    target = urljoin(served.url("orders/"), href)
    with urllib.request.urlopen(target.split("#")[0]) as answer:
        page = answer.read().decode("utf-8")
    assert f'id="{flow_anchor("shipping")}"' in page
    back = _check(browser, site, "shipping/")
    back.assert_clean(expected_diagrams=1)
    assert [h for h in back.diagrams[0].hrefs if "orders/#" in h]


def test_map_renders_with_links(browser: Browser, site: tuple[str, StaticSite]) -> None:
    """The map draws one box per flow, the Kafka link, and links to both diagrams."""
    report = _check(browser, site, "")
    report.assert_clean(expected_diagrams=1)
    (diagram,) = report.diagrams
    assert sorted(diagram.labels) == ["orders", "shipping"]
    assert diagram.edge_labels == ("kafka: order-events",)
    assert len(diagram.hrefs) == 2


_ZOOM = """
const box = document.querySelector(".penstock-zoom");
const buttons = [...box.querySelectorAll(".penstock-zoom-bar button")].map((b) => b.title);
box.querySelector("button[title='Zoom in']").click();
box.querySelector("button[title='Zoom in']").click();
const host = box.querySelector(".mermaid");
const zoomed = host.style.transform;
const r = box.getBoundingClientRect();
const opts = { bubbles: true, clientX: r.left + 50, clientY: r.top + 50, pointerId: 1 };
box.dispatchEvent(new PointerEvent("pointerdown", opts));
window.dispatchEvent(new PointerEvent("pointermove", { ...opts, clientX: r.left + 90 }));
window.dispatchEvent(new PointerEvent("pointerup", opts));
const panned = host.style.transform;
let full = null;
try {
  await box.requestFullscreen();
  full = document.fullscreenElement === box;
  await document.exitFullscreen();
} catch (e) {
  full = String(e);
}
const scripts = [...document.scripts].map((s) => s.src).filter((s) => s.includes("zoom"));
return { buttons, zoomed, panned, full, scripts, svg: !!host.shadowRoot.querySelector("svg") };
"""


def test_zoom_pan_and_full_screen(browser: Browser, site: tuple[str, StaticSite]) -> None:
    """zoom: true gives buttons that scale the drawn diagram, drag pans it, full screen works;
    the script is served by the site itself."""
    version, served = site
    report = _check(browser, site, "zoom/")
    report.assert_clean(expected_diagrams=1)
    shot = SCREENSHOTS / f"links-mermaid{version}-zoomed.png"
    got = browser.interact(served.url("zoom/"), _ZOOM, screenshot=shot)
    assert got["buttons"] == ["Zoom in", "Zoom out", "Reset zoom", "Full screen"]
    assert got["zoomed"] == "translate(0px, 0px) scale(1.5625)"
    assert got["panned"] == "translate(40px, 0px) scale(1.5625)"
    assert got["full"] is True
    assert got["svg"]
    assert [s.split("/", 3)[2] for s in got["scripts"]] == [served.url().split("/")[2]]


_PALETTE = """
const text = document.querySelector("svg.penstock-svg text");
const line = document.querySelector("svg.penstock-svg g.edge path");
const read = () => [getComputedStyle(text).fill, getComputedStyle(line).stroke];
const light = read();
document.body.setAttribute("data-md-color-scheme", "slate");
const dark = read();
const bg = getComputedStyle(document.body).backgroundColor;
const links = [...document.querySelectorAll("svg.penstock-svg a")].map(
  (a) => a.getAttribute("xlink:href") || a.getAttribute("href"));
return { light, dark, bg, links, scripts: document.querySelectorAll("pre.mermaid").length };
"""


def test_svg_diagram_follows_the_palette(browser: Browser, site: tuple[str, StaticSite]) -> None:
    """svg: true shows Graphviz's SVG without Mermaid; lines and text take the page's text
    colour, light in the dark (slate) scheme; the stub is a link."""
    version, served = site
    shot = SCREENSHOTS / f"links-mermaid{version}-svg-dark.png"
    got = browser.interact(served.url("svg/"), _PALETTE, screenshot=shot)
    assert got["scripts"] == 0
    assert got["light"][0] == got["light"][1]
    assert got["dark"][0] == got["dark"][1]
    assert got["light"] != got["dark"]
    assert [h for h in got["links"] if h.startswith("../shipping/#")]
