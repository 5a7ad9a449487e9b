"""Render a flow graph as a Mermaid flowchart.

Names are user text, so they never reach Mermaid unescaped: a name is used as node id only when
it is a plain identifier Mermaid cannot misread; every other name gets a generated id and a
quoted label where each character outside a small safe set is written as a Mermaid entity code
(``#60;``), which Mermaid decodes to text, never to markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from penstock._errors import RenderError
from penstock._graph.model import FlowGraph, StepNode
from penstock._render.branches import branching
from penstock._render.overlay import (
    STYLES,
    EdgeMark,
    NodeMark,
    Overlay,
    edge_marker,
    edge_width,
)

__all__ = ["DIRECTIONS", "MAX_EDGES", "MAX_TEXT_SIZE", "label_text", "render_mermaid"]

#: Flowchart directions Mermaid accepts (``TD`` and ``TB`` are the same).
DIRECTIONS = ("TD", "TB", "BT", "LR", "RL")
#: Mermaid's default ``maxEdges``: parsing fails above it.
MAX_EDGES = 500
#: Mermaid's default ``maxTextSize``: above it the diagram is silently replaced at render time.
MAX_TEXT_SIZE = 50_000

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_GENERATED = re.compile(r"n[0-9]+\Z")
# Words with a meaning of their own somewhere in a flowchart; compared case-insensitively
# because several of Mermaid's keyword tokens are.
_KEYWORDS = frozenset(
    {
        "end", "graph", "flowchart", "flowchart-elk", "subgraph", "style", "linkstyle",
        "classdef", "class", "click", "call", "href", "callback", "direction", "default",
        "interpolate", "accdescr", "acctitle", "td", "tb", "bt", "lr", "rl",
        "_self", "_blank", "_parent", "_top", "true", "false", "null", "undefined",
        "constructor", "prototype", "__proto__", "tostring", "valueof", "hasownproperty",
    }
)  # fmt: skip
_SAFE_LABEL_CHARS = frozenset(" _-.,:/'+=@~!?*")
#: The text of a decision diamond: one coded space, so it draws small and empty.
DECISION_TEXT = "#32;"
_TITLE_LOOKALIKES = str.maketrans({"&": "\uff06", "<": "\uff1c", ">": "\uff1e"})


# Before parsing, Mermaid deletes the last ";" of any line matching `style.*:\S*#.*;` or
# `classDef.*:\S*#.*;` (a fix-up for colours like `fill:#f00;`). That ";" may end one of our
# `#NN;` codes, so neither word may appear verbatim anywhere on a line we write.
_FIXUP_WORDS = re.compile(r"style|classDef")


def is_plain_id(name: str) -> bool:
    """True when ``name`` can be a Mermaid node id as it is."""
    return (
        bool(_IDENT.match(name))
        and name.lower() not in _KEYWORDS
        and name[0] not in "oxOX"
        and not _GENERATED.match(name)
        and not _FIXUP_WORDS.search(name)
    )


def label_text(text: str) -> str:
    """Encode ``text`` for a double-quoted Mermaid label; it displays verbatim."""
    out: list[str] = []
    # Mermaid trims a label's outer spaces; coded spaces survive its parser.
    first = len(text) - len(text.lstrip(" "))
    last = len(text.rstrip(" "))
    coded = {m.start() for m in _FIXUP_WORDS.finditer(text)}
    for i, ch in enumerate(text):
        if i in coded or (ch == " " and not first <= i < last):
            out.append(f"#{ord(ch)};")
        elif (ch.isalnum() and ch.isprintable()) or ch in _SAFE_LABEL_CHARS:
            out.append(ch)
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def render_mermaid(
    graph: FlowGraph,
    *,
    direction: str = "TD",
    title: str | None = None,
    show_docs: bool = False,
    link: Callable[[StepNode], str | None] | None = None,
    overlay: Overlay | None = None,
    colors: str = "inline",
) -> str:
    """Return Mermaid flowchart text for ``graph``.

    Args:
        graph: the flow to draw.
        direction: ``TD``/``TB``, ``BT``, ``LR`` or ``RL`` (any case).
        title: shown above the diagram (front matter). Mermaid sanitizes titles as HTML and
            then draws them as plain text, so ``&``, ``<`` and ``>`` are written as their
            full-width look-alikes (U+FF06, U+FF1C, U+FF1E) to be shown at all.
        show_docs: add each step's docstring summary under its name.
        link: returns a URL for a step (``http(s)``, or relative); nodes become links.
        overlay: marks drawn over the flow (styles, notes, edge labels and weights), with a
            legend of the styles used.
        colors: ``"inline"`` writes the palette's colours into the diagram (it reads on its
            own anywhere); ``"css"`` writes only widths and dashes and leaves the colours to
            the page's stylesheet (``penstock.css``: light and dark values that follow the
            site's colour scheme). Marked steps get the class ``ps_<style>`` either way.

    Raises:
        RenderError: unknown direction, or an overlay marking a step or edge not in ``graph``.
    """
    direction = normalize_direction(direction)
    if colors not in ("inline", "css"):
        raise RenderError(f"unknown colors {colors!r}; use 'inline' or 'css'")
    css = colors == "css"
    ids: dict[str, str] = {}
    for i, node in enumerate(graph.steps):
        ids[node.name] = node.name if is_plain_id(node.name) else f"n{i}"
    if overlay is not None:
        overlay.check(set(ids), {(e.source, e.target) for e in graph.edges})
    lines: list[str] = []
    if title is not None:
        # JSON strings are valid YAML scalars; this keeps quotes and colons harmless.
        shown = title.translate(_TITLE_LOOKALIKES)
        lines += ["---", f"title: {json.dumps(shown)}", "---"]
    lines.append(f"graph {direction}")
    lines += _node_lines(graph, ids, show_docs, overlay.nodes if overlay is not None else {})
    # Generated ids (n0, n1...) are never plain ids: decision points continue the series.
    decisions = {name: f"n{len(graph.steps) + k}" for name, k in branching(graph).decisions.items()}
    edge_lines, link_styles = _edge_lines(
        graph, ids, decisions, overlay.edges if overlay is not None else {}, css
    )
    lines += edge_lines
    if link is not None:
        for node in graph.steps:
            url = link(node)
            if url and safe_url(url):
                # module.qualname, not the file path: a built site must not show build paths.
                tip = label_text(f"{node.module}.{node.qualname}")
                lines.append(f'    click {ids[node.name]} href "{_url_text(url)}" "{tip}"')
    if overlay is not None:
        first_free = len(graph.steps) + len(decisions)
        lines += _overlay_lines(overlay, ids, link_styles, first_free=first_free, css=css)
    return "\n".join(lines) + "\n"


def _node_lines(
    graph: FlowGraph, ids: dict[str, str], show_docs: bool, marks: Mapping[str, NodeMark]
) -> list[str]:
    """The node declarations: shapes, labels (with summaries and notes) as escaped text."""
    connected = {e.source for e in graph.edges} | {e.target for e in graph.edges}
    lines = []
    for node in graph.steps:
        nid = ids[node.name]
        doc = node.doc if show_docs else None
        mark = marks.get(node.name)
        note = mark.note if mark is not None else None
        plain = nid == node.name and node.name in connected
        if plain and node.kind != "entrypoint" and not doc and not node.transport and not note:
            continue  # a plain step is declared by its edges
        label = label_text(node.name)
        for extra in (doc, note):
            if extra:
                label += "<br/><small>" + label_text(extra) + "</small>"
        if node.kind == "entrypoint":
            lines.append(f'    {nid}(["{label}"])')
        elif node.transport:
            # A "subroutine" box: the step runs in another process.
            lines.append(f'    {nid}[["{label}"]]')
        else:
            lines.append(f'    {nid}["{label}"]')
    return lines


def _edge_lines(
    graph: FlowGraph,
    ids: dict[str, str],
    decisions: dict[str, str],
    marks: Mapping[tuple[str, str], EdgeMark],
    css: bool = False,
) -> tuple[list[str], list[tuple[int, str]]]:
    """The edge lines, and the ``linkStyle`` of each marked edge by its Mermaid link number."""
    transports = {n.name: n.transport for n in graph.steps if n.transport}
    lines: list[str] = []
    link_styles: list[tuple[int, str]] = []
    joined: set[str] = set()
    index = 0  # Mermaid numbers links in the order they are written (for linkStyle)
    for edge in graph.edges:
        emark = marks.get((edge.source, edge.target))
        text = [t for t in (edge.when, transports.get(edge.target), emark and emark.label) if t]
        style = STYLES[emark.style] if emark is not None and emark.style else None
        # A dotted edge marks the process boundary (message or RPC), or a dashed style.
        dotted = edge.target in transports or (style is not None and style.dashed)
        src, dst = ids[edge.source], ids[edge.target]
        if edge.when is not None:
            point = decisions[edge.source]
            if f"    {src} --- {point}" not in joined:
                # A small empty diamond: one of the labelled edges leaving it is taken.
                joined.add(f"    {src} --- {point}")
                lines.append(f'    {src} --- {point}{{"{DECISION_TEXT}"}}')
                index += 1
            src = point
        if text and dotted:
            lines.append(f'    {src} -. "{label_text(" · ".join(text))}" .-> {dst}')
        elif text:
            lines.append(f'    {src} -->|"{label_text(" · ".join(text))}"| {dst}')
        else:
            lines.append(f"    {src} {'-.->' if dotted else '-->'} {dst}")
        if emark is not None and (style is not None or emark.weight is not None):
            link_styles.append((index, _link_style(emark.style, edge_width(emark), css)))
        index += 1
    return lines, link_styles


# Class names of overlay styles: `ps_` keeps them apart from anything a user could define, and
# none of them contains the fix-up words (see _FIXUP_WORDS) outside the `classDef` keyword.
def _class(style: str) -> str:
    return f"ps_{style}"


def _style_props(style: str, width: float | None, node: bool, css: bool = False) -> str:
    s = STYLES[style]
    props = [f"stroke-width:{width or s.width}px"]
    if not css:
        props.insert(0, f"stroke:{s.stroke}")
    if node and s.fill and not css:
        props.append(f"fill:{s.fill}")
    if node and s.text and not css:
        props.append(f"color:{s.text}")
    if s.dashed:
        props.append("stroke-dasharray:5 4")
    # Edge labels keep the theme's text colour: a line's colour as text on the label's own
    # background fell to about 1.6:1 in Mermaid's dark theme (GitHub in dark mode).
    if not node and css:
        props.append(f"stroke-miterlimit:{edge_marker(style)}")
    return ",".join(props)


def _link_style(style: str | None, width: float | None, css: bool = False) -> str:
    if style is not None:
        return _style_props(style, width, node=False, css=css)
    return f"stroke-width:{width}px"


#: How each legend key shape opens and closes a node, as steps of that kind are drawn.
_KEY_SHAPES = {
    "box": ("[", "]"),
    "stadium": ("([", "])"),
    "subroutine": ("[[", "]]"),
    "diamond": ("{", "}"),
    "flag": (">", "]"),
}


def legend_size(overlay: Overlay | None) -> int:
    """How many generated ids the legend of ``overlay`` takes (its box and its lines)."""
    if overlay is None:
        return 0
    count = len(overlay.legend_keys()) + len(overlay.legend_lines())
    return count + 1 if count else 0


def _overlay_lines(
    overlay: Overlay,
    ids: dict[str, str],
    link_styles: list[tuple[int, str]],
    first_free: int,
    css: bool = False,
) -> list[str]:
    lines = [f"    linkStyle {index} {props}" for index, props in link_styles]
    by_style: dict[str, list[str]] = {}
    for name, mark in overlay.nodes.items():
        if mark.style:
            by_style.setdefault(mark.style, []).append(ids[name])
    legend = overlay.legend_lines()
    # Legend boxes get generated ids after the steps' (n0..n{len-1}); a plain step name can
    # never look like a generated id, so none can collide.
    next_id = first_free
    legend_lines: list[str] = []
    keys = overlay.legend_keys()
    if legend or keys:
        box = f"n{next_id}"
        next_id += 1
        legend_lines.append(f'    subgraph {box}["Legend"]')
        # Mermaid lays a subgraph out on its own: with its own "direction LR" the boxes, which
        # have no edges, stack in one column beside the flow. Without it they form one wide
        # row, and the flow's first rank is stretched to that row's width.
        legend_lines.append("        direction LR")
        for key in keys:
            opening, closing = _KEY_SHAPES[key.shape]
            legend_lines.append(f'        n{next_id}{opening}"{label_text(key.text)}"{closing}')
            next_id += 1
        for style, text in legend:
            nid = f"n{next_id}"
            next_id += 1
            legend_lines.append(f'        {nid}["{label_text(text)}"]')
            if style is not None:
                by_style.setdefault(style, []).append(nid)
        legend_lines.append("    end")
    lines += legend_lines
    for style in overlay.styles_used():
        props = _style_props(style, None, node=True, css=css)
        lines.append(f"    classDef {_class(style)} {props}")
        members = by_style.get(style)
        if members:
            lines.append(f"    class {','.join(members)} {_class(style)}")
    return lines


def normalize_direction(direction: str) -> str:
    d = str(direction).upper()
    if d not in DIRECTIONS:
        raise RenderError(
            f"unknown diagram direction {direction!r}; use one of {', '.join(DIRECTIONS)}"
        )
    return d


def safe_url(url: str) -> bool:
    """Whether a diagram may link to ``url``: ``http(s)`` or relative, never ``javascript:``."""
    lowered = url.strip().lower()
    if ":" in lowered.split("/", 1)[0]:
        return lowered.startswith(("http://", "https://"))
    return True


def _url_text(url: str) -> str:
    # Percent-encode what would end the quoted string; ';' too, so no `#name;` in a URL can be
    # read as a Mermaid entity code (a fragment's '#' itself must stay).
    # The first letter of `style`/`classDef` too (see _FIXUP_WORDS); a percent-encoded letter
    # means the same URL.
    coded = {m.start() for m in _FIXUP_WORDS.finditer(url)}
    out = []
    for i, ch in enumerate(url):
        if i in coded or ch in '";<>\\ ' or not ch.isascii() or not ch.isprintable():
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)
