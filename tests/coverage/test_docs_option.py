"""The ``coverage:`` option in real MkDocs (Material) and Sphinx builds."""

from __future__ import annotations

import html
import subprocess
import sys
import textwrap
from pathlib import Path

from penstock._coverage.model import CoverageReport, FlowCoverage, Item, Measure
from tests.mkdocs.conftest import ORDERS, Build, run, write_modules, write_site
from tests.sphinx.html import mermaid_blocks

CAPTION = (
    "Flow coverage (3 runs): steps 2/3 (67%), edges 1/2 (50%), branches 0/0 (100%), paths 0/1 (0%)"
)


def _report(path: Path) -> None:
    """A report of the ``orders`` flow: ``end`` and the edge into it never exercised."""
    fc = FlowCoverage(
        "orders",
        3,
        Measure("steps", (Item(("receive_order",)), Item(("check_stock",))), (Item(("end",)),)),
        Measure(
            "edges", (Item(("receive_order", "check_stock")),), (Item(("check_stock", "end")),)
        ),
        Measure("branches"),
        Measure("paths", (), (Item(("receive_order", "check_stock", "end")),)),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CoverageReport({"orders": fc}).text())


def test_mkdocs_draws_the_report_with_a_caption(tmp_path: Path) -> None:
    """coverage: highlights what is missing, captions the percentages, warns on a bad file."""
    pages = {
        "index.md": "# Orders\n\n::: penstock-flow orders\n    coverage: reports/cov.json\n",
        "bad.md": "# Bad\n\n::: penstock-flow orders\n    coverage: reports/none.json\n",
    }
    site = write_site(tmp_path / "site", pages)
    _report(site / "reports" / "cov.json")
    build: Build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    [drawn] = build.diagrams("index")
    assert "not covered" in drawn
    assert "not taken" in drawn
    page = build.page("index")
    legend = html.unescape(page)  # the legend is HTML below the drawing
    assert "not exercised by the tests" in legend
    assert "plain: covered" in legend
    assert "Flow coverage" not in drawn  # the percentages are the caption, not a legend line
    assert f"<figcaption>{CAPTION}</figcaption>" in html.unescape(page)
    assert "bad.md:3: penstock-flow 'orders': coverage: cannot read coverage report" in (
        build.output
    )
    assert run("mkdocs", site, "--strict").returncode != 0


def test_sphinx_draws_the_report_in_a_figure(tmp_path: Path) -> None:
    """:coverage: gives a figure whose caption holds the percentages after the author's own."""
    src = tmp_path / "sphinx"
    write_modules(src, {"shop/orders.py": ORDERS})
    _report(src / "reports" / "cov.json")
    (src / "conf.py").write_text(
        textwrap.dedent(
            """
            project = "orders"
            extensions = ["penstock_sphinx"]
            penstock_modules = ["shop.orders"]
            penstock_paths = ["."]
            """
        )
    )
    (src / "index.rst").write_text(
        "Orders\n======\n\n.. penstock-flow:: orders\n   :coverage: reports/cov.json\n"
        "   :caption: Taking an order\n"
    )
    out = src / "_build" / "html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "--no-color",
            "-W",
            "-b",
            "html",
            "-q",
            str(src),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [drawn] = mermaid_blocks(out / "index.html")
    page = (out / "index.html").read_text()
    assert "not covered" in drawn
    assert f"Taking an order ({CAPTION})" in html.unescape(page)
