"""The Markdown comment stays under GitHub's body limit, keeping what matters most."""

from __future__ import annotations

from penstock import Edge, FlowGraph, StepNode
from penstock._graph.compare import compare
from penstock._render.diff_report import DEFAULT_MAX_CHARS, MARKDOWN_MARKER, format_markdown

GITHUB_LIMIT = 65_536


def _graph(name: str, steps: int, offset: int = 0) -> FlowGraph:
    nodes = tuple(
        StepNode(
            name=f"step_{k + offset:03d}_{name}",
            kind="entrypoint" if k == 0 else "step",
            module=f"app.{name}",
            qualname=f"step_{k + offset}",
            file="app.py",
            line=k,
        )
        for k in range(steps)
    )
    edges = tuple(Edge(nodes[k].name, nodes[k + 1].name) for k in range(steps - 1))
    return FlowGraph(name=name, steps=nodes, edges=edges, entrypoints=(nodes[0].name,))


def fifty_changed_flows() -> tuple[dict[str, FlowGraph], dict[str, FlowGraph]]:
    """50 flows, each rewritten; flow_07 and flow_31 change the most."""
    old, new = {}, {}
    for i in range(50):
        name = f"flow_{i:02d}"
        size = 40 if i in (7, 31) else 20
        old[name] = _graph(name, size)
        new[name] = _graph(name, size, offset=1000)
    return old, new


def test_fifty_changed_flows_fit_under_the_limit_with_the_largest_kept() -> None:
    diff = compare(*fifty_changed_flows())
    full = format_markdown(diff, max_chars=None)
    assert len(full) > GITHUB_LIMIT  # the problem is real
    short = format_markdown(diff, full_report="the flow-diff artifact")
    assert len(short) <= DEFAULT_MAX_CHARS < GITHUB_LIMIT
    assert short.startswith(MARKDOWN_MARKER)
    # Every flow keeps its summary line; the biggest changes keep their section.
    assert all(f"- **flow\\_{i:02d}** (changed)" in short for i in range(50))
    assert "#### flow\\_07" in short
    assert "#### flow\\_31" in short
    kept = short.count("```mermaid")
    assert 0 < kept < 50
    assert f"_{50 - kept} flows left out of this comment to keep it under 60,000 characters" in (
        short
    )
    assert "the flow\\-diff artifact" in short
    assert short.count("```") % 2 == 0  # no diagram cut in half


def test_a_tiny_limit_keeps_the_marker_and_says_so() -> None:
    diff = compare(*fifty_changed_flows())
    short = format_markdown(diff, max_chars=600)
    assert len(short) <= 600
    assert short.startswith(MARKDOWN_MARKER)
    assert "50 flows left out" in short
