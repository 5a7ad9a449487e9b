"""Render a flow graph as Graphviz DOT."""

from __future__ import annotations

from penstock._graph import FlowGraph
from penstock._mermaid import normalize_direction

__all__ = ["render_dot"]


def quote(text: str) -> str:
    """A DOT double-quoted string that Graphviz displays verbatim.

    Backslashes would start escapes such as ``\\N`` or ``\\l``, and Graphviz decodes HTML
    entities (``&amp;``) inside ordinary strings, so both are escaped.
    """
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "&":
            out.append("&amp;")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(" ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def render_dot(graph: FlowGraph, *, direction: str = "TD", show_docs: bool = False) -> str:
    """Return a ``digraph`` for ``graph``; entrypoints are drawn bold and rounded."""
    rankdir = {"TD": "TB"}.get(normalize_direction(direction), normalize_direction(direction))
    ids = {node.name: f"n{i}" for i, node in enumerate(graph.steps)}
    lines = [
        f"digraph {quote(graph.name)} {{",
        f"    rankdir={rankdir};",
        '    node [shape=box, fontname="Helvetica"];',
    ]
    for node in graph.steps:
        label = node.name
        if show_docs and node.doc:
            label += "\n" + node.doc
        attrs = [f"label={quote(label)}"]
        if node.kind == "entrypoint":
            attrs.append('style="rounded,bold"')
        elif node.transport:
            attrs.append("peripheries=2")
        if node.doc:
            attrs.append(f"tooltip={quote(node.doc)}")
        lines.append(f"    {ids[node.name]} [{', '.join(attrs)}];")
    transports = {n.name: n.transport for n in graph.steps if n.transport}
    for edge in graph.edges:
        via = transports.get(edge.target)
        style = f" [style=dashed, label={quote(via)}]" if via else ""
        lines.append(f"    {ids[edge.source]} -> {ids[edge.target]}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"
