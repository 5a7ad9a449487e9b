"""Diagrams as inline SVG drawn at build time by Graphviz, for pages without JavaScript.

penstock's DOT goes through the ``dot`` program; the SVG is then made to follow the page's
colours: black lines and text become ``currentColor`` and the white background goes, so a
dark palette draws light lines on its own background. Links (source, API, other flows) are
DOT ``URL`` attributes, which Graphviz writes as SVG links.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

from penstock._errors import RenderError
from penstock._graph.model import FlowGraph, StepNode
from penstock._render.dot import quote

__all__ = ["GraphvizMissingError", "svg_from_dot", "with_node_urls"]


class GraphvizMissingError(RenderError):
    """The ``dot`` program is needed and cannot be run."""


_NODE = re.compile(r"^    (n\d+) \[", re.MULTILINE)
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def with_node_urls(dot: str, graph: FlowGraph, link: Callable[[StepNode], str | None]) -> str:
    """``dot`` (as `render_dot` wrote it for ``graph``) with a ``URL`` on each linked step."""
    steps = {f"n{i}": node for i, node in enumerate(graph.steps)}

    def add(match: re.Match[str]) -> str:
        node = steps.get(match[1])
        url = link(node) if node is not None else None
        if not url or not _safe(url):
            return match[0]
        return f'{match[0]}URL={quote(url)}, target="_top", '

    return _NODE.sub(add, dot)


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
    return svg.replace("<svg ", '<svg class="penstock-svg" role="img" ', 1)


def _safe(url: str) -> bool:
    lowered = url.strip().lower()
    if ":" in lowered.split("/", 1)[0]:
        return lowered.startswith(("http://", "https://"))
    return True
