"""The public, read-only view of a flow, built lazily from the registry.

Renderers, the CLI and the docs extensions consume only `FlowGraph` and its parts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from penstock._declared.registry import REGISTRY, Registry
from penstock._declared.spec import FlowStep, StepSpec, handle_of
from penstock._errors import FlowNotFoundError, GraphError
from penstock._suggest import close_matches, did_you_mean

if TYPE_CHECKING:
    import networkx as nx

    from penstock._declared.spec import AfterRef, StepKind

__all__ = ["Edge", "FlowGraph", "StepNode", "flows", "get_flow"]

#: Version of the dictionary layout produced by `FlowGraph.as_dict` (2 added ``when`` to edges).
SCHEMA_VERSION = 2
#: Versions `FlowGraph.from_dict` reads.
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True, slots=True)
class StepNode:
    """One step of a flow, as documentation sees it.

    Attributes:
        name: the step's name in the flow.
        kind: ``"entrypoint"`` or ``"step"``.
        module: the module that defines the function.
        qualname: the function's qualified name.
        file: the function's source file.
        line: the line of the ``def``.
        doc: the description, else the docstring's first paragraph.
        transport: ``"celery"``, ``"kafka"``, ``"grpc"``... when the step runs in another
            process.
    """

    name: str
    kind: StepKind
    module: str
    qualname: str
    file: str
    line: int
    doc: str | None = None
    transport: str | None = None

    @property
    def location(self) -> str:
        """``file:line`` of the decorated function."""
        return f"{self.file}:{self.line}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "module": self.module,
            "qualname": self.qualname,
            "file": self.file,
            "line": self.line,
            "doc": self.doc,
            "transport": self.transport,
        }


@dataclass(frozen=True, slots=True)
class Edge:
    """A declared "``target`` runs after ``source``", possibly only under a condition.

    Edges out of one step with a ``when`` are alternatives: the condition says which runs.

    Attributes:
        source: the step that runs first.
        target: the step that runs after it.
        when: the condition under which ``target`` runs after ``source``, or ``None``.
    """

    source: str
    target: str
    #: The condition under which ``target`` runs after ``source`` (``@step(when=...)``).
    when: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "target": self.target, "when": self.when}


@dataclass(frozen=True)
class FlowGraph:
    """A flow: its steps in a stable order (topological, ties by source position) and edges.

    Equal declarations give equal graphs whatever order their modules were imported in.

    Attributes:
        name: the flow's name.
        steps: its steps, in a stable topological order.
        edges: its declared edges, in a stable order.
        entrypoints: the names of its entrypoints.
    """

    name: str
    steps: tuple[StepNode, ...]
    edges: tuple[Edge, ...]
    entrypoints: tuple[str, ...]
    _index: dict[str, StepNode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {s.name: s for s in self.steps})

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[StepNode]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def step(self, name: str) -> StepNode:
        """Return the step called ``name``.

        Raises:
            GraphError: no such step in this flow (with a did-you-mean).
        """
        try:
            return self._index[name]
        except KeyError:
            hint = did_you_mean(name, self._index)
            raise GraphError(f"flow {self.name!r} has no step {name!r}{hint}") from None

    def successors(self, name: str) -> tuple[str, ...]:
        self.step(name)
        return tuple(e.target for e in self.edges if e.source == name)

    def predecessors(self, name: str) -> tuple[str, ...]:
        self.step(name)
        return tuple(e.source for e in self.edges if e.target == name)

    def reachable(self, starts: Iterable[str]) -> set[str]:
        """The steps reached from ``starts`` by following edges, ``starts`` included."""
        seen = set(starts)
        todo = list(seen)
        while todo:
            for nxt in self.successors(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def paths(self, limit: int | None = None) -> list[tuple[str, ...]]:
        """Every simple path from an entrypoint to a final step, in a stable order.

        A final step has no successors. ``limit`` caps how many are returned (the count can grow
        exponentially with fan-out and fan-in).
        """
        import networkx as nx

        g = self.to_networkx()
        finals = [s.name for s in self.steps if g.out_degree(s.name) == 0]
        out: list[tuple[str, ...]] = []
        for start in self.entrypoints:
            if start in finals:
                out.append((start,))
            else:
                for path in nx.all_simple_paths(g, start, finals):
                    out.append(tuple(path))
                    if limit is not None and len(out) >= limit:
                        return out
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def to_networkx(self) -> nx.DiGraph[str]:
        """A ``networkx.DiGraph`` with the step fields as node attributes."""
        import networkx as nx

        g: nx.DiGraph[str] = nx.DiGraph(name=self.name)
        for s in self.steps:
            g.add_node(s.name, **s.as_dict())
        g.add_edges_from((e.source, e.target, {"when": e.when}) for e in self.edges)
        return g

    def condition(self, source: str, target: str) -> str | None:
        """The ``when`` of the edge ``source -> target`` (``None``: unconditional or no edge)."""
        for e in self.edges:
            if e.source == source and e.target == target:
                return e.when
        return None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (schema version `SCHEMA_VERSION`)."""
        return {
            "schema": "penstock.flow",
            "version": SCHEMA_VERSION,
            "flow": self.name,
            "entrypoints": list(self.entrypoints),
            "steps": [s.as_dict() for s in self.steps],
            "edges": [e.as_dict() for e in self.edges],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowGraph:
        """Rebuild a graph from `as_dict` output (schema version 1 or 2).

        Raises:
            GraphError: not a penstock flow document, or of a version this penstock cannot read.
        """
        version = data.get("version")
        if data.get("schema") != "penstock.flow" or version not in READABLE_VERSIONS:
            raise GraphError(
                "not a penstock flow document of version "
                f"{' or '.join(map(str, READABLE_VERSIONS))}: "
                f"schema={data.get('schema')!r} version={version!r}"
            )
        return cls(
            name=data["flow"],
            steps=tuple(StepNode(**s) for s in data["steps"]),
            edges=tuple(Edge(**e) for e in data["edges"]),
            entrypoints=tuple(data["entrypoints"]),
        )


@dataclass(frozen=True)
class Unresolved:
    """An ``after`` reference that names no step of the flow."""

    spec: StepSpec
    ref: AfterRef
    label: str


@dataclass(frozen=True)
class Resolution:
    """A flow graph plus what could not be resolved, for `penstock._graph.checks`."""

    graph: FlowGraph
    specs: dict[str, list[StepSpec]]
    unresolved: tuple[Unresolved, ...]


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = -1
        self.entries: dict[str, Resolution] = {}


_CACHE = _Cache()


def resolve(flow: str, registry: Registry = REGISTRY) -> Resolution:
    """Build (or fetch from cache) the resolution of ``flow``."""
    if registry is not REGISTRY:
        return _build(flow, registry)
    with _CACHE.lock:
        if _CACHE.version != registry.version:
            _CACHE.entries.clear()
            _CACHE.version = registry.version
        hit = _CACHE.entries.get(flow)
    if hit is not None:
        return hit
    res = _build(flow, registry)
    with _CACHE.lock:
        # An unknown name is not kept: a mistyped name must not grow the cache.
        if _CACHE.version == registry.version and res.graph.steps:
            _CACHE.entries[flow] = res
    return res


def resolve_flow(name: str) -> Resolution:
    """The resolution of flow ``name``: a boundary's one look-up of a flow by name.

    A command or a docs directive resolves its flow here once and passes the graph down;
    nothing below it looks the name up again.

    Raises:
        FlowNotFoundError: no step is registered in that flow (with the known flows and a
            did-you-mean).
    """
    if isinstance(name, str):
        res = resolve(name)
        if res.graph.steps:
            return res
    known = REGISTRY.flow_names()
    asked = name if isinstance(name, str) else repr(name)
    raise FlowNotFoundError(asked, known, close_matches(asked, known))


def get_flow(name: str) -> FlowGraph:
    """Return the read-only graph of flow ``name``.

    Raises:
        FlowNotFoundError: no step is registered in that flow (with the known flows and a
            did-you-mean).
    """
    return resolve_flow(name).graph


def flows() -> dict[str, FlowGraph]:
    """Every registered flow's graph, by name, sorted by name."""
    return {name: resolve(name).graph for name in REGISTRY.flow_names()}


def _position(spec: StepSpec) -> tuple[str, int, str]:
    # Sorting by source position (not registration order) keeps output independent of
    # import order.
    return (spec.module, spec.line, spec.qualname)


def _ref_label(ref: AfterRef) -> str:
    if isinstance(ref, str):
        return ref
    if isinstance(ref, FlowStep):
        return f"{ref.step} (flow {ref.flow})"
    h = handle_of(ref)
    if h is not None:
        return h.spec.name
    return getattr(ref, "__qualname__", None) or repr(ref)


def _build(flow: str, registry: Registry) -> Resolution:
    members = sorted(registry.in_flow(flow), key=_position)
    by_name: dict[str, list[StepSpec]] = {}
    for spec in members:
        by_name.setdefault(spec.name, []).append(spec)
    member_keys = {s.key for s in members}

    edges: dict[tuple[str, str], str | None] = {}
    unresolved: list[Unresolved] = []
    for spec in members:
        when = spec.when_in(flow)
        for ref in spec.after_in(flow):
            source: str | None = None
            if isinstance(ref, FlowStep):
                continue  # a hand-over from another flow: penstock._graph.links draws it
            if isinstance(ref, str):
                if ref in by_name:
                    source = ref
            else:
                h = handle_of(ref)
                if h is not None and h.spec.key in member_keys:
                    source = h.spec.name
            if source is None:
                unresolved.append(Unresolved(spec, ref, _ref_label(ref)))
            else:
                edges[(source, spec.name)] = when

    # One node per name; a duplicated name keeps its first definition (check reports it).
    firsts = {name: specs[0] for name, specs in by_name.items()}
    order = _stable_topological(firsts, edges)
    rank = {name: i for i, name in enumerate(order)}
    nodes = tuple(_node(firsts[name]) for name in order)
    sorted_edges = tuple(
        Edge(s, t, edges[(s, t)]) for s, t in sorted(edges, key=lambda e: (rank[e[0]], rank[e[1]]))
    )
    entrypoints = tuple(n.name for n in nodes if n.kind == "entrypoint")
    graph = FlowGraph(name=flow, steps=nodes, edges=sorted_edges, entrypoints=entrypoints)
    return Resolution(graph=graph, specs=by_name, unresolved=tuple(unresolved))


def _node(spec: StepSpec) -> StepNode:
    return StepNode(
        name=spec.name,
        kind=spec.kind or "step",
        module=spec.module,
        qualname=spec.qualname,
        file=spec.file,
        line=spec.line,
        doc=spec.summary(),
        transport=spec.transport,
    )


def _stable_topological(
    specs: dict[str, StepSpec], edges: dict[tuple[str, str], str | None]
) -> list[str]:
    """Topological order, always taking the ready step that comes first in the source.

    On a cycle, each strongly connected part is placed as one block (its steps in source
    order), so a broken flow still renders deterministically. An acyclic flow (the usual
    case) is ordered without networkx, whose import alone costs a docs build a tenth of its
    time.
    """

    def position(n: str) -> tuple[str, int, str]:
        return _position(specs[n])

    order = _ordered(list(specs), list(edges), position)
    if order is not None:
        return order
    import networkx as nx

    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(specs)
    g.add_edges_from(edges)
    cond = nx.condensation(g)
    members: dict[int, list[str]] = {
        c: sorted(cond.nodes[c]["members"], key=position) for c in cond.nodes
    }
    blocks = nx.lexicographical_topological_sort(cond, key=lambda c: position(members[c][0]))
    return [n for c in blocks for n in members[c]]


def _ordered(
    nodes: list[str], edges: list[tuple[str, str]], key: Callable[[str], Any]
) -> list[str] | None:
    """Kahn's algorithm taking the ready node with the smallest key; ``None`` on a cycle."""
    import heapq

    indegree = dict.fromkeys(nodes, 0)
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        successors[src].append(dst)
        indegree[dst] += 1
    ready = [(key(n), i, n) for i, n in enumerate(nodes) if not indegree[n]]
    heapq.heapify(ready)
    rank = {n: i for i, n in enumerate(nodes)}
    order = []
    while ready:
        _, _, node = heapq.heappop(ready)
        order.append(node)
        for child in successors[node]:
            indegree[child] -= 1
            if not indegree[child]:
                heapq.heappush(ready, (key(child), rank[child], child))
    return order if len(order) == len(nodes) else None
