"""Render a flow graph as a Mermaid flowchart.

Names are user text, so they never reach Mermaid unescaped: a name is used as node id only when
it is a plain identifier Mermaid cannot misread; every other name gets a generated id and a
quoted label where each character outside a small safe set is written as a Mermaid entity code
(``#60;``), which Mermaid decodes to text, never to markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from penstock._errors import RenderError
from penstock._graph import FlowGraph, StepNode

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
) -> str:
    """Return Mermaid flowchart text for ``graph``.

    Args:
        direction: ``TD``/``TB``, ``BT``, ``LR`` or ``RL`` (any case).
        title: shown above the diagram (front matter). Mermaid sanitizes titles as HTML and
            then draws them as plain text, so ``&``, ``<`` and ``>`` are written as their
            full-width look-alikes (U+FF06, U+FF1C, U+FF1E) to be shown at all.
        show_docs: add each step's docstring summary under its name.
        link: returns a URL for a step (``http(s)``, or relative); nodes become links.
    """
    direction = normalize_direction(direction)
    ids: dict[str, str] = {}
    for i, node in enumerate(graph.steps):
        ids[node.name] = node.name if is_plain_id(node.name) else f"n{i}"

    connected = {e.source for e in graph.edges} | {e.target for e in graph.edges}
    lines: list[str] = []
    if title is not None:
        # JSON strings are valid YAML scalars; this keeps quotes and colons harmless.
        shown = title.translate(_TITLE_LOOKALIKES)
        lines += ["---", f"title: {json.dumps(shown)}", "---"]
    lines.append(f"graph {direction}")
    for node in graph.steps:
        nid = ids[node.name]
        doc = node.doc if show_docs else None
        plain = nid == node.name and node.name in connected
        if plain and node.kind != "entrypoint" and not doc and not node.transport:
            continue
        label = label_text(node.name)
        if doc:
            label += "<br/><small>" + label_text(doc) + "</small>"
        if node.kind == "entrypoint":
            lines.append(f'    {nid}(["{label}"])')
        elif node.transport:
            # A "subroutine" box: the step runs in another process.
            lines.append(f'    {nid}[["{label}"]]')
        else:
            lines.append(f'    {nid}["{label}"]')
    transports = {n.name: n.transport for n in graph.steps if n.transport}
    for edge in graph.edges:
        via = transports.get(edge.target)
        if via:
            # A dotted, labelled edge marks the process boundary (message or RPC).
            lines.append(f'    {ids[edge.source]} -. "{label_text(via)}" .-> {ids[edge.target]}')
        else:
            lines.append(f"    {ids[edge.source]} --> {ids[edge.target]}")
    if link is not None:
        for node in graph.steps:
            url = link(node)
            if url and _safe_url(url):
                # module.qualname, not the file path: a built site must not show build paths.
                tip = label_text(f"{node.module}.{node.qualname}")
                lines.append(f'    click {ids[node.name]} href "{_url_text(url)}" "{tip}"')
    return "\n".join(lines) + "\n"


def normalize_direction(direction: str) -> str:
    d = str(direction).upper()
    if d not in DIRECTIONS:
        raise RenderError(
            f"unknown diagram direction {direction!r}; use one of {', '.join(DIRECTIONS)}"
        )
    return d


_URL_OK = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*\Z")


def _safe_url(url: str) -> bool:
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
