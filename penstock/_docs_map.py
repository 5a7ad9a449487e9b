"""Docs helpers for links between flows: the anchor of a flow's diagram and the map diagram."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence

from penstock._render.mermaid import _url_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from penstock._graph.model import FlowGraph

__all__ = ["flow_anchor", "flow_outline", "map_diagram", "mermaid_url"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def flow_anchor(flow: str) -> str:
    """The HTML id of flow ``flow``'s diagram: readable, unique per name, safe in a URL.

    ``bom_sync`` gives ``penstock-flow-bom-sync-…`` with a short checksum of the exact name,
    so names that slug alike (``a b`` and ``a-b``) still get different ids.
    """
    slug = _NOT_SLUG.sub("-", flow.lower()).strip("-")[:40]
    return f"penstock-flow-{slug}-{zlib.crc32(flow.encode('utf-8')):08x}".replace("--", "-")


def map_diagram(
    prefix: str | Sequence[str] | None = None,
    direction: str = "LR",
    flow_url: Callable[[str], str | None] | None = None,
    format: str = "mermaid",
) -> str:
    """The map of flows (see ``penstock map``); boxes link with ``flow_url``.

    ``format`` is ``"mermaid"``, ``"dot"``, ``"json"``, or ``"text"`` (an outline for outputs
    without pictures).
    """
    from penstock._render.map import flow_map, render_map  # only pages with a map need it

    found = flow_map(prefix)
    if format == "text":
        lines = ["flows: " + ", ".join(f.name for f in found.flows)]
        for e in found.edges:
            via = f" ({e.label})" if e.label else ""
            lines.append(f"  {e.source} ->{via} {e.target}")
        return "\n".join(lines)
    return render_map(found, format, direction, flow_url=flow_url)


def mermaid_url(url: str) -> str:
    """``url`` written safely inside a Mermaid ``click ... href "..."`` line.

    For hosts that resolve links after the diagram was drawn (Sphinx cross-references).
    """
    return _url_text(url)


def flow_outline(flow: str | FlowGraph, *, links: bool = True) -> str:
    """A flow (name or graph) as plain text, one edge a line, for outputs without pictures.

    For the text and man builders. Entrypoints are marked, conditions written
    ``-[condition]->``, transports in parentheses, and (with ``links``) hand-overs to and from
    other flows close the list.
    """
    from penstock._graph.links import links_of
    from penstock._graph.model import get_flow

    graph = get_flow(flow) if isinstance(flow, str) else flow
    flow = graph.name
    transports = {s.name: s.transport for s in graph.steps if s.transport}
    lines = [f"flow {flow}"]
    lines += [f"  {name} (entrypoint)" for name in graph.entrypoints]
    for e in graph.edges:
        via = f" ({transports[e.target]})" if e.target in transports else ""
        arrow = f"-[{e.when}]->" if e.when is not None else "->"
        lines.append(f"  {e.source} {arrow}{via} {e.target}")
    connected = {e.source for e in graph.edges} | {e.target for e in graph.edges}
    lines += [f"  {s.name}" for s in graph.steps if s.name not in connected and s.kind == "step"]
    for link in links_of(flow) if links else ():
        via = f" ({link.label})" if link.label else ""
        if link.source_flow == flow:
            lines.append(f"  {link.source_step} ->{via} flow {link.target_flow}")
        if link.target_flow == flow:
            lines.append(f"  flow {link.source_flow} ->{via} {link.target_step}")
    return "\n".join(lines)
