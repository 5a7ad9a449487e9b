"""Diagrams that fit the page, legible in light and dark: measured in headless Chromium.

One test app (an ``orders`` flow of 9 steps with a ``when=`` branch, a 3-step left-right
``ledger`` flow handing work over Kafka, the shop flow under recorded runs, the orders flow
marked ``since:`` an older dump) is drawn on MkDocs (Material, the plain theme) and Sphinx
(alabaster, furo, Read the Docs theme), at 1280x800 and at 390x844, light and dark.

For every diagram: each node is inside the visible width of its box (or the box shows the
"wider than the page" zoom bar), every label is at least 12 px on screen, and every label's
text contrast with what is behind it is at least 4.5:1 (WCAG AA). The measurements are
printed (``pytest -s``) as a table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import penstock
from tests.browser.build import run_build
from tests.observed.conftest import record_json_log
from tests.observed.sites import write_shop_package
from tests.support.browser import _ALL_SETTLED, _OPEN_SHADOW_ROOTS, Browser, StaticSite

MIN_LABEL_PX = 12.0
MIN_CONTRAST = 4.5
#: Full-page screenshots of every host, viewport and palette for a reviewer, in
#: ``build/screenshots/`` when ``PENSTOCK_SCREENSHOTS`` is set (they cost a few seconds each).
SCREENSHOTS = bool(os.environ.get("PENSTOCK_SCREENSHOTS"))
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

ORDERS = """
from penstock import entrypoint, flow, step
from penstock.contrib.kafka import message_entrypoint, produces


@flow("orders")
@entrypoint
def receive_order(order): ...


@flow("orders")
@step(after=receive_order)
def validate_order(order): ...


@flow("orders")
@step(after=validate_order)
def reserve_stock(order): ...


@flow("orders")
@step(after=reserve_stock, when="in stock")
def charge_payment(order): ...


@flow("orders")
@step(after=reserve_stock, when="out of stock")
def backorder_item(order): ...


@flow("orders")
@step(after=charge_payment)
def pack_parcel(order): ...


@flow("orders")
@step(after=pack_parcel)
def ship_parcel(order): ...


@flow("orders")
@produces("ledger-events")
@step(after=ship_parcel)
def publish_shipment(order): ...


@flow("orders")
@step(after=publish_shipment)
def notify_customer(order): ...


@flow("ledger")
@message_entrypoint(topic="ledger-events")
def on_shipment_event(message): ...


@flow("ledger")
@step(after=on_shipment_event)
def post_ledger_entry(message): ...


@flow("ledger")
@step(after=post_ledger_entry)
def reconcile_accounts_receivable(message): ...
"""

# The orders flow before: no backorders, no notification (`since:` marks the changes).
ORDERS_V1 = """
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive_order(order): ...


@flow("orders")
@step(after=receive_order)
def validate_order(order): ...


@flow("orders")
@step(after=validate_order)
def reserve_stock(order): ...


@flow("orders")
@step(after=reserve_stock)
def charge_payment(order): ...


@flow("orders")
@step(after=charge_payment)
def pack_parcel(order): ...


@flow("orders")
@step(after=pack_parcel)
def ship_parcel(order): ...


@flow("orders")
@step(after=ship_parcel)
def email_receipt(order): ...
"""

#: The diagrams of the test page, in order: (kind, MkDocs options, Sphinx options).
DIAGRAMS = [
    ("flow TD with a branch", "orders", {}),
    ("flow LR with a Kafka stub", "ledger", {"direction": "LR"}),
    ("observed overlay", "shop", {"observed": "runs/*.log", "drift": "ignore"}),
    ("since overlay", "orders", {"since": "v1.json"}),
    # Drawn at build time by Graphviz (inline SVG), coloured by the same custom properties.
    ("svg: observed overlay", "shop", {"observed": "runs/*.log", "drift": "ignore", "svg": "true"}),
    ("svg: since overlay", "orders", {"since": "v1.json", "svg": "true"}),
]


def _md_page() -> str:
    parts = ["# Diagrams\n\nSome text in the column.\n"]
    for _kind, flow, options in DIAGRAMS:
        lines = [f"::: penstock-flow {flow}"]
        lines += [f"    {k}: {v}" for k, v in options.items()]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _rst_page() -> str:
    parts = ["Diagrams\n========\n\nSome text in the column.\n"]
    for _kind, flow, options in DIAGRAMS:
        lines = [f".. penstock-flow:: {flow}"]
        lines += [f"   :{k}: {v}" for k, v in options.items()]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _write_app(root: Path, log: Path) -> None:
    (root / "app").mkdir(parents=True)
    (root / "app" / "ordersapp.py").write_text(ORDERS)
    write_shop_package(root / "app")
    (root / "runs").mkdir()
    shutil.copy(log, root / "runs" / "app.log")
    old = root / "old"
    old.mkdir()
    (old / "ordersapp.py").write_text(ORDERS_V1)
    done = subprocess.run(
        [sys.executable, "-m", "penstock", "dump", "-m", "ordersapp", "--path", str(old)],
        cwd=old,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (root / "v1.json").write_text(done.stdout)


def _mkdocs(root: Path, log: Path, theme: str, command: str = "mkdocs") -> Path:
    _write_app(root, log)
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(_md_page())
    # Material's palettes (and its slate scheme's colours) come with a palette setting.
    theme_line = (
        "  name: material\n  font: false\n  palette:\n"
        "    - scheme: default\n      toggle: {icon: material/brightness-4, name: dark}\n"
        "    - scheme: slate\n      toggle: {icon: material/brightness-7, name: light}\n"
        if theme == "material"
        else "  name: mkdocs\n"
    )
    (root / "mkdocs.yml").write_text(
        "site_name: fit\n"
        f"theme:\n{theme_line}"
        "plugins:\n"
        "  - penstock:\n"
        "      modules: [ordersapp, shopsite.declared]\n"
        "      paths: [app]\n"
    )
    run_build([command, "build", "--strict", "-d", str(root / "site")], cwd=root)
    return root / "site"


def _properdocs(root: Path, log: Path, theme: str) -> Path:
    """The same site built by ProperDocs (a fork of MkDocs that loads MkDocs plugins)."""
    return _mkdocs(root, log, theme, command="properdocs")


def _zensical(root: Path, log: Path, theme: str) -> Path:
    """The same page built by Zensical, set up as docs/mkdocs.md says.

    Zensical runs Markdown extensions, not MkDocs plugins: the extension is configured under
    ``markdown_extensions``, and penstock's stylesheet and scripts (the Mermaid it ships, for
    offline pages) are copied into the docs folder and listed in ``extra_css`` and
    ``extra_javascript``.
    """
    from penstock import docs

    _write_app(root, log)
    (root / "docs" / "penstock").mkdir(parents=True)
    (root / "docs" / "index.md").write_text(_md_page())
    for name in (docs.ASSETS.diagram_css, docs.ASSETS.mermaid_js, docs.ASSETS.diagrams_js):
        shutil.copy(docs.ASSETS.folder / name, root / "docs" / "penstock")
    (root / "mkdocs.yml").write_text(
        "site_name: fit\n"
        "theme:\n  font: false\n  palette:\n"
        "    - scheme: default\n      toggle: {icon: material/brightness-4, name: dark}\n"
        "    - scheme: slate\n      toggle: {icon: material/brightness-7, name: light}\n"
        "markdown_extensions:\n"
        "  - penstock_mkdocs:\n"
        "      modules: [ordersapp, shopsite.declared]\n"
        "      paths: [app]\n"
        "      strict: true\n"
        "extra_css: [penstock/penstock.css]\n"
        "extra_javascript: [penstock/mermaid.min.js, penstock/penstock-diagrams.js]\n"
    )
    run_build(["zensical", "build", "--clean"], cwd=root)
    return root / "site"


def _sphinx(root: Path, log: Path, theme: str) -> Path:
    _write_app(root, log)
    (root / "conf.py").write_text(
        textwrap.dedent(
            f"""
            project = "fit"
            extensions = ["sphinxcontrib.mermaid", "penstock_sphinx"]
            penstock_modules = ["ordersapp", "shopsite.declared"]
            penstock_paths = ["app"]
            html_theme = "{theme}"
            """
        )
    )
    (root / "index.rst").write_text(_rst_page())
    run_build(["sphinx", "-W", "-b", "html", str(root), str(root / "_build")], cwd=root)
    return root / "_build"


#: (host, theme builder, palettes to measure: name -> JS run before measuring).
_LIGHT = ""
_MATERIAL_SLATE = "document.body.setAttribute('data-md-color-scheme', 'slate');"
_FURO_DARK = "document.body.dataset.theme = 'dark';"
HOSTS: dict[str, tuple[Any, str, dict[str, str]]] = {
    "material": (_mkdocs, "material", {"light": _LIGHT, "dark": _MATERIAL_SLATE}),
    "properdocs": (_properdocs, "material", {"light": _LIGHT, "dark": _MATERIAL_SLATE}),
    "zensical": (_zensical, "zensical", {"light": _LIGHT, "dark": _MATERIAL_SLATE}),
    "mkdocs": (_mkdocs, "mkdocs", {"light": _LIGHT}),
    "alabaster": (_sphinx, "alabaster", {"light": _LIGHT}),
    "furo": (_sphinx, "furo", {"light": _LIGHT, "dark": _FURO_DARK}),
    "rtd": (_sphinx, "sphinx_rtd_theme", {"light": _LIGHT}),
}
VIEWPORTS = {"1280": (1280, 800), "390": (390, 844)}


@pytest.fixture(scope="module")
def sites(
    tmp_path_factory: pytest.TempPathFactory, build_pool: ThreadPoolExecutor
) -> Iterator[dict[str, StaticSite]]:
    """Each host's site, built once (side by side), served on 127.0.0.1."""
    log = record_json_log(tmp_path_factory.mktemp("runs") / "app.log")
    penstock.reset()
    jobs = {
        name: build_pool.submit(build, tmp_path_factory.mktemp(name), log, theme)
        for name, (build, theme, _palettes) in HOSTS.items()
    }
    served: dict[str, StaticSite] = {}
    try:
        for name, job in jobs.items():
            served[name] = StaticSite(job.result())
        yield served
    finally:
        for site in served.values():
            site.close()


# Per `.penstock-diagram` box: what the fitting script did, whether every node is within the
# visible width, the smallest label on screen, and the lowest text contrast of any label.
_MEASURE = r"""
() => {
  // Colours as [r, g, b, a]; translucent ones are composed over what is behind them.
  const parse = (c) => {
    const m = (c || "").match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3]));
  const lum = (rgb) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  };
  const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
  // The colour behind `el`: its ancestors' backgrounds composed (crossing shadow roots).
  const backdrop = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement || (n.getRootNode() && n.getRootNode().host)) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let color = [255, 255, 255];
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const fillOf = (shape, behind) => {
    const c = parse(getComputedStyle(shape).fill);
    return c && c[3] > 0 ? over(c, behind) : behind;
  };
  const textOn = (el, behind) => over(parse(getComputedStyle(el).color), behind);
  const out = [];
  for (const box of document.querySelectorAll(".penstock-diagram")) {
    const fitted = box.querySelector(".penstock-flipped svg");
    let svg = fitted;
    if (!svg) {
      const host = [...box.querySelectorAll(".mermaid")][0];
      svg = host && (host.shadowRoot || host).querySelector("svg[aria-roledescription]");
    }
    // Graphviz's inline SVG: its user units are points, its font sizes in them.
    const graphviz = !svg && box.querySelector("svg.penstock-svg");
    if (graphviz) svg = graphviz;
    if (!svg) { out.push(null); continue; }
    const area = box.querySelector(".penstock-pan") || box;
    const visible = area.getBoundingClientRect();
    const natural = graphviz ? svg.viewBox.baseVal.width
      : parseFloat(svg.getAttribute("width")) || svg.viewBox.baseVal.width;
    const scale = svg.getBoundingClientRect().width / natural;
    let smallest = Infinity, worst = Infinity, worstText = "", outside = [];
    for (const node of svg.querySelectorAll("g.node")) {
      const r = node.getBoundingClientRect();
      if (r.left < visible.left - 1 || r.right > visible.right + 1) {
        outside.push(node.textContent.trim() || node.id);
      }
      const shape = node.querySelector("rect, polygon, path, circle, ellipse");
      const fill = shape ? fillOf(shape, backdrop(svg)) : backdrop(svg);
      for (const t of graphviz ? node.querySelectorAll("text") : []) {
        if (!t.textContent.trim()) continue;
        const c = ratio(over(parse(getComputedStyle(t).fill), fill), fill);
        if (c < worst) { worst = c; worstText = t.textContent.trim(); }
      }
      for (const t of node.querySelectorAll(".nodeLabel p, .nodeLabel span, .nodeLabel")) {
        if (!t.textContent.trim() || t.children.length && t.querySelector("p, span")) continue;
        const c = ratio(textOn(t, fill), fill);
        if (c < worst) { worst = c; worstText = t.textContent.trim(); }
      }
    }
    for (const e of svg.querySelectorAll(".edgeLabel p, .edgeLabel span")) {
      if (!e.textContent.trim() || e.querySelector("p, span")) continue;
      const behind = backdrop(e);
      const c = ratio(textOn(e, behind), behind);
      if (c < worst) { worst = c; worstText = e.textContent.trim(); }
    }
    for (const t of graphviz ? svg.querySelectorAll("g.edge text") : []) {
      const behind = backdrop(svg);
      const c = ratio(over(parse(getComputedStyle(t).fill), behind), behind);
      if (c < worst) { worst = c; worstText = t.textContent.trim(); }
    }
    for (const el of svg.querySelectorAll(".nodeLabel, .edgeLabel, text")) {
      if (!el.textContent.trim()) continue;
      smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize) * scale);
    }
    const legend = box.querySelector(".penstock-legend");
    if (legend) {
      for (const li of legend.querySelectorAll("li")) {
        const behind = backdrop(li);
        const c = ratio(textOn(li, behind), behind);
        if (c < worst) { worst = c; worstText = "legend: " + li.textContent.trim(); }
      }
    }
    // Graphviz's marked steps take their fill from penstock.css's custom property of the
    // page's palette (light or dark), not from the colour Graphviz wrote.
    const unstyled = [];
    for (const g of graphviz ? svg.querySelectorAll("g.node") : []) {
      const mark = [...g.classList].find((c) => /^ps_/.test(c) && !/^ps_(stub|ghost)$/.test(c));
      if (!mark) continue;
      const want = getComputedStyle(svg).getPropertyValue(`--penstock-${mark.slice(3)}-fill`);
      const hex = want.trim().match(/^#([0-9a-f]{6})$/i);
      const shape = g.querySelector("polygon, path, ellipse");
      const got = shape && parse(getComputedStyle(shape).fill);
      const same = hex && got && [0, 1, 2].every(
        (i) => parseInt(hex[1].slice(2 * i, 2 * i + 2), 16) === got[i]);
      if (!same) unstyled.push(`${g.textContent.trim()}: ${want.trim()} expected`);
    }
    const bar = box.querySelector(".penstock-wide-bar");
    out.push({
      unstyled: unstyled,
      fit: box.getAttribute("data-penstock-fit"),
      scale: scale,
      natural: natural,
      column: box.clientWidth,
      label_px: smallest,
      contrast: worst,
      worst_text: worstText,
      outside: outside,
      zoom_bar: Boolean(bar && bar.getBoundingClientRect().height > 0),
      legend_below: legend
        ? legend.getBoundingClientRect().top >= (
          box.querySelector(".penstock-pan") || svg).getBoundingClientRect().bottom - 1
        : null,
      legend_width: legend ? legend.getBoundingClientRect().width : 0,
    });
  }
  return out;
}
"""

_FITTED = """
() => [...document.querySelectorAll(".penstock-diagram")].every(
  (b) => b.hasAttribute("data-penstock-fit"))
"""


_UNFIT = """
() => document.querySelectorAll("[data-penstock-fit]").forEach(
  (b) => b.removeAttribute("data-penstock-fit"))
"""


def _measure_host(browser: Browser, host: str, url: str) -> dict[tuple[str, str], Any]:
    """One page load per host: each viewport (the script refits on resize), each palette."""
    palettes = HOSTS[host][2]
    found: dict[tuple[str, str], Any] = {}
    context = browser._browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_init_script(_OPEN_SHADOW_ROOTS)
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function(_ALL_SETTLED, timeout=30_000, polling=100)
        for view, (width, height) in VIEWPORTS.items():
            if width != 1280:
                page.evaluate(_UNFIT)
                page.set_viewport_size({"width": width, "height": height})
            for palette, script in palettes.items():
                page.evaluate(f"() => {{ {script or _LIGHT_AGAIN.get(host, '')} }}")
                page.wait_for_function(_FITTED, timeout=30_000, polling=100)
                page.wait_for_timeout(100)
                found[view, palette] = page.evaluate(_MEASURE)
                if SCREENSHOTS:
                    SHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(
                        path=str(SHOTS / f"fit-{host}-{view}-{palette}.png"), full_page=True
                    )
        return found
    finally:
        context.close()


#: How each dark palette is turned back to light before the next viewport is measured.
_LIGHT_AGAIN = {
    "material": "document.body.setAttribute('data-md-color-scheme', 'default');",
    "properdocs": "document.body.setAttribute('data-md-color-scheme', 'default');",
    "zensical": "document.body.setAttribute('data-md-color-scheme', 'default');",
    "furo": "document.body.dataset.theme = 'light';",
}


@pytest.mark.parametrize("host", list(HOSTS))
def test_diagrams_fit_the_column_legibly_in_light_and_dark(
    sites: dict[str, StaticSite], browser: Browser, host: str
) -> None:
    """Every node visible (or the zoom bar shown), labels >= 12 px, contrast >= 4.5:1."""
    measured = _measure_host(browser, host, sites[host].url("index.html"))
    problems = []
    for (view, palette), found in measured.items():
        assert len(found) == len(DIAGRAMS), found
        for (kind, _flow, _options), m in zip(DIAGRAMS, found, strict=True):
            assert m is not None, f"{kind} was not drawn"
            print(
                f"\n{host:9} {view:>4} {palette:5} {kind:26} fit={m['fit']:8} "
                f"scale={m['scale']:.2f} width={m['natural']:.0f}/{m['column']} "
                f"label={m['label_px']:.1f}px contrast={m['contrast']:.2f} "
                f"({m['worst_text'][:30]})",
                end="",
            )
            where = f"{view} {palette} {kind}"
            if m["outside"] and not m["zoom_bar"]:
                problems.append(f"{where}: nodes outside the visible width: {m['outside']}")
            if m["label_px"] < MIN_LABEL_PX - 0.01:  # rounding of the scale
                problems.append(f"{where}: labels {m['label_px']:.1f} px")
            if m["contrast"] < MIN_CONTRAST:
                problems.append(f"{where}: contrast {m['contrast']:.2f} ({m['worst_text']!r})")
            if m["unstyled"]:
                problems.append(f"{where}: not in the palette's colours: {m['unstyled']}")
            if m["legend_below"] is False:
                problems.append(f"{where}: legend not below the diagram")
            if m["legend_width"] > m["column"] + 1:
                problems.append(f"{where}: legend wider than the column")
    assert not problems, f"{host}: {problems}"
