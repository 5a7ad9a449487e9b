"""Draw what changed in a flow: the new flow, with removed steps and edges kept, and an overlay.

Added steps and edges are marked ``added``, removed ones are kept in the drawing and marked
``removed`` (drawn dashed), steps changed in place are marked ``changed`` with a note saying
how; everything else is drawn plain. The overlay's legend explains the styles.
"""

from __future__ import annotations

from dataclasses import replace

from penstock._graph.compare import FlowDiff
from penstock._graph.model import Edge, FlowGraph
from penstock._render.mermaid import render_mermaid
from penstock._render.overlay import EdgeMark, NodeMark, Overlay

__all__ = ["diff_diagram", "diff_mermaid"]


def diff_diagram(diff: FlowDiff, *, since: str | None = None) -> tuple[FlowGraph, Overlay]:
    """The graph to draw for ``diff`` (the new flow plus what was removed) and its marks.

    Args:
        diff: one flow's comparison.
        since: the old version's name, for a legend saying "added since ..." (docs); without
            it the legend says "added", "removed", "changed".
    """
    new = diff.new if diff.new is not None else _empty(diff.flow)
    old = diff.old if diff.old is not None else _empty(diff.flow)
    moved_in = dict(diff.moved_in)
    moved_out = dict(diff.moved_out)
    renamed = dict(diff.renamed)

    # A removed step keeps its old name unless a step of the new flow took it meanwhile.
    taken = {s.name for s in new.steps}
    drawn_as: dict[str, str] = {}
    for name in diff.steps_removed:
        shown = name
        while shown in taken:
            shown = f"{shown} (removed)"
        taken.add(shown)
        drawn_as[name] = shown

    def now(old_name: str) -> str:
        return drawn_as.get(old_name) or renamed.get(old_name, old_name)

    removed_steps = tuple(replace(old.step(n), name=drawn_as[n]) for n in diff.steps_removed)
    removed_edges = tuple(Edge(now(a), now(b)) for a, b in diff.edges_removed)
    graph = FlowGraph(
        name=diff.flow,
        steps=new.steps + removed_steps,
        edges=new.edges + removed_edges,
        entrypoints=new.entrypoints,
    )

    nodes: dict[str, NodeMark] = {}
    for name in diff.steps_added:
        came = moved_in.get(name)
        nodes[name] = NodeMark("added", f"moved from flow {came}" if came else None)
    for name in diff.steps_removed:
        went = moved_out.get(name)
        nodes[drawn_as[name]] = NodeMark("removed", f"moved to flow {went}" if went else None)
    for change in diff.steps_changed:
        nodes[change.name] = NodeMark("changed", "; ".join(_notes(change.fields)))
    edges: dict[tuple[str, str], EdgeMark] = {}
    for a, b in diff.edges_added:
        edges[(a, b)] = EdgeMark("added")
    for e in removed_edges:
        edges[(e.source, e.target)] = EdgeMark("removed")
    for a, b, was, _ in diff.conditions_changed:
        edges[(a, b)] = EdgeMark("changed", f"was: {was}" if was is not None else "was: always")
    descriptions = {"changed": "changed (see note)"}
    if since is not None:
        descriptions = {
            "added": f"added since {since}",
            "removed": f"removed since {since}",
            "changed": f"changed since {since} (see note)",
        }
    overlay = Overlay(nodes=nodes, edges=edges, descriptions=descriptions)
    return graph, overlay


def diff_mermaid(diff: FlowDiff, *, direction: str = "TD") -> str:
    """Mermaid flowchart text of ``diff`` (see `diff_diagram`)."""
    graph, overlay = diff_diagram(diff)
    return render_mermaid(graph, direction=direction, overlay=overlay)


def _empty(name: str) -> FlowGraph:
    return FlowGraph(name=name, steps=(), edges=(), entrypoints=())


def _notes(fields: tuple[tuple[str, str | None, str | None], ...]) -> list[str]:
    notes = []
    for field, old, new in fields:
        if field == "name":
            notes.append(f"renamed from {old}")
        elif field == "kind":
            notes.append("now an entrypoint" if new == "entrypoint" else "no longer an entrypoint")
        elif field == "doc":
            notes.append("description changed")
        elif field == "transport":
            notes.append(f"transport {old or 'none'} -> {new or 'none'}")
        elif field == "function":
            notes.append(f"now {new}")
    return notes
