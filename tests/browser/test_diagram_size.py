"""Readable diagrams at default settings, measured in Chromium at a 1280 px wide window.

Flows of 15 steps, as a chain and as a fan-out, drawn top-down and left-right: every label is
at least 12 px on screen, and no diagram's box is more than twice as tall as the diagram.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.build import run_build
from tests.support.browser import _ALL_SETTLED, _OPEN_SHADOW_ROOTS, Browser, StaticSite

MIN_TEXT_PX = 12.0
MAX_BOX_RATIO = 2.0
NAMES = [
    "validate_order",
    "reserve_inventory",
    "price_the_basket",
    "apply_discounts",
    "check_fraud_score",
    "authorize_payment",
    "capture_payment",
    "allocate_warehouse",
    "print_shipping_label",
    "hand_to_carrier",
    "send_confirmation",
    "update_loyalty_points",
    "write_audit_record",
    "publish_order_event",
]


def _flows_module() -> str:
    lines = ["from penstock import entrypoint, flow, step", ""]
    for kind in ("chain", "fan"):
        # One module, two flows: the functions need names of their own.
        first = f"{kind}_receive_order"
        lines += [f'@flow("{kind}")', "@entrypoint", f"def {first}(): ...", ""]
        before = first
        for name in NAMES:
            fn = f"{kind}_{name}"
            lines += [f'@flow("{kind}")', f'@step(after="{before}")', f"def {fn}(): ...", ""]
            if kind == "chain":
                before = fn
    return "\n".join(lines)


#: What each page draws, in order: (flow, direction).
DIAGRAMS = [("chain", "TD"), ("chain", "LR"), ("fan", "TD"), ("fan", "LR")]

_MEASURE = """
() => {
  const out = [];
  const outer = [...document.querySelectorAll('.mermaid')].filter(
    (el) => !el.parentElement.closest('.mermaid'));
  for (const box of outer) {
    // penstock-diagrams.js may have drawn a wide left-right flow top-down instead.
    const flipped = box.closest('.penstock-diagram')
      && box.closest('.penstock-diagram').querySelector('.penstock-flipped svg');
    const svg = flipped || (box.shadowRoot || box).querySelector('svg[aria-roledescription]');
    if (!svg) { out.push(null); continue; }
    const rect = svg.getBoundingClientRect();
    const scale = rect.width / svg.viewBox.baseVal.width;
    let smallest = Infinity;
    for (const el of svg.querySelectorAll('.nodeLabel, text')) {
      if (!el.textContent.trim()) continue;
      smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize) * scale);
    }
    out.push({
      text: smallest,
      box: box.getBoundingClientRect().height,
      drawn: rect.height,
      labels: svg.querySelectorAll('.nodeLabel').length,
    });
  }
  return out;
}
"""


def measure(browser: Browser, url: str) -> list[dict[str, Any] | None]:
    """Open ``url`` at 1280x900, wait for every diagram, and measure each one."""
    context = browser._browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_init_script(_OPEN_SHADOW_ROOTS)
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function(_ALL_SETTLED, timeout=30_000, polling=100)
        page.wait_for_timeout(300)
        found: list[dict[str, Any] | None] = page.evaluate(_MEASURE)
        return found
    finally:
        context.close()


def assert_readable(found: list[dict[str, Any] | None]) -> None:
    assert len(found) == len(DIAGRAMS)
    problems = []
    for (flow, direction), m in zip(DIAGRAMS, found, strict=True):
        assert m is not None, f"{flow} {direction} did not render"
        assert m["labels"] == 15, m
        if m["text"] < MIN_TEXT_PX - 0.01:  # the fitted scale is rounded
            problems.append(f"{flow} {direction}: labels {m['text']:.1f} px")
        if m["box"] > MAX_BOX_RATIO * m["drawn"]:
            problems.append(f"{flow} {direction}: box {m['box']:.0f} px for {m['drawn']:.0f} px")
    assert not problems, problems


def _write_flows(root: Path) -> None:
    (root / "sizeflows.py").write_text(_flows_module(), encoding="utf-8")


MD_PAGE = "".join(
    f"::: penstock-flow {flow}\n    direction: {direction}\n\n" for flow, direction in DIAGRAMS
)
MKDOCS_YML = """\
site_name: sizes
theme:
{theme}
markdown_extensions:
  - pymdownx.superfences
plugins:
  - search
  - penstock:
      modules: [sizeflows]
      paths: [{path}]
      # Step labels are counted one by one; the legend is checked in test_links_site.py.
      legend: false
"""
THEMES = {
    "material": "  name: material\n  font: false",
    "mkdocs": "  name: mkdocs\n  highlightjs: false",
}


@pytest.fixture(scope="module", params=sorted(THEMES))
def mkdocs_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    root = tmp_path_factory.mktemp(f"size-{request.param}")
    _write_flows(root)
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# Sizes\n\n" + MD_PAGE, encoding="utf-8")
    config = MKDOCS_YML.format(theme=THEMES[request.param], path=json.dumps(str(root)))
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def test_mkdocs_diagrams_are_readable(mkdocs_site: StaticSite, browser: Browser) -> None:
    """Material and the mkdocs theme: labels >= 12 px, boxes at most twice the diagram."""
    assert_readable(measure(browser, mkdocs_site.url("index.html")))


RST_PAGE = "Sizes\n=====\n\n" + "".join(
    f".. penstock-flow:: {flow}\n   :direction: {direction}\n\n" for flow, direction in DIAGRAMS
)


@pytest.fixture(scope="module", params=["alabaster", "furo"])
def sphinx_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    if request.param == "furo":
        pytest.importorskip("furo", reason="furo is in the dev extra")
    root = tmp_path_factory.mktemp(f"size-sphinx-{request.param}")
    _write_flows(root)
    src = root / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        textwrap.dedent(
            f"""
            extensions = ["penstock_sphinx"]
            penstock_modules = ["sizeflows"]
            penstock_paths = [{str(root)!r}]
            penstock_legend = False
            html_theme = {request.param!r}
            """
        )
    )
    (src / "index.rst").write_text(RST_PAGE)
    run_build(["sphinx", "-W", "-q", "-b", "html", str(src), str(root / "html")], cwd=root)
    with StaticSite(root / "html") as served:
        yield served


def test_sphinx_diagrams_are_readable(sphinx_site: StaticSite, browser: Browser) -> None:
    """alabaster and furo: labels >= 12 px, boxes at most twice the diagram."""
    assert_readable(measure(browser, sphinx_site.url("index.html")))
