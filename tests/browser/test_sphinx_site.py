"""A Sphinx site using penstock_sphinx, checked in headless Chromium with Mermaid 12 and 11.

sphinxcontrib-mermaid imports Mermaid as an ES module: the test root's ``_static`` gets
``mermaid.esm.min.mjs`` with its ``chunks/`` folder, named by ``mermaid_use_local``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.app import hostile_names
from tests.browser.build import APP, BOM_SYNC, EXAMPLES, copy_mermaid_esm, run_build
from tests.support.browser import Browser, PageReport, StaticSite

LABEL_MARKUP = {"div", "span", "p", "br", "small"}

_CONF = """\
project = "penstock browser check"
extensions = ["penstock_sphinx"]
penstock_modules = ["bom_sync.consumer", "bom_sync.sync", "hostile_flows"]
penstock_paths = [{paths}]
# These pages check step labels one by one; the legend is checked in test_links_site.py.
penstock_legend = False
html_static_path = ["_static"]
mermaid_use_local = {local!r}
numfig = True
"""

_INDEX = """\
The example flow
================

.. penstock-flow:: bom_sync
   :direction: LR
   :caption: How a BOM change travels

.. toctree::

   hostile
"""

_HOSTILE = """\
Hostile names
=============

.. penstock-flow:: end
   :show-docs:

.. penstock-flow:: end
   :direction: LR

.. penstock-flow:: style
"""


@pytest.fixture(scope="module", params=["12", "11"], ids=["mermaid12", "mermaid11"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, StaticSite]]:
    """The site built with `sphinx-build -W` and served, with Mermaid 12 or 11."""
    version: str = request.param
    root = tmp_path_factory.mktemp(f"sphinx-m{version}")
    src = root / "src"
    local = copy_mermaid_esm(version, src / "_static")
    paths = ", ".join(repr(str(p)) for p in (EXAMPLES, APP))
    (src / "conf.py").write_text(_CONF.format(paths=paths, local=local), encoding="utf-8")
    (src / "index.rst").write_text(_INDEX, encoding="utf-8")
    (src / "hostile.rst").write_text(_HOSTILE, encoding="utf-8")
    out = root / "html"
    run_build(["sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), str(out)], cwd=root)
    with StaticSite(out) as served:
        yield out, served


@pytest.fixture(scope="module")
def index_page(built: tuple[Path, StaticSite], browser: Browser) -> PageReport:
    return browser.check_page(built[1].url("index.html"))


@pytest.fixture(scope="module")
def hostile_page(built: tuple[Path, StaticSite], browser: Browser) -> PageReport:
    return browser.check_page(built[1].url("hostile.html"))


def test_example_flow_renders_from_local_esm_build(index_page: PageReport) -> None:
    """The example flow renders with the locally served ES module Mermaid, all steps shown."""
    index_page.assert_clean(expected_diagrams=1)
    assert sorted(index_page.diagrams[0].labels) == sorted(BOM_SYNC)


def test_caption_makes_a_numbered_figure(built: tuple[Path, StaticSite]) -> None:
    """A caption wraps the diagram in a figure numbered by numfig."""
    html = (built[0] / "index.html").read_text(encoding="utf-8")
    assert re.search(r"Fig\. 1\s*</span>\s*<span class=\"caption-text\">How a BOM change", html)


def test_hostile_names_render_verbatim(hostile_page: PageReport) -> None:
    """Keyword, o/x, quote, bracket and HTML names and docstrings render, labels verbatim."""
    hostile_page.assert_clean(expected_diagrams=3)
    with_docs = sorted(
        name if doc is None else f"{name}\n{doc}" for name, doc in hostile_names.END_STEPS.items()
    )
    assert sorted(hostile_page.diagrams[0].labels) == with_docs
    assert sorted(hostile_page.diagrams[1].labels) == sorted(hostile_names.END_STEPS)
    assert sorted(hostile_page.diagrams[2].labels) == sorted(hostile_names.STYLE_STEPS)


def test_no_user_text_becomes_markup_or_script(hostile_page: PageReport) -> None:
    """No element or javascript: link from a name exists in the SVG, and no script ran."""
    for diagram in hostile_page.diagrams:
        assert set(diagram.markup) <= LABEL_MARKUP, diagram.markup
        assert not [h for h in diagram.hrefs if h.strip().lower().startswith("javascript:")]
    assert hostile_page.dialogs == []
