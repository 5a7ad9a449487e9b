"""Sphinx :link-api:: nodes link to the steps' entries in the API reference (Python domain)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from penstock.docs import flow_anchor
from tests.sphinx.html import mermaid_blocks
from tests.support.sphinx import run_sphinx

ROOT = Path(__file__).parent / "roots" / "test-links"

API = """\
API
===

.. autofunction:: linked.flows.on_order

.. autofunction:: linked.flows.ship
"""


def _site(tmp_path: Path, *, document_all: bool) -> Path:
    srcdir = tmp_path / "src"
    shutil.copytree(ROOT, srcdir)
    conf = srcdir / "conf.py"
    conf.write_text(
        conf.read_text()
        + 'extensions.append("sphinx.ext.autodoc")\n'
        + 'penstock_source_url = "https://git.example/app/blob/main/{path}#L{line}"\n'
        + 'penstock_source_root = "."\n'
    )
    (srcdir / "api.rst").write_text(API)
    index = srcdir / "index.rst"
    index.write_text(index.read_text().replace("   plain\n", "   plain\n   api\n"))
    page = srcdir / "sub" / "shipping.rst"
    flow = "shipping" if document_all else "orders"
    page.write_text(page.read_text() + f"\n.. penstock-flow:: {flow}\n   :link-api:\n")
    return srcdir


def _build(srcdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_sphinx(srcdir, None, *args)


def test_nodes_link_to_the_api_entries(tmp_path: Path) -> None:
    """Every documented step links to its py:function entry; -W passes."""
    srcdir = _site(tmp_path, document_all=True)
    result = _build(srcdir, "-W")
    assert result.returncode == 0, result.stderr
    _, linked = mermaid_blocks(srcdir / "_build" / "html" / "sub" / "shipping.html")
    clicks = dict(re.findall(r'click (\S+) href "([^"]*)"', linked))
    assert sorted(clicks.values()) == [
        "../api.html#linked.flows.on_order",
        "../api.html#linked.flows.ship",
        f"../orders.html#{flow_anchor('orders')}",
    ]
    assert "../api.html#linked.flows.on_order" in clicks.values()
    assert "../api.html#linked.flows.ship" in clicks.values()


def test_undocumented_steps_fall_back_to_source_with_a_located_warning(tmp_path: Path) -> None:
    """Steps missing from the API reference link to their source; -W fails at the directive."""
    srcdir = _site(tmp_path, document_all=False)
    result = _build(srcdir, "-W", "--keep-going")
    assert result.returncode == 1
    assert re.search(
        r"shipping\.rst:\d+: WARNING: penstock-flow: step linked\.flows\.receive is not in the "
        r"API reference; linked to its source instead \[penstock\.api-undocumented\]",
        result.stderr,
    ), result.stderr
    lenient = _build(srcdir)
    assert lenient.returncode == 0
    _, linked = mermaid_blocks(srcdir / "_build" / "html" / "sub" / "shipping.html")
    hrefs = re.findall(r'click \S+ href "([^"]*)"', linked)
    source = r"https://git\.example/app/blob/main/linked/flows\.py#L\d+"
    assert any(re.fullmatch(source, h) for h in hrefs), hrefs
