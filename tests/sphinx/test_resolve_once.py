"""The Sphinx directive looks its flow up once, however many ways it draws it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from shutil import copytree

import pytest
from sphinx.testing.util import SphinxTestApp

from tests.sphinx.conftest import ROOTS, plain
from tests.support.lookups import spy_on_resolutions
from tests.support.system import require_executable

MakeApp = Callable[..., SphinxTestApp]


def test_a_directive_resolves_its_flow_once(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `:svg:` one directive draws Mermaid and SVG: still one look-up."""
    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    srcdir = tmp_path / "resolve-once"
    copytree(ROOTS / "test-basic", srcdir)
    orders = srcdir / "orders.rst"
    orders.write_text(orders.read_text() + "   :svg:\n", encoding="utf-8")
    asked = spy_on_resolutions(monkeypatch)
    app = make_app("html", srcdir=srcdir)
    app.build()
    assert plain(app.warning.getvalue()) == ""
    page = (app.outdir / "orders.html").read_text(encoding="utf-8")
    assert "<svg" in page
    assert asked.count("orders") == 1
    assert asked.count("billing") == 1
