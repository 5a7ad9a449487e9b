"""Diagrams as inline SVG drawn at build time by Graphviz, for pages without JavaScript.

penstock's DOT goes through the ``dot`` program; the SVG is then made to follow the page's
colours: black lines and text become ``currentColor`` and the white background goes, so a
dark palette draws light lines on its own background. Links (source, API, other flows) are
DOT ``URL`` attributes (`penstock._render.dot.render_dot`'s ``link`` and ``flow_url``), which
Graphviz writes as SVG links.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from penstock._errors import RenderError

__all__ = ["GraphvizMissingError", "svg_from_dot"]


class GraphvizMissingError(RenderError):
    """The ``dot`` program is needed and cannot be run."""


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_POINTS = re.compile(r'\b(width|height)="([0-9.]+)pt"')


def svg_from_dot(dot: str, executable: str = "dot") -> str:
    """Run Graphviz on ``dot``; return an ``<svg>`` element that follows the page's colours.

    Raises:
        GraphvizMissingError: ``dot`` is not installed (or not on ``PATH``).
        RenderError: Graphviz refused the graph.
    """
    found = shutil.which(executable)
    if found is None:
        raise GraphvizMissingError(
            f"Graphviz's {executable!r} command was not found; it draws diagrams as SVG at "
            "build time (the svg option). Install Graphviz (e.g. apt-get install graphviz) "
            "or turn the svg option off."
        )
    done = subprocess.run(
        [found, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RenderError(f"Graphviz failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    svg = _COMMENT.sub("", _PROLOG.sub("", done.stdout.decode("utf-8")))
    svg = svg.replace('stroke="black"', 'stroke="currentColor"')
    svg = svg.replace('fill="black"', 'fill="currentColor"')
    svg = re.sub(
        r'<polygon fill="white" stroke="transparent"', '<polygon fill="none" stroke="none"', svg
    )
    svg = re.sub(r"<text (?![^>]*\bfill=)", '<text fill="currentColor" ', svg)
    # Graphviz sizes the drawing in points; CSS px (4/3 of a point) let the page's script
    # scale it to the column like a Mermaid drawing.
    svg = _POINTS.sub(lambda m: f'{m[1]}="{float(m[2]) * 4 / 3:.0f}"', svg, count=2)
    return svg.replace("<svg ", '<svg class="penstock-svg" role="img" ', 1)
