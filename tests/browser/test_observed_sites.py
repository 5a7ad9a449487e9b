"""Recorded runs drawn over a flow, checked in headless Chromium: MkDocs + Material and Sphinx.

The check reads the drawn SVG: edge labels (the counts) are there and take space, the dead
edge is drawn dashed, the legend boxes are there, and one run's failing step is marked.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import penstock
from tests.browser.build import copy_mermaid_esm, mermaid_dist, run_build
from tests.observed.conftest import record_json_log
from tests.observed.sites import mkdocs_site, sphinx_project
from tests.support.browser import Browser, PageReport, StaticSite

TIMES = "\u00d7"  # the multiplication sign after a count

# Per diagram: every edge path's id and computed dash/stroke, every edge label's text and size.
_EDGES = """() => {
  const containers = [...document.querySelectorAll(".mermaid")].filter(
    (el) => !el.parentElement || !el.parentElement.closest(".mermaid"));
  return containers.map((el) => {
    const svg = (el.shadowRoot || el).querySelector("svg[aria-roledescription]");
    if (!svg) return null;
    const edges = [...svg.querySelectorAll("path.flowchart-link")].map((p) => {
      const cs = getComputedStyle(p);
      return {
        id: p.id || "", dash: cs.strokeDasharray, stroke: cs.stroke, width: cs.strokeWidth,
        cls: p.getAttribute("class") || "",
      };
    });
    const labels = [...svg.querySelectorAll(".edgeLabel")]
      .filter((e) => !e.parentElement.closest(".edgeLabel"))
      .map((e) => {
        const r = e.getBoundingClientRect();
        return { text: e.textContent.trim(), width: r.width, height: r.height };
      })
      .filter((l) => l.text);
    return { edges, labels };
  });
}"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop flow's runs as JSON log lines."""
    path = record_json_log(tmp_path_factory.mktemp("runs") / "app.log")
    penstock.reset()
    return path


def _edge(diagram: dict[str, Any], source: str, target: str) -> dict[str, Any]:
    found = [e for e in diagram["edges"] if f"{source}_{target}" in e["id"]]
    assert found, f"no edge {source} -> {target} in {[e['id'] for e in diagram['edges']]}"
    return found[0]


def _dashed(edge: dict[str, Any]) -> bool:
    """Drawn with the overlay's dash pattern (5 4), not Mermaid's own arrow-end offsets."""
    return "5px, 4px" in edge["dash"] or edge["dash"] == "5px 4px"


def _check_overview(report: PageReport) -> None:
    report.assert_clean(expected_diagrams=1)
    diagram = report.diagrams[0]
    assert "declared, never observed" in diagram.legend
    assert "observed, not declared" in diagram.legend
    assert any(label.startswith("refund\nnever called") for label in diagram.labels)
    assert any("8 calls · 25% errors · p95" in label for label in diagram.labels)
    [drawn] = report.extra
    labels = {label["text"]: label for label in drawn["labels"]}
    for text in (f"{n}{TIMES}" for n in (9, 8, 6, 1)):
        assert text in labels, labels
        assert labels[text]["width"] > 0
        assert labels[text]["height"] > 0
    dead = _edge(drawn, "charge", "refund")
    taken = _edge(drawn, "checkout", "validate")
    assert _dashed(dead), dead
    assert not _dashed(taken), taken
    assert float(taken["width"].removesuffix("px")) > float(dead["width"].removesuffix("px"))


def _check_run(report: PageReport) -> None:
    report.assert_clean(expected_diagrams=1)
    diagram = report.diagrams[0]
    assert any("failed here" in label for label in diagram.labels), diagram.labels
    assert "where the run failed" in diagram.legend
    [drawn] = report.extra
    assert _dashed(_edge(drawn, "charge", "ship"))


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def mkdocs_built(
    request: pytest.FixtureRequest, recorded: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    """The Material site, built by `mkdocs build`, served, with Mermaid 12 or 11."""
    dist = mermaid_dist(request.param)
    root = tmp_path_factory.mktemp(f"observed-mkdocs-{request.param}")
    site = mkdocs_site(
        root, recorded, missing=False, extra={"extra_javascript": ["js/mermaid.min.js"]}
    )
    (site / "docs" / "js").mkdir()
    shutil.copy2(dist / "mermaid.min.js", site / "docs" / "js" / "mermaid.min.js")
    run_build(["mkdocs", "build", "-d", str(site / "site")], cwd=site)
    with StaticSite(site / "site") as served:
        yield served


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def sphinx_built(
    request: pytest.FixtureRequest, recorded: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticSite]:
    """The Sphinx site (sphinxcontrib-mermaid, local ES module Mermaid), built and served."""
    root = tmp_path_factory.mktemp(f"observed-sphinx-{request.param}")
    src = root / "src"
    local = copy_mermaid_esm(request.param, src / "_static")
    sphinx_project(
        src,
        recorded,
        conf_extra=f'html_static_path = ["_static"]\nmermaid_use_local = {local!r}\n',
    )
    (src / "missing.rst").write_text("Missing\n=======\n\nNothing here.\n")
    out = root / "html"
    run_build(["sphinx", "-q", "-b", "html", str(src), str(out)], cwd=root)
    with StaticSite(out) as served:
        yield served


def test_mkdocs_material_draws_the_overlay(mkdocs_built: StaticSite, browser: Browser) -> None:
    """Counts visible on edges, the dead edge dashed and thinner, calls in boxes, a legend."""
    _check_overview(browser.check_page(mkdocs_built.url("index.html"), extra=_EDGES))


def test_mkdocs_material_draws_one_run(mkdocs_built: StaticSite, browser: Browser) -> None:
    """One replayed run: the failing step marked, untaken edges dashed."""
    _check_run(browser.check_page(mkdocs_built.url("run/index.html"), extra=_EDGES))


def test_sphinx_draws_the_overlay(sphinx_built: StaticSite, browser: Browser) -> None:
    """The same overlay through sphinxcontrib-mermaid."""
    _check_overview(browser.check_page(sphinx_built.url("index.html"), extra=_EDGES))


def test_sphinx_draws_one_run(sphinx_built: StaticSite, browser: Browser) -> None:
    """The same replayed run through sphinxcontrib-mermaid."""
    _check_run(browser.check_page(sphinx_built.url("run.html"), extra=_EDGES))
