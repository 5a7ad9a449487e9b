"""The legend a flow diagram gets when it draws more than plain boxes and arrows.

Built on `Overlay`: shape keys for what the diagram uses (entrypoints, steps in another
process with their dotted edges, decision points of conditions, stubs of linked flows),
merged into the caller's overlay when there is one.
"""

from __future__ import annotations

from dataclasses import replace

from penstock._graph.model import FlowGraph
from penstock._render.overlay import LegendKey, Overlay

__all__ = ["with_legend"]

ENTRYPOINT = LegendKey("stadium", "entrypoint: a run of the flow starts here")
REMOTE = LegendKey(
    "subroutine", "runs in another process; the dotted arrow into it is labelled with the way"
)
DECISION = LegendKey("diamond", "only one of the labelled arrows leaving it is taken")
LINKED = LegendKey("flag", "another flow this one hands work to or receives work from")


def with_legend(graph: FlowGraph, overlay: Overlay | None, *, stubs: bool) -> Overlay | None:
    """``overlay`` (or a new one) with keys for the shapes ``graph`` is drawn with.

    Returns ``overlay`` unchanged when the diagram has only plain boxes and arrows, or when
    the overlay's legend is turned off.
    """
    keys = []
    if any(n.kind == "entrypoint" for n in graph.steps):
        keys.append(ENTRYPOINT)
    if any(n.transport for n in graph.steps):
        keys.append(REMOTE)
    if any(e.when is not None for e in graph.edges):
        keys.append(DECISION)
    if stubs:
        keys.append(LINKED)
    if not keys or (overlay is not None and not overlay.legend):
        return overlay
    if overlay is None:
        return Overlay(keys=tuple(keys))
    return replace(overlay, keys=(*overlay.keys, *(k for k in keys if k not in overlay.keys)))
