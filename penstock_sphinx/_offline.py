"""Diagrams for outputs that run no JavaScript.

LaTeX/PDF, EPUB and texinfo get a Graphviz picture drawn from penstock's DOT by
``sphinx.ext.graphviz``; text and man pages a plain outline.

The directive keeps both forms on its Mermaid node; once the builder is known
(``doctree-resolved``), nodes for builders other than HTML are swapped for the right form.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz

from penstock import generate_dag
from penstock.docs import DiagramOptions, flow_outline

__all__ = ["keep_offline_forms", "swap_for_builder"]

#: Tooltips and links mean nothing in a picture of a PDF or an EPUB page: they go.
_NO_MAPS = re.compile(r', (?:tooltip|URL)="(?:[^"\\]|\\.)*"')

#: Builders whose pages show a picture rather than running Mermaid.
_TEXT_FORMATS = frozenset({"text", "man"})


def keep_offline_forms(node: nodes.Element, flow: str, options: DiagramOptions) -> None:
    """Store the DOT and the outline of ``flow`` on ``node``."""
    node["penstock_dot"] = _NO_MAPS.sub(
        "",
        generate_dag(
            flow,
            format="dot",
            direction=options.direction,
            show_docs=options.show_docs,
            links=options.links,
            legend=options.legend,
            collapse=options.collapse,
        ),
    )
    node["penstock_text"] = flow_outline(flow, links=options.links)
    node["penstock_flow"] = flow


def swap_for_builder(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each diagram by a Graphviz picture or a text outline when not writing HTML."""
    builder = app.builder
    if builder.format == "html" and not builder.name.startswith("epub"):
        for node in list(doctree.findall(nodes.Element)):
            svg = node.get("penstock_svg")
            if isinstance(svg, str):
                node.replace_self(
                    nodes.raw("", f'<div class="penstock-diagram">{svg}</div>', format="html")
                )
        return
    for node in list(doctree.findall(nodes.Element)):
        dot = node.get("penstock_dot")
        if not isinstance(dot, str):
            continue
        flow = str(node.get("penstock_flow", ""))
        replacement: nodes.Element
        if builder.format in _TEXT_FORMATS:
            text = str(node.get("penstock_text", ""))
            replacement = nodes.literal_block(text, text)
        else:
            replacement = graphviz()
            replacement["code"] = dot
            replacement["options"] = {"docname": docname}
            replacement["alt"] = f"flow {flow}"
            if "align" in node:
                replacement["align"] = node["align"]
        node.replace_self(replacement)
