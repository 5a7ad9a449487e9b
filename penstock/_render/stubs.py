"""Other flows drawn as small linked stubs in a flow's diagram (Mermaid and DOT).

A stub is one box per other flow this flow hands work to, or receives work from (see
`penstock._graph.links`), joined by a dotted edge to the step concerned and labelled with the
transport. With a ``flow_url`` the stub links to that flow's own diagram.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from penstock._graph.links import FlowLink
from penstock._graph.model import FlowGraph
from penstock._render.branches import branching
from penstock._render.dot import quote
from penstock._render.legend import with_legend
from penstock._render.mermaid import (
    _safe_url,
    _url_text,
    is_plain_id,
    label_text,
    legend_size,
    render_mermaid,
)
from penstock._render.overlay import Overlay

__all__ = ["FlowUrl", "dot_stubs", "has_stubs", "mermaid_stubs", "mermaid_with_stubs"]

#: Gives the URL of a flow's diagram (``None``: not drawn anywhere known).
FlowUrl = Callable[[str], str | None]


def _stubs(graph: FlowGraph, links: Sequence[FlowLink]) -> list[tuple[str, str, list[FlowLink]]]:
    """``(direction, other flow, links)`` per stub: ``"out"`` stubs first, in link order."""
    groups: dict[tuple[str, str], list[FlowLink]] = {}
    for link in links:
        if link.source_flow == link.target_flow:
            continue
        if link.source_flow == graph.name and link.source_step in graph:
            groups.setdefault(("out", link.target_flow), []).append(link)
        if link.target_flow == graph.name and link.target_step in graph:
            groups.setdefault(("in", link.source_flow), []).append(link)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] != "out", item[0][1]))
    return [(direction, other, found) for (direction, other), found in ordered]


def has_stubs(graph: FlowGraph, links: Sequence[FlowLink]) -> bool:
    """Whether ``graph`` is drawn with at least one stub of another flow."""
    return bool(_stubs(graph, links))


def mermaid_with_stubs(
    graph: FlowGraph,
    *,
    links: Sequence[FlowLink] = (),
    flow_url: FlowUrl | None = None,
    legend: bool = False,
    overlay: Overlay | None = None,
    **options: Any,
) -> str:
    """`render_mermaid` of ``graph`` with the stubs of ``links``.

    With ``legend``, the legend gets keys for the shapes the diagram uses.
    """
    if legend:
        overlay = with_legend(graph, overlay, stubs=has_stubs(graph, links))
    text = render_mermaid(graph, overlay=overlay, **options)
    # Generated ids continue after the steps', the decision points' and the legend's.
    first = len(graph.steps) + len(branching(graph).decisions) + legend_size(overlay)
    return text + "".join(f"{line}\n" for line in mermaid_stubs(graph, links, flow_url, first))


def mermaid_stubs(
    graph: FlowGraph,
    links: Sequence[FlowLink],
    flow_url: FlowUrl | None = None,
    first_free: int | None = None,
) -> list[str]:
    """Lines to append to `render_mermaid`'s output of ``graph``.

    ``first_free`` is the first generated id number not used yet (default: after the steps
    and decision points, for a diagram without a legend).
    """
    ids = {n.name: n.name if is_plain_id(n.name) else f"n{i}" for i, n in enumerate(graph.steps)}
    # Generated ids continue after the steps' and the decision points'.
    first = (
        first_free if first_free is not None else len(graph.steps) + len(branching(graph).decisions)
    )
    lines: list[str] = []
    clicks: list[str] = []
    for k, (direction, other, found) in enumerate(_stubs(graph, links)):
        sid = f"n{first + k}"
        # The "flag" shape: a box with a notch, for "this is another flow".
        lines.append(f'    {sid}>"{label_text(other)}"]')
        for link in dict.fromkeys(found):
            step = ids[link.source_step if direction == "out" else link.target_step]
            label = link.label
            arrow = f'-. "{label_text(label)}" .->' if label else "-.->"
            pair = (step, sid) if direction == "out" else (sid, step)
            line = f"    {pair[0]} {arrow} {pair[1]}"
            if line not in lines:
                lines.append(line)
        url = flow_url(other) if flow_url is not None else None
        if url and _safe_url(url):
            tip = label_text(f"flow {other}")
            clicks.append(f'    click {sid} href "{_url_text(url)}" "{tip}"')
    return lines + clicks


def dot_stubs(
    graph: FlowGraph, links: Sequence[FlowLink], flow_url: FlowUrl | None = None
) -> list[str]:
    """Statements to add inside `render_dot`'s ``digraph`` of ``graph``."""
    ids = {n.name: f"n{i}" for i, n in enumerate(graph.steps)}
    lines: list[str] = []
    for k, (direction, other, found) in enumerate(_stubs(graph, links)):
        sid = f"s{k}"
        attrs = [f"label={quote(other)}", "shape=cds", "style=dashed"]
        url = flow_url(other) if flow_url is not None else None
        if url and _safe_url(url):
            attrs += [f"URL={quote(url)}", f"tooltip={quote('flow ' + other)}"]
        lines.append(f"    {sid} [{', '.join(attrs)}];")
        seen: set[str] = set()
        for link in found:
            step = ids[link.source_step if direction == "out" else link.target_step]
            pair = (step, sid) if direction == "out" else (sid, step)
            label = f", label={quote(link.label)}" if link.label else ""
            line = f"    {pair[0]} -> {pair[1]} [style=dotted{label}];"
            if line not in seen:
                seen.add(line)
                lines.append(line)
    return lines
