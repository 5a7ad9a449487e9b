"""Diagrams for outputs that run no JavaScript.

LaTeX/PDF, EPUB and texinfo get a Graphviz picture drawn from penstock's DOT by
``sphinx.ext.graphviz``; text and man pages a plain outline.

The directive notes on its Mermaid node what it drew; once the builder is known
(``doctree-resolved``), nodes for builders other than HTML are swapped for the right form,
drawn then, so HTML builds pay nothing for it.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz
from sphinx.util import logging

from penstock import PenstockError, generate_dag, get_flow
from penstock.docs import DiagramOptions, flow_outline, map_diagram

__all__ = ["keep_offline_forms", "keep_offline_map", "swap_for_builder"]

logger = logging.getLogger(__name__)

#: Builders whose pages show a picture rather than running Mermaid.
_TEXT_FORMATS = frozenset({"text", "man"})


def keep_offline_forms(node: nodes.Element, flow: str, options: DiagramOptions) -> None:
    """Note what to draw for builders without JavaScript; drawn only if one writes the page."""
    node["penstock_offline"] = ("flow", flow, options)


def keep_offline_map(node: nodes.Element, prefixes: list[str] | None, direction: str) -> None:
    """The same for a ``penstock-map``."""
    node["penstock_offline"] = ("map", " ".join(prefixes or []), direction)


def _forms(kind: str, subject: str, extra: object) -> tuple[str, str, str]:
    """``(dot, outline, alt text)`` of a flow or of the map."""
    if kind == "map":
        prefixes = subject.split() or None
        direction = str(extra)
        dot = map_diagram(prefixes, direction, format="dot")
        return dot, map_diagram(prefixes, direction, format="text"), "map of flows"
    assert isinstance(extra, DiagramOptions)
    graph = get_flow(subject)  # looked up once, for both forms
    dot = generate_dag(
        graph,
        format="dot",
        direction=extra.direction,
        show_docs=extra.show_docs,
        links=extra.links,
        legend=extra.legend,
        collapse=extra.collapse,
        # Tooltips and links mean nothing in a picture of a PDF or an EPUB page.
        interactive=False,
    )
    return dot, flow_outline(graph, links=extra.links), f"flow {subject}"


def swap_for_builder(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each diagram by a Graphviz picture or a text outline when not writing HTML."""
    builder = app.builder
    if builder.format == "html" and not builder.name.startswith("epub"):
        for node in list(doctree.findall(nodes.Element)):
            svg = node.get("penstock_svg")
            if isinstance(svg, str):
                # Inside the diagram's box (a .penstock-diagram) already.
                node.replace_self(nodes.raw("", svg, format="html"))
        return
    for node in list(doctree.findall(nodes.Element)):
        offline = node.get("penstock_offline")
        if not isinstance(offline, tuple):
            continue
        try:
            dot, text, alt = _forms(*offline)
        except PenstockError as exc:  # the code changed since the page was read
            logger.warning(
                "penstock: cannot draw %s for %s: %s",
                offline[1] or "the map",
                builder.name,
                exc,
                location=node,
                type="penstock",
                subtype="diagram",
            )
            node.replace_self(nodes.literal_block(str(exc), str(exc)))
            continue
        replacement: nodes.Element
        if builder.format in _TEXT_FORMATS:
            replacement = nodes.literal_block(text, text)
        else:
            replacement = graphviz()
            replacement["code"] = dot
            replacement["options"] = {"docname": docname}
            replacement["alt"] = alt
            if "align" in node:
                replacement["align"] = node["align"]
        node.replace_self(replacement)
