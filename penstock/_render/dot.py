"""Render a flow graph as Graphviz DOT."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from penstock._graph.links import FlowLink, linked_flows
from penstock._graph.model import Edge, FlowGraph, StepNode
from penstock._render.branches import branching
from penstock._render.mermaid import normalize_direction, safe_url
from penstock._render.overlay import STYLES, EdgeMark, NodeMark, Overlay, edge_width

__all__ = ["render_dot"]


def quote(text: str) -> str:
    r"""A DOT double-quoted string that Graphviz displays verbatim.

    Backslashes would start escapes such as ``\N`` or ``\l``, and Graphviz decodes HTML
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


def render_dot(
    graph: FlowGraph,
    *,
    direction: str = "TD",
    show_docs: bool = False,
    overlay: Overlay | None = None,
    links: Sequence[FlowLink] = (),
    flow_url: Callable[[str], str | None] | None = None,
    link: Callable[[StepNode], str | None] | None = None,
    interactive: bool = True,
) -> str:
    """Return a ``digraph`` for ``graph``; entrypoints are drawn bold and rounded.

    Args:
        graph: the flow to draw.
        direction: ``TD``/``TB``, ``BT``, ``LR`` or ``RL`` (any case).
        show_docs: add each step's docstring summary under its name.
        overlay: marks drawn over the flow, with a legend of the styles used.
        links: links to other flows, drawn as stubs (one dashed box per other flow).
        flow_url: gives the URL of another flow's diagram: its stub links there.
        link: gives a URL for a step (``http(s)`` or relative): the step links there.
        interactive: write ``URL`` and ``tooltip`` attributes (SVG and image maps use them);
            ``False`` for a picture that cannot follow a link (a PDF, an EPUB page).
    """
    rankdir = {"TD": "TB"}.get(normalize_direction(direction), normalize_direction(direction))
    ids = {node.name: f"n{i}" for i, node in enumerate(graph.steps)}
    if overlay is not None:
        overlay.check(set(ids), {(e.source, e.target) for e in graph.edges})
    if not interactive:
        link = flow_url = None
    lines = [
        f"digraph {quote(graph.name)} {{",
        f"    rankdir={rankdir};",
        '    node [shape=box, fontname="Helvetica"];',
        # Edge labels in the nodes' typeface (Graphviz's default is a serif).
        '    edge [fontname="Helvetica"];',
    ]
    node_marks = overlay.nodes if overlay is not None else {}
    lines += [
        _node_line(node, ids, show_docs, node_marks.get(node.name), link, interactive)
        for node in graph.steps
    ]
    # Alternatives (edges with when=) leave from a small empty diamond after their source.
    decisions = branching(graph).decisions
    for name, k in decisions.items():
        lines.append(f'    d{k} [shape=diamond, label="", width=0.3, height=0.3, fixedsize=true];')
        lines.append(f"    {ids[name]} -> d{k} [arrowhead=none];")
    transports = {n.name: n.transport for n in graph.steps if n.transport}
    edge_marks = overlay.edges if overlay is not None else {}
    for edge in graph.edges:
        attrs = _edge_attrs(
            edge, transports.get(edge.target), edge_marks.get((edge.source, edge.target))
        )
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        source = f"d{decisions[edge.source]}" if edge.when is not None else ids[edge.source]
        lines.append(f"    {source} -> {ids[edge.target]}{suffix};")
    if overlay is not None:
        lines += _legend(overlay, len(graph.steps))
    lines += _stubs(graph, ids, links, flow_url)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_line(
    node: StepNode,
    ids: dict[str, str],
    show_docs: bool,
    mark: NodeMark | None,
    link: Callable[[StepNode], str | None] | None,
    interactive: bool,
) -> str:
    label = node.name
    if show_docs and node.doc:
        label += "\n" + node.doc
    if mark is not None and mark.note:
        label += "\n" + mark.note
    attrs = []
    url = link(node) if link is not None else None
    if url and safe_url(url):
        # target: a page showing the SVG inline follows the link in itself, not in the SVG.
        attrs += [f"URL={quote(url)}", 'target="_top"']
    attrs.append(f"label={quote(label)}")
    styles = []
    if node.kind == "entrypoint":
        styles += ["rounded", "bold"]
    elif node.transport:
        attrs.append("peripheries=2")
    if mark is not None and mark.style:
        styles += _node_style(mark.style, attrs)
    if styles:
        attrs.append(f'style="{",".join(styles)}"')
    if node.doc and interactive:
        attrs.append(f"tooltip={quote(node.doc)}")
    return f"    {ids[node.name]} [{', '.join(attrs)}];"


def _edge_attrs(edge: Edge, via: str | None, emark: EdgeMark | None) -> list[str]:
    text = [t for t in (edge.when, via, emark and emark.label) if t]
    attrs = []
    dashed = bool(via)
    if emark is not None and emark.style:
        style = STYLES[emark.style]
        dashed = dashed or style.dashed
        attrs += [f'color="{style.stroke}"', f'fontcolor="{style.stroke}"']
        # In SVG the class lets a page's CSS give the line its light or dark colour.
        attrs.append(f'class="ps_edge_{emark.style}"')
    width = edge_width(emark)
    if width is not None:
        attrs.append(f"penwidth={width}")
    if dashed:
        attrs.insert(0, "style=dashed")
    if text:
        attrs.append(f"label={quote(' · '.join(text))}")
    return attrs


def _node_style(name: str, attrs: list[str]) -> list[str]:
    style = STYLES[name]
    # The colours below are a picture's (PNG, PDF); in SVG the class gives the page's CSS
    # (penstock.css: custom properties with light and dark values) the last word.
    attrs.append(f'class="ps_{name}"')
    attrs.append(f'color="{style.stroke}"')
    attrs.append(f"penwidth={style.width}")
    if style.fill:
        attrs.append(f'fillcolor="{style.fill}"')
    if style.text:
        attrs.append(f'fontcolor="{style.text}"')
    return ["filled", *(["dashed"] if style.dashed else [])]


#: DOT attributes of each legend key shape, as steps of that kind are drawn.
_KEY_SHAPES = {
    "box": "shape=box",
    "stadium": 'style="rounded,bold"',
    "subroutine": "peripheries=2",
    "diamond": "shape=diamond",
    "flag": "shape=cds, style=dashed",
}


def _legend(overlay: Overlay, first_free: int) -> list[str]:
    legend = overlay.legend_lines()
    keys = overlay.legend_keys()
    if not legend and not keys:
        return []
    lines = ["    subgraph cluster_legend {", '        label="Legend";']
    for k, key in enumerate(keys):
        lines.append(f"        k{k} [label={quote(key.text)}, {_KEY_SHAPES[key.shape]}];")
    # Invisible links stack the keys in a column instead of one wide row.
    lines += [f"        k{k} -> k{k + 1} [style=invis];" for k in range(len(keys) - 1)]
    for offset, (style, text) in enumerate(legend):
        attrs = [f"label={quote(text)}"]
        styles = _node_style(style, attrs) if style is not None else []
        if styles:
            attrs.append(f'style="{",".join(styles)}"')
        lines.append(f"        n{first_free + offset} [{', '.join(attrs)}];")
    lines.append("    }")
    return lines


def _stubs(
    graph: FlowGraph,
    ids: dict[str, str],
    links: Sequence[FlowLink],
    flow_url: Callable[[str], str | None] | None,
) -> list[str]:
    """One dashed box per other flow ``graph`` is linked with, dotted edges to its steps."""
    lines: list[str] = []
    for k, (direction, other, found) in enumerate(linked_flows(graph, links)):
        sid = f"s{k}"
        attrs = [f"label={quote(other)}", "shape=cds", "style=dashed", 'class="ps_stub"']
        url = flow_url(other) if flow_url is not None else None
        if url and safe_url(url):
            attrs += [f"URL={quote(url)}", f"tooltip={quote('flow ' + other)}"]
        lines.append(f"    {sid} [{', '.join(attrs)}];")
        seen: set[str] = set()
        for link in found:
            step = ids[link.source_step if direction == "out" else link.target_step]
            pair = (step, sid) if direction == "out" else (sid, step)
            label = f", label={quote(link.label)}" if link.label else ""
            line = f'    {pair[0]} -> {pair[1]} [style=dotted, class="ps_edge_stub"{label}];'
            if line not in seen:
                seen.add(line)
                lines.append(line)
    return lines
