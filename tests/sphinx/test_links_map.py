"""Sphinx: stubs of linked flows and map boxes are resolved cross-references to diagrams."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from shutil import copytree

import pytest

from penstock.docs import flow_anchor
from tests.sphinx.html import mermaid_blocks
from tests.support.mermaid import MermaidOracle
from tests.support.sphinx import run_sphinx

ROOT = Path(__file__).parent / "roots" / "test-links"


def _build(tmp_path: Path, *args: str) -> Path:
    srcdir = tmp_path / "src"
    copytree(ROOT, srcdir)
    out = srcdir / "_build" / "html"
    result = run_sphinx(srcdir, out, "-W", *args)
    assert result.returncode == 0, result.stderr
    return out


def _clicks(text: str) -> dict[str, str]:
    return dict(re.findall(r'click (\S+) href "([^"]*)"', text))


@pytest.mark.parametrize("jobs", [(), ("-j", "2")], ids=["serial", "parallel"])
def test_stubs_and_map_link_to_the_diagrams(
    tmp_path: Path, jobs: tuple[str, ...], mermaid_oracle: MermaidOracle
) -> None:
    """Each stub links to the page and anchor drawing that flow; an undrawn flow's stub has
    no link; the map's boxes link to drawn flows; the role resolves too; -W passes."""
    out = _build(tmp_path, *jobs)
    (orders,) = mermaid_blocks(out / "orders.html")
    assert list(_clicks(orders).values()) == [f"sub/shipping.html#{flow_anchor('shipping')}"]
    (shipping,) = mermaid_blocks(out / "sub" / "shipping.html")
    # audit is drawn on no page: its stub is there, without a link.
    assert '>"audit"]' in shipping
    assert list(_clicks(shipping).values()) == [f"../orders.html#{flow_anchor('orders')}"]
    page = (out / "sub" / "shipping.html").read_text()
    assert f'id="{flow_anchor("shipping")}"' in page
    (flow_map,) = mermaid_blocks(out / "index.html")
    assert _clicks(flow_map) == {
        "n1": f"orders.html#{flow_anchor('orders')}",
        "n2": f"sub/shipping.html#{flow_anchor('shipping')}",
    }
    assert '    n1 -. "kafka: order-events" .-> n2' in flow_map
    index = (out / "index.html").read_text()
    assert f'href="sub/shipping.html#{flow_anchor("shipping")}"' in index
    assert "penstock-xref" not in index + orders + shipping
    for text in (orders, shipping, flow_map):
        for parsed in mermaid_oracle.parse_one(text):
            assert parsed.ok, parsed.error


def test_legend_by_default_and_off_per_diagram(tmp_path: Path) -> None:
    """A diagram gets a legend of its shapes; :legend: false and :links: false drop them."""
    out = _build(tmp_path)
    (shipping,) = mermaid_blocks(out / "sub" / "shipping.html")
    # Below the drawing, as HTML: never inside it (where it widened the diagram).
    assert "Legend" not in shipping
    page = (out / "sub" / "shipping.html").read_text()
    assert '<div class="penstock-legend"' in page
    assert "only one of the labelled arrows leaving it is taken" in page
    (plain,) = mermaid_blocks(out / "plain.html")
    assert "Legend" not in plain
    assert "penstock-legend" not in (out / "plain.html").read_text()
    assert '>"shipping"]' not in plain


def test_svg_option_draws_inline_svg_with_resolved_links(tmp_path: Path) -> None:
    """:svg: gives Graphviz's SVG in the page (no Mermaid), its stub link resolved."""
    srcdir = tmp_path / "src"
    copytree(ROOT, srcdir)
    page = srcdir / "sub" / "shipping.rst"
    page.write_text(page.read_text() + "   :svg:\n")
    out = srcdir / "_build" / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "--no-color",
            "-b",
            "html",
            "-q",
            "-W",
            str(srcdir),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    html = (out / "sub" / "shipping.html").read_text()
    assert '<pre  class="mermaid">' not in html
    assert '<svg class="penstock-svg"' in html
    assert f'xlink:href="../orders.html#{flow_anchor("orders")}"' in html
    assert "penstock-xref" not in html
    assert 'fill="currentColor"' in html


def test_incremental_build_keeps_the_links(tmp_path: Path) -> None:
    """Re-reading only the orders page still resolves its stub to the shipping page, whose
    target comes from the saved environment; a page moved away stops being the target."""
    srcdir = tmp_path / "src"
    copytree(ROOT, srcdir)
    out = srcdir / "_build" / "html"

    def build() -> str:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "--no-color",
                "-b",
                "html",
                "-W",
                str(srcdir),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    build()
    orders = srcdir / "orders.rst"
    orders.write_text(orders.read_text() + "\nEdited.\n")
    log = build()
    # orders is re-read; shipping and the map too, as they link to the page that was edited.
    assert "3 changed" in log, log
    assert "] orders" in log
    (text,) = mermaid_blocks(out / "orders.html")
    assert list(_clicks(text).values()) == [f"sub/shipping.html#{flow_anchor('shipping')}"]


def test_incremental_build_follows_a_flow_to_its_new_page(tmp_path: Path) -> None:
    """When shipping's diagram moves to another page, the orders page is written again and
    its stub links to the new page (the other pages unchanged)."""
    srcdir = tmp_path / "src"
    copytree(ROOT, srcdir)
    out = srcdir / "_build" / "html"

    def build() -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "--no-color",
                "-b",
                "html",
                "-q",
                "-W",
                str(srcdir),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    build()
    (srcdir / "sub" / "shipping.rst").write_text("Shipping\n========\n\nMoved.\n")
    plain = srcdir / "plain.rst"
    plain.write_text(plain.read_text() + "\n.. penstock-flow:: shipping\n")
    build()
    (text,) = mermaid_blocks(out / "orders.html")
    assert list(_clicks(text).values()) == [f"plain.html#{flow_anchor('shipping')}"]


def test_incremental_build_redraws_the_map_when_flows_change(tmp_path: Path) -> None:
    """A flow added in the code appears on the map page at the next (incremental) build."""
    srcdir = tmp_path / "src"
    copytree(ROOT, srcdir)
    out = srcdir / "_build" / "html"

    def build() -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "--no-color",
                "-b",
                "html",
                "-q",
                "-W",
                str(srcdir),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    build()
    (before,) = mermaid_blocks(out / "index.html")
    assert '"returns"' not in before
    module = srcdir / "linked" / "flows.py"
    module.write_text(
        module.read_text() + '\n\n@flow("returns")\n@entrypoint\ndef take_back(): ...\n'
    )
    build()
    (after,) = mermaid_blocks(out / "index.html")
    assert '["returns"]' in after
