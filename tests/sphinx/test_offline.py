"""Outputs without JavaScript: the real LaTeX, text and man builders get a picture or text."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.system import require_executable

ROOT = Path(__file__).parent / "roots" / "test-links"


def _build(tmp_path: Path, builder: str, *, strict: bool = True, outside: bool = False) -> Path:
    srcdir = tmp_path / "src"
    if not srcdir.exists():
        shutil.copytree(ROOT, srcdir)
    # An EPUB packs every file of its output folder: keep the build's own files elsewhere.
    out = tmp_path / "out" / builder if outside else srcdir / "_build" / builder
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "--no-color",
            "-b",
            builder,
            "-q",
            "-d",
            str(tmp_path / "doctrees"),
        ]
        + (["-W"] if strict else [])
        + [str(srcdir), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_latex_gets_each_diagram_as_a_graphviz_figure(tmp_path: Path) -> None:
    """sphinx-build -b latex -W writes the .tex with one PDF include per diagram and the PDFs."""
    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    out = _build(tmp_path, "latex")
    (tex,) = out.glob("*.tex")
    text = tex.read_text(encoding="utf-8")
    includes = re.findall(r"\\sphinxincludegraphics\[\]\{(graphviz-[0-9a-f]+)\.pdf\}", text)
    # The map, orders, shipping and the plain copy of orders.
    assert len(includes) == 4, text
    for name in includes:
        pdf = out / f"{name}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF"), name
    assert "mermaid" not in text.lower()
    if shutil.which("latexmk") and shutil.which("pdflatex"):
        done = subprocess.run(
            ["latexmk", "-pdf", "-interaction=nonstopmode", tex.name],
            cwd=out,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        assert (out / tex.with_suffix(".pdf").name).exists()


@pytest.mark.parametrize("builder", ["text", "man"])
def test_text_and_man_get_a_readable_outline(tmp_path: Path, builder: str) -> None:
    """Text and man pages show each flow as an outline: edges, conditions, linked flows."""
    out = _build(tmp_path, builder)
    page = (
        (out / "sub" / "shipping.txt").read_text()
        if builder == "text"
        else next(out.rglob("*.1")).read_text().replace("\\-", "-").replace("\\(aq", "'")
    )
    assert "on_order -[in stock]-> ship" in page
    assert "flow orders -> (kafka: order-events) on_order" in page or builder == "man"
    assert "flow orders" in page


def test_epub_gets_pictures_not_mermaid(tmp_path: Path) -> None:
    """The real epub builder (-W) embeds each diagram as a Graphviz image, no Mermaid script.

    sphinx.ext.graphviz writes an image map beside every PNG, which the EPUB builder warns
    about (epub.unknown_project_files): a site building EPUB with -W silences that warning.
    """
    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    srcdir = tmp_path / "src"
    shutil.copytree(ROOT, srcdir)
    with (srcdir / "conf.py").open("a") as conf:
        conf.write('copyright = "2026, penstock"\nversion = "1.0"\n')
        conf.write('suppress_warnings = ["epub.unknown_project_files"]\n')
    out = _build(tmp_path, "epub", outside=True)
    page = (out / "orders.xhtml").read_text(encoding="utf-8")
    assert "graphviz" in page
    assert 'class="mermaid"' not in page
    assert list((out / "_images").glob("graphviz-*.png"))
