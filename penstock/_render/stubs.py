"""Other flows drawn as small linked stubs in a flow's Mermaid diagram (DOT: `render_dot`).

A stub is one box per other flow this flow hands work to, or receives work from (see
`penstock._graph.links`), joined by a dotted edge to the step concerned and labelled with the
transport. With a ``flow_url`` the stub links to that flow's own diagram.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from penstock._graph.links import FlowLink, linked_flows
from penstock._graph.model import FlowGraph
from penstock._render.branches import branching
from penstock._render.legend import with_legend
from penstock._render.mermaid import (
    _url_text,
    is_plain_id,
    label_text,
    legend_size,
    render_mermaid,
    safe_url,
)
from penstock._render.overlay import Overlay

__all__ = ["FlowUrl", "has_stubs", "mermaid_stubs", "mermaid_with_stubs"]

#: Gives the URL of a flow's diagram (``None``: not drawn anywhere known).
FlowUrl = Callable[[str], str | None]


def has_stubs(graph: FlowGraph, links: Sequence[FlowLink]) -> bool:
    """Whether ``graph`` is drawn with at least one stub of another flow."""
    return bool(linked_flows(graph, links))


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
    for k, (direction, other, found) in enumerate(linked_flows(graph, links)):
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
        if url and safe_url(url):
            tip = label_text(f"flow {other}")
            clicks.append(f'    click {sid} href "{_url_text(url)}" "{tip}"')
    return lines + clicks
