"""A flow with its steps grouped by module, each group drawn as one box (for big flows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from penstock._graph.links import FlowLink
from penstock._graph.model import Edge, FlowGraph, StepNode

__all__ = ["collapse_by_module", "collapse_links"]


def collapse_by_module(graph: FlowGraph) -> FlowGraph:
    """``graph`` with one node per module holding its steps, and the edges between modules.

    A module's node is an entrypoint when one of its steps is; its ``doc`` says how many steps
    it holds. Edges inside a module disappear; edges between two modules are kept once (their
    condition is kept only when every edge they replace has the same one). Transports are kept
    when every step of the module has the same one.
    """
    members: dict[str, list[StepNode]] = {}
    for node in graph.steps:
        members.setdefault(node.module, []).append(node)
    group = {node.name: node.module for node in graph.steps}
    nodes = []
    for module, steps in members.items():
        first = steps[0]
        transports = {s.transport for s in steps}
        nodes.append(
            StepNode(
                name=module,
                kind="entrypoint" if any(s.kind == "entrypoint" for s in steps) else "step",
                module=module,
                qualname=first.qualname,
                file=first.file,
                line=first.line,
                doc=f"{len(steps)} step{'s' if len(steps) != 1 else ''}",
                transport=transports.pop() if len(transports) == 1 else None,
            )
        )
    conditions: dict[tuple[str, str], set[str | None]] = {}
    for e in graph.edges:
        pair = (group[e.source], group[e.target])
        if pair[0] != pair[1]:
            conditions.setdefault(pair, set()).add(e.when)
    edges = tuple(
        Edge(s, t, next(iter(whens)) if len(whens) == 1 else None)
        for (s, t), whens in conditions.items()
    )
    entrypoints = tuple(n.name for n in nodes if n.kind == "entrypoint")
    return FlowGraph(name=graph.name, steps=tuple(nodes), edges=edges, entrypoints=entrypoints)


def collapse_links(graph: FlowGraph, links: Sequence[FlowLink]) -> tuple[FlowLink, ...]:
    """``links`` of ``graph``'s flow with its step names replaced by their modules."""
    group = {node.name: node.module for node in graph.steps}

    def module(flow: str, step: str) -> str:
        return group.get(step, step) if flow == graph.name else step

    return tuple(
        dict.fromkeys(
            replace(
                link,
                source_step=module(link.source_flow, link.source_step),
                target_step=module(link.target_flow, link.target_step),
            )
            for link in links
        )
    )
