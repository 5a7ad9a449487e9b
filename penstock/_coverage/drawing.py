"""A coverage report drawn over its flow: uncovered steps and edges highlighted.

Built on the overlay every other drawing uses (`penstock._render.overlay`), so the colours,
their light and dark values and the legend are those of the rest of the diagrams: uncovered
steps and edges take the ``failing`` style (described as not exercised), covered ones stay plain,
and the legend's notes carry the percentages (the same line is the caption docs put under the
diagram).
"""

from __future__ import annotations

from penstock._coverage.model import KINDS, PATH_LIMIT, FlowCoverage
from penstock._coverage.text import percent_text
from penstock._graph.model import FlowGraph
from penstock._render.overlay import EdgeMark, NodeMark, Overlay

__all__ = ["caption_text", "coverage_mermaid", "coverage_overlay"]

#: The overlay style of what no run exercised.
UNCOVERED = "failing"


def caption_text(fc: FlowCoverage) -> str:
    """``Flow coverage: steps 5/6 (83%), edges 6/8 (75%), ...`` for one flow."""
    parts = []
    for kind in KINDS:
        m = fc.measure(kind)
        if m.capped:
            parts.append(f"{kind}: over {PATH_LIMIT:,}, not counted")
        else:
            parts.append(f"{kind} {len(m.covered)}/{m.total} ({percent_text(m.percent)})")
    runs = f"{fc.runs:,} run{'s' if fc.runs != 1 else ''}"
    return f"Flow coverage ({runs}): " + ", ".join(parts)


def coverage_overlay(
    graph: FlowGraph, fc: FlowCoverage, *, what: str = "the tests", percentages: bool = True
) -> tuple[Overlay, tuple[str, ...]]:
    """The marks of ``fc`` over ``graph``, and warnings for items the graph no longer has.

    ``what`` names where the runs came from in the legend (``"the tests"``, ``"production"``);
    ``percentages`` adds `caption_text` to the legend (docs put it in the caption instead).
    """
    warnings: list[str] = []
    nodes: dict[str, NodeMark] = {}
    for item in fc.steps.missing:
        if item.key[0] in graph:
            nodes[item.key[0]] = NodeMark(UNCOVERED, "not covered")
        else:
            warnings.append(
                f"the coverage report names step {item.key[0]!r}, which flow {graph.name!r} "
                "does not have (renamed or removed since the report was made?)"
            )
    declared = {(e.source, e.target) for e in graph.edges}
    edges: dict[tuple[str, str], EdgeMark] = {}
    for item in fc.edges.missing:
        key = (item.key[0], item.key[1])
        if key in declared:
            edges[key] = EdgeMark(UNCOVERED, "not taken")
        else:
            warnings.append(
                f"the coverage report names edge {key[0]!r} -> {key[1]!r}, which flow "
                f"{graph.name!r} does not declare (changed since the report was made?)"
            )
    overlay = Overlay(
        nodes=nodes,
        edges=edges,
        descriptions={UNCOVERED: f"not exercised by {what}"},
        notes=("plain: covered", caption_text(fc)) if percentages else ("plain: covered",),
    )
    return overlay, tuple(warnings)


def coverage_mermaid(
    graph: FlowGraph, fc: FlowCoverage, *, direction: str = "TD", what: str = "the tests"
) -> str:
    """Mermaid text of ``graph`` with the coverage marks and legend."""
    from penstock._render.stubs import mermaid_with_stubs

    overlay, _ = coverage_overlay(graph, fc, what=what)
    return mermaid_with_stubs(graph, legend=True, overlay=overlay, direction=direction)
