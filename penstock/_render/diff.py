"""Draw what changed in a flow: the new flow, with removed steps and edges kept, and an overlay.

Added steps and edges are marked ``added``, removed ones are kept in the drawing and marked
``removed`` (drawn dashed), steps changed in place are marked ``changed`` with a note saying
how; everything else is drawn plain. The overlay's legend explains the styles.
"""

from __future__ import annotations

from dataclasses import replace

from penstock._graph.compare import FlowDiff, StepChange
from penstock._graph.model import Edge, FlowGraph
from penstock._observed.traffic import FlowTraffic, traffic_words
from penstock._render.mermaid import render_mermaid
from penstock._render.overlay import EdgeMark, NodeMark, Overlay

__all__ = ["change_notes", "diff_diagram", "diff_mermaid"]


def diff_diagram(
    diff: FlowDiff, *, since: str | None = None, traffic: FlowTraffic | None = None
) -> tuple[FlowGraph, Overlay]:
    """The graph to draw for ``diff`` (the new flow plus what was removed) and its marks.

    Args:
        diff: one flow's comparison.
        since: the old version's name, for a legend saying "added since ..." (docs); without
            it the legend says "added", "removed", "changed".
        traffic: recorded runs on the old flow: removed steps and edges then show their calls.
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
        said = [f"moved to flow {went}"] if went else []
        if traffic is not None:
            said.append(traffic_words(traffic.step(name)))
        nodes[drawn_as[name]] = NodeMark("removed", "; ".join(said) or None)
    for change in diff.steps_changed:
        nodes[change.name] = NodeMark("changed", "; ".join(change_notes(change)))
    edges: dict[tuple[str, str], EdgeMark] = {}
    for a, b in diff.edges_added:
        edges[(a, b)] = EdgeMark("added")
    for (a, b), e in zip(diff.edges_removed, removed_edges, strict=True):
        calls = None if traffic is None else traffic.edge(a, b).calls
        edges[(e.source, e.target)] = EdgeMark(
            "removed", None if calls is None else f"{calls:,} call" + ("" if calls == 1 else "s")
        )
    for a, b, was, _ in diff.conditions_changed:
        edges[(a, b)] = EdgeMark("changed", f"was: {was}" if was is not None else "was: always")
    descriptions = {"changed": "changed (see note)"}
    if since is not None:
        descriptions = {
            "added": f"added since {since}",
            "removed": f"removed since {since}",
            "changed": f"changed since {since} (see note)",
        }
    notes: tuple[str, ...] = ()
    if traffic is not None:
        notes = (f"removed: calls in the recorded runs ({traffic.runs:,} runs)",)
    overlay = Overlay(nodes=nodes, edges=edges, descriptions=descriptions, notes=notes)
    return graph, overlay


def diff_mermaid(
    diff: FlowDiff,
    *,
    direction: str = "TD",
    traffic: FlowTraffic | None = None,
    legend: bool = True,
) -> str:
    """Mermaid flowchart text of ``diff`` (see `diff_diagram`).

    ``legend=False`` leaves the legend out of the drawing, for a report that says it below.
    """
    graph, overlay = diff_diagram(diff, traffic=traffic)
    return render_mermaid(graph, direction=direction, overlay=replace(overlay, legend=legend))


def _empty(name: str) -> FlowGraph:
    return FlowGraph(name=name, steps=(), edges=(), entrypoints=())


def change_notes(change: StepChange) -> list[str]:
    """How a step changed, in words: ``renamed from approve_refund?``, ``description changed``.

    A probable rename (paired by body and place, not by function) ends in ``?`` and does not
    repeat the function it implies.
    """
    notes = []
    for field, old, new in change.fields:
        if field == "name":
            notes.append(f"renamed from {old}" + ("?" if change.probable else ""))
        elif field == "function" and change.probable:
            continue
        elif field == "kind":
            notes.append("now an entrypoint" if new == "entrypoint" else "no longer an entrypoint")
        elif field == "doc":
            notes.append("description changed")
        elif field == "transport":
            notes.append(f"transport {old or 'none'} -> {new or 'none'}")
        elif field == "function":
            notes.append(f"now {new}")
    return notes
