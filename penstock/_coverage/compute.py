"""Measure a flow against what runs did: steps, edges, branches and paths covered.

- A **step** is covered when a run called it.
- An **edge** is covered when a run took it: a call of its target that the happens-before rule
  (`penstock._runtime.rule`, the one rule of drift detection and ``penstock observe``) explains
  by it.
- A **branch** is an edge that is an alternative: it has a ``when=`` condition, or its source
  has several successors. Covered as an edge.
- A **path** (every entrypoint-to-final path of ``penstock paths``) is covered when one run took
  all its edges (a path of one step: when one run called it). A flow with more than
  `PATH_LIMIT` paths is measured on the rest only.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections import Counter
from collections.abc import Iterable, Mapping

from penstock._coverage.hits import Hits
from penstock._coverage.model import PATH_LIMIT, CoverageReport, FlowCoverage, Item, Measure
from penstock._graph.model import FlowGraph

__all__ = ["branch_edges", "flow_coverage", "report", "simple_paths"]


def branch_edges(graph: FlowGraph) -> list[tuple[str, str]]:
    """The edges that count as branches, in the flow's order."""
    out_degree: dict[str, int] = {}
    for e in graph.edges:
        out_degree[e.source] = out_degree.get(e.source, 0) + 1
    return [
        (e.source, e.target) for e in graph.edges if e.when is not None or out_degree[e.source] > 1
    ]


def flow_coverage(graph: FlowGraph, hits: Hits, root: str | None = None) -> FlowCoverage:
    """How much of ``graph`` the runs in ``hits`` exercised.

    Locations are ``file:line``, with files under ``root`` (if given) relative to it.
    """
    name = graph.name
    if root is not None:
        graph = _relative(graph, root)
    runs = hits.flows.get(name, Counter())
    called = hits.steps(name)
    taken = hits.edges(name)

    def split(kind: str, items: Iterable[Item], done: Iterable[bool]) -> Measure:
        covered: list[Item] = []
        missing: list[Item] = []
        for item, ok in zip(items, done, strict=True):
            (covered if ok else missing).append(item)
        return Measure(kind, tuple(covered), tuple(missing))

    steps = [Item((s.name,), _where(graph, s.name)) for s in graph.steps]
    edge_items = [Item((e.source, e.target), _where(graph, e.target), e.when) for e in graph.edges]
    edges = split("edges", edge_items, (i.key in taken for i in edge_items))
    branch_keys = set(branch_edges(graph))
    branch_items = [i for i in edge_items if i.key in branch_keys]
    branches = split("branches", branch_items, (i.key in taken for i in branch_items))

    found = simple_paths(graph, PATH_LIMIT + 1)
    if len(found) > PATH_LIMIT:
        paths = Measure("paths", capped=True)
    else:
        shapes = list(runs)
        path_items = [Item(p, _where(graph, p[0])) for p in found]
        paths = split("paths", path_items, (_taken(p, shapes) for p in found))
    return FlowCoverage(
        name,
        sum(runs.values()),
        split("steps", steps, (i.key[0] in called for i in steps)),
        edges,
        branches,
        paths,
    )


def simple_paths(graph: FlowGraph, limit: int) -> list[tuple[str, ...]]:
    """`FlowGraph.paths` (the same paths, in the same order), without networkx.

    A test session pays for what it imports at its end: networkx alone would cost more than
    measuring 100,000 step calls.
    """
    successors: dict[str, list[str]] = {s.name: [] for s in graph.steps}
    for e in graph.edges:
        successors[e.source].append(e.target)
    out: list[tuple[str, ...]] = []
    for start in graph.entrypoints:
        if not successors[start]:
            out.append((start,))
            if len(out) >= limit:
                return out
            continue
        # Depth first, successors in declaration order, never a step twice on one path.
        path = [start]
        on_path = {start}
        stack = [iter(successors[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                continue
            if not successors[nxt]:
                out.append((*path, nxt))
                if len(out) >= limit:
                    return out
                continue
            path.append(nxt)
            on_path.add(nxt)
            stack.append(iter(successors[nxt]))
    return out


def _taken(
    path: tuple[str, ...], shapes: list[tuple[frozenset[str], frozenset[tuple[str, str]]]]
) -> bool:
    if len(path) == 1:
        return any(path[0] in steps for steps, _ in shapes)
    pairs = list(itertools.pairwise(path))
    return any(all(p in edges for p in pairs) for _, edges in shapes)


def _where(graph: FlowGraph, step: str) -> str | None:
    node = graph.step(step)
    return node.location if node.file else None


def report(
    graphs: Mapping[str, FlowGraph],
    hits: Hits,
    *,
    source: str = "pytest",
    root: str | None = None,
) -> CoverageReport:
    """The report of every flow in ``graphs``, sorted by name (locations relative to ``root``)."""
    return CoverageReport(
        {name: flow_coverage(graphs[name], hits, root) for name in sorted(graphs)}, source
    )


def _relative(graph: FlowGraph, root: str) -> FlowGraph:
    base = os.path.abspath(root)
    steps = []
    for s in graph.steps:
        file = s.file
        if file and os.path.isabs(file):
            try:
                rel = os.path.relpath(file, base)
            except ValueError:  # another drive (Windows)
                rel = file
            if not rel.startswith(".."):
                file = rel.replace(os.sep, "/")
        steps.append(dataclasses.replace(s, file=file))
    return dataclasses.replace(graph, steps=tuple(steps))
