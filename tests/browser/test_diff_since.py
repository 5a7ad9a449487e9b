"""A diff diagram drawn by real Mermaid in headless Chromium: ``since: v1`` on a MkDocs page, and
the Markdown report's diagrams placed on a page as GitHub and GitLab would render them."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.build import mermaid_dist, run_build
from tests.diff.conftest import Repo, repo
from tests.diff.test_docs_since import PAGE, in_git
from tests.diff.test_gate import Shop, shop
from tests.mkdocs.conftest import write_site
from tests.support.browser import Browser, StaticSite

__all__ = ["repo", "shop"]

CONFIG_EXTRA = {"extra_javascript": ["js/mermaid.min.js"]}


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo: Repo
) -> Iterator[StaticSite]:
    """A MkDocs site in a git checkout drawing `since: v1`, plus a page holding the Markdown
    report of the test repository's v1 -> v3 change, rendered with a local Mermaid."""
    root = write_site(
        tmp_path_factory.mktemp(f"since-m{request.param}"),
        {"index.md": PAGE, "report.md": _report(repo)},
        extra=CONFIG_EXTRA,
    )
    in_git(root)
    (root / "docs" / "js").mkdir()
    shutil.copy2(mermaid_dist(request.param) / "mermaid.min.js", root / "docs" / "js")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def _report(repo: Repo) -> str:
    out = repo.penstock("diff", "v1", "v3", "-f", "markdown")
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_since_diagram_renders_with_removed_steps_and_legend(
    site: StaticSite, browser: Browser
) -> None:
    """The highlighted flow renders: the kept removed step, the added one, the legend lines."""
    page = browser.check_page(site.url("index.html"))
    page.assert_clean(expected_diagrams=1)
    assert sorted(page.diagrams[0].labels) == sorted(["receive", "email", "fax"])
    legend = ["entrypoint: a run of the flow starts here", "added since v1", "removed since v1"]
    assert sorted(page.diagrams[0].legend) == sorted(legend)


def test_markdown_report_diagrams_render(site: StaticSite, browser: Browser) -> None:
    """Every diagram of a `penstock diff --format markdown` report renders in the browser."""
    page = browser.check_page(site.url("report/index.html"))
    page.assert_clean(expected_diagrams=3)
    orders = sorted(page.diagrams[1].labels)
    assert "legacy_fax" in orders
    assert "check\nrenamed from validate; now an entrypoint" in orders


@pytest.fixture(scope="module")
def traffic_site(tmp_path_factory: pytest.TempPathFactory, shop: Shop) -> Iterator[StaticSite]:
    """A page holding the Markdown report of a change, with the recorded traffic on it."""
    out = shop.penstock("diff", "v1", "v2", "-f", "markdown", "--observed", "runs.log")
    assert out.returncode == 0, out.stderr
    root = write_site(
        tmp_path_factory.mktemp("traffic"), {"index.md": out.stdout}, extra=CONFIG_EXTRA
    )
    (root / "docs" / "js").mkdir()
    shutil.copy2(mermaid_dist("11") / "mermaid.min.js", root / "docs" / "js")
    run_build(["mkdocs", "build", "--strict", "-d", str(root / "site")], cwd=root)
    with StaticSite(root / "site") as served:
        yield served


def test_traffic_report_renders_with_counts_on_the_removed_edge(
    traffic_site: StaticSite, browser: Browser, tmp_path: Path
) -> None:
    """The "Still carrying traffic" report's diagram renders, the removed edge labelled."""
    page = browser.check_page(traffic_site.url(), screenshot=tmp_path / "traffic.png")
    page.assert_clean(expected_diagrams=1)
    (diagram,) = page.diagrams
    assert "4 calls" in diagram.edge_labels
    assert any(
        label.startswith("legacy_fax\n4 calls in 3 runs, last seen ") for label in diagram.labels
    )
    assert "accept_refund\nrenamed from approve_refund?" in diagram.labels


# GitHub draws a comment's Mermaid blocks with Mermaid's own themes: "default" on its light
# page, "dark" on its dark one. No page CSS reaches them, so the report's colours must read
# on both by themselves.
_GITHUB = {"light": ("#ffffff", "default"), "dark": ("#0d1117", "dark")}
_GITHUB_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body style="background:{background};margin:0;padding:16px">{blocks}
<script src="mermaid.min.js"></script>
<script>mermaid.initialize({{startOnLoad: true, theme: "{theme}"}});</script></body></html>
"""

# A diagram penstock did not style: what the theme itself gives an edge label.
_PLAIN_EDGE = 'graph TD\n    a -->|"plain edge label"| b\n'

# The lowest contrast of any node or edge label with what is behind it (WCAG formula).
_LOWEST_CONTRAST = r"""
() => {
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
  const backdrop = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let color = [255, 255, 255];
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const out = [];
  for (const svg of document.querySelectorAll("svg[aria-roledescription]")) {
    const page = backdrop(svg);
    for (const node of svg.querySelectorAll("g.node")) {
      const shape = node.querySelector("rect, polygon, path, circle");
      const fill = parse(shape && getComputedStyle(shape).fill);
      const behind = fill && fill[3] > 0 ? over(fill, page) : page;
      for (const t of node.querySelectorAll(".nodeLabel p, .nodeLabel span")) {
        if (!t.textContent.trim() || t.querySelector("p, span")) continue;
        const text = over(parse(getComputedStyle(t).color), behind);
        out.push([ratio(text, behind), t.textContent.trim(), "node"]);
      }
    }
    for (const e of svg.querySelectorAll(".edgeLabel p, .edgeLabel span")) {
      if (!e.textContent.trim() || e.querySelector("p, span")) continue;
      const behind = backdrop(e);
      const text = over(parse(getComputedStyle(e).color), behind);
      out.push([ratio(text, behind), e.textContent.trim(), "edge"]);
    }
  }
  out.sort((a, b) => a[0] - b[0]);
  return out;
}
"""


@pytest.mark.parametrize("mode", list(_GITHUB))
def test_markdown_report_reads_in_githubs_light_and_dark_themes(
    shop: Shop, browser: Browser, tmp_path: Path, mode: str
) -> None:
    """The report's diagrams, drawn as GitHub draws them in light and dark mode: every node
    label at least 4.5:1 against its box, every edge label (the counts on removed edges
    included) as legible as a plain one in that theme, and the legend a line of text below
    the diagram, not boxes beside it.

    Edge labels keep the theme's own colours: Mermaid's dark theme draws a plain edge label
    at 4.43:1, and no colour a Markdown comment can set reads on both themes' label chips."""
    out = shop.penstock("diff", "v1", "v2", "-f", "markdown", "--observed", "runs.log")
    assert out.returncode == 0, out.stderr
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", out.stdout, re.M | re.S)
    assert blocks
    assert all("Legend" not in block for block in blocks)
    assert "**Legend:** " in out.stdout.split(blocks[-1], 1)[1]
    background, theme = _GITHUB[mode]
    (tmp_path / "index.html").write_text(
        _GITHUB_PAGE.format(
            background=background,
            theme=theme,
            blocks="".join(
                f'<pre class="mermaid">{html.escape(b)}</pre>' for b in [*blocks, _PLAIN_EDGE]
            ),
        ),
        encoding="utf-8",
    )
    shutil.copy2(mermaid_dist("11") / "mermaid.min.js", tmp_path)
    with StaticSite(tmp_path) as served:
        page = browser.check_page(
            served.url("index.html"),
            extra=_LOWEST_CONTRAST,
            screenshot=tmp_path / f"github-{mode}.png",
        )
    page.assert_clean(expected_diagrams=len(blocks) + 1)
    measured = page.extra
    theme_edge = next(c for c, text, _ in measured if text == "plain edge label")
    nodes = [(c, text) for c, text, kind in measured if kind == "node"]
    edges = [(c, text) for c, text, kind in measured if kind == "edge"]
    assert "4 calls" in {text for _, text in edges}, measured
    print(
        f"\n{mode}: lowest node label {nodes[0][0]:.2f} ({nodes[0][1]!r}), lowest edge label "
        f"{edges[0][0]:.2f} ({edges[0][1]!r}), the theme's plain edge label {theme_edge:.2f}"
    )
    assert nodes[0][0] >= 4.5, nodes[:5]
    assert edges[0][0] >= theme_edge - 0.01, edges[:5]
