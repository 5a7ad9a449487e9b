"""Incremental builds: editing a flow's code re-reads exactly the pages that draw it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from shutil import copytree

import pytest
from sphinx.testing.util import SphinxTestApp

from penstock.docs import DiagramOptions, flow_diagram
from tests.sphinx.conftest import plain
from tests.sphinx.html import mermaid_blocks

MakeApp = Callable[..., SphinxTestApp]


def fresh_project(rootdir: Path, tempdir: Path, name: str) -> Path:
    srcdir = tempdir / name
    copytree(rootdir / "test-basic", srcdir)
    return srcdir


def first_build(make_app: MakeApp, srcdir: Path) -> SphinxTestApp:
    """A complete build, then the app is retired as a finished sphinx-build process would be."""
    app = make_app("html", srcdir=srcdir)
    app.build()
    app.cleanup()  # unregisters its nodes, so the next app starts clean
    return app


def rebuild(make_app: MakeApp, srcdir: Path) -> tuple[SphinxTestApp, list[str]]:
    """A second build over the same output, as a new sphinx-build run; returns the re-read docs."""
    app = make_app("html", srcdir=srcdir)
    read: list[str] = []
    app.connect("env-before-read-docs", lambda _app, _env, docnames: read.extend(docnames))
    app.build()
    return app, sorted(read)


def append(path: Path, text: str) -> None:
    # Sphinx compares modification times in microseconds; make sure the edit is newer than the
    # first build even on a coarse clock.
    time.sleep(0.01)
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_editing_a_module_rereads_only_the_pages_drawing_its_flows(
    make_app: MakeApp, rootdir: Path, sphinx_test_tempdir: Path
) -> None:
    """A step added to shop/orders.py re-reads orders.rst only, and shows up in its diagram."""
    srcdir = fresh_project(rootdir, sphinx_test_tempdir, "incremental-edit")
    first_build(make_app, srcdir)
    billing_before = (srcdir / "_build/html/billing.html").read_text(encoding="utf-8")

    append(
        srcdir / "shop/orders.py",
        '\n\n@flow("orders")\n@step(after=reserve_stock)\ndef pack_parcel():\n'
        '    """Put the items in a box."""\n',
    )
    app, read = rebuild(make_app, srcdir)

    assert read == ["orders"]
    (text,) = mermaid_blocks(app.outdir / "orders.html")
    assert "reserve_stock --> pack_parcel" in text
    assert (app.outdir / "billing.html").read_text(encoding="utf-8") == billing_before
    assert plain(app.warning.getvalue()) == ""


def test_nothing_changed_rereads_nothing(
    make_app: MakeApp, rootdir: Path, sphinx_test_tempdir: Path
) -> None:
    """A rebuild with no edits re-reads no page, even though the modules were re-imported."""
    srcdir = fresh_project(rootdir, sphinx_test_tempdir, "incremental-none")
    first_build(make_app, srcdir)
    _, read = rebuild(make_app, srcdir)
    assert read == []


def test_a_step_added_from_another_module_rereads_the_flows_page(
    make_app: MakeApp, rootdir: Path, sphinx_test_tempdir: Path
) -> None:
    """A billing step declared in shop/orders.py re-reads billing.rst too: its diagram changed."""
    srcdir = fresh_project(rootdir, sphinx_test_tempdir, "incremental-cross")
    first_build(make_app, srcdir)

    append(
        srcdir / "shop/orders.py",
        '\n\n@flow("billing")\n@step(after="charge_card")\ndef send_receipt():\n'
        '    """Mail the receipt."""\n',
    )
    app, read = rebuild(make_app, srcdir)

    assert read == ["billing", "orders"]
    (text,) = mermaid_blocks(app.outdir / "billing.html")
    assert "charge_card --> send_receipt" in text


def test_a_flow_declared_later_rereads_the_page_that_asked_for_it(
    make_app: MakeApp, rootdir: Path, sphinx_test_tempdir: Path
) -> None:
    """A page that warned about an unknown flow is re-read, and draws it, once it exists."""
    srcdir = fresh_project(rootdir, sphinx_test_tempdir, "incremental-later")
    (srcdir / "returns.rst").write_text("Returns\n=======\n\n.. penstock-flow:: returns\n")
    append(srcdir / "index.rst", "   returns\n")
    first = first_build(make_app, srcdir)
    assert "[penstock.unknown-flow]" in plain(first.warning.getvalue())

    append(
        srcdir / "shop/billing.py",
        '\n\n@flow("returns")\n@entrypoint\ndef accept_return():\n    """Take a parcel back."""\n',
    )
    app, read = rebuild(make_app, srcdir)

    assert read == ["billing", "returns"]
    assert mermaid_blocks(app.outdir / "returns.html") == [
        flow_diagram("returns", DiagramOptions()).mermaid.strip()
    ]
    assert plain(app.warning.getvalue()) == ""


def test_env_version_changes_with_penstock_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new penstock version invalidates cached environments, so no page keeps old diagrams."""
    import importlib

    import penstock
    import penstock_sphinx

    before = penstock_sphinx._ENV_STAMP
    monkeypatch.setattr(penstock, "__version__", "99.0.0")
    try:
        changed = importlib.reload(penstock_sphinx)._ENV_STAMP
    finally:
        monkeypatch.undo()
        restored = importlib.reload(penstock_sphinx)._ENV_STAMP
    assert changed != before
    assert restored == before
