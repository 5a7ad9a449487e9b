"""Where a flow branches on a condition, as every renderer draws it.

Steps declared with ``when=`` after the same step are alternatives: one of them runs,
depending on the condition, unlike a plain fan-out where all of them run. Renderers draw such
a step's conditional edges from a small decision diamond placed after it, each edge labelled
with its condition; its unconditional edges stay direct.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from penstock._graph.model import Edge, FlowGraph

__all__ = ["Branching", "branching", "describe_path", "edge_label"]


@dataclass(frozen=True)
class Branching:
    """The decision points of a graph.

    Attributes:
        decisions: step name -> index of its decision point (0, 1, ...), for each step with at
            least one conditional out-edge, in step order.
    """

    decisions: dict[str, int]

    def via(self, edge: Edge) -> int | None:
        """The decision point an edge leaves from, or ``None`` for a direct edge."""
        return self.decisions.get(edge.source) if edge.when is not None else None


def branching(graph: FlowGraph) -> Branching:
    """Find the steps whose successors are alternatives."""
    conditional = {e.source for e in graph.edges if e.when is not None}
    order = [s.name for s in graph.steps if s.name in conditional]
    return Branching({name: i for i, name in enumerate(order)})


def edge_label(when: str | None, transport: str | None) -> str | None:
    """The text on an edge: its condition, its transport, or both (``"declined · celery"``)."""
    if when is not None and transport:
        return f"{when} · {transport}"
    return when if when is not None else (transport or None)


def describe_path(graph: FlowGraph, path: tuple[str, ...]) -> str:
    """A path on one line, with the condition of each conditional hop.

    For example ``charge -> pay -[declined]-> notify``.
    """
    conditions = {(e.source, e.target): e.when for e in graph.edges}
    out = [path[0]] if path else []
    for source, target in itertools.pairwise(path):
        when = conditions.get((source, target))
        out.append(f" -[{when}]-> {target}" if when is not None else f" -> {target}")
    return "".join(out)
