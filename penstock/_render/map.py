"""The map of all flows: one box per flow, the hand-overs between flows as labelled edges."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from penstock._errors import RenderError
from penstock._graph.links import flow_links
from penstock._graph.model import flows
from penstock._render.dot import quote
from penstock._render.mermaid import _url_text, label_text, normalize_direction, safe_url

__all__ = ["FlowMap", "MapEdge", "MapFlow", "flow_map", "render_map"]

#: Version of the ``penstock.map`` JSON layout.
MAP_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class MapFlow:
    """One flow on the map."""

    name: str
    entrypoints: tuple[str, ...]
    steps: int
    modules: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entrypoints": list(self.entrypoints),
            "steps": self.steps,
            "modules": list(self.modules),
        }


@dataclass(frozen=True)
class MapEdge:
    """``source`` hands work to ``target``; ``labels`` say how (``"celery"``, ``"kafka: t"``)."""

    source: str
    target: str
    labels: tuple[str, ...]

    @property
    def label(self) -> str | None:
        return ", ".join(self.labels) or None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "labels": list(self.labels)}


@dataclass(frozen=True)
class FlowMap:
    """Every flow (or those under a module prefix) and the links between them."""

    flows: tuple[MapFlow, ...]
    edges: tuple[MapEdge, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": "penstock.map",
            "version": MAP_SCHEMA_VERSION,
            "flows": [f.as_dict() for f in self.flows],
            "edges": [e.as_dict() for e in self.edges],
        }


def flow_map(prefix: str | Sequence[str] | None = None) -> FlowMap:
    """The map of the registered flows.

    Args:
        prefix: keep only flows with a step in this module or below it (``"shop"`` keeps
            ``shop`` and ``shop.orders``, not ``shopping``); several prefixes keep a flow
            under any of them.
    """
    prefixes = [prefix] if isinstance(prefix, str) else list(prefix or ())
    kept: list[MapFlow] = []
    for name, graph in flows().items():
        modules = tuple(sorted({s.module for s in graph.steps}))
        if prefixes and not any(m == p or m.startswith(p + ".") for m in modules for p in prefixes):
            continue
        kept.append(MapFlow(name, graph.entrypoints, len(graph.steps), modules))
    names = {f.name for f in kept}
    labels: dict[tuple[str, str], dict[str, None]] = {}
    for link in flow_links():
        if link.source_flow in names and link.target_flow in names:
            found = labels.setdefault((link.source_flow, link.target_flow), {})
            if link.label:
                found[link.label] = None
    edges = tuple(MapEdge(s, t, tuple(sorted(found))) for (s, t), found in sorted(labels.items()))
    return FlowMap(tuple(kept), edges)


def render_map(
    flow_map: FlowMap,
    format: str = "mermaid",
    direction: str = "LR",
    *,
    flow_url: Callable[[str], str | None] | None = None,
) -> str:
    """Render the map as Mermaid, DOT or JSON; ``flow_url`` makes each box a link.

    Raises:
        RenderError: unknown format or direction.
    """
    direction = normalize_direction(direction)
    ids = {f.name: f"n{i}" for i, f in enumerate(flow_map.flows)}
    if format == "json":
        return json.dumps(flow_map.as_dict(), indent=2, ensure_ascii=False) + "\n"
    if format == "mermaid":
        lines = [f"graph {direction}"]
        lines += [f'    {ids[f.name]}["{label_text(f.name)}"]' for f in flow_map.flows]
        for e in flow_map.edges:
            arrow = f'-. "{label_text(e.label)}" .->' if e.label else "-.->"
            lines.append(f"    {ids[e.source]} {arrow} {ids[e.target]}")
        for f in flow_map.flows:
            url = flow_url(f.name) if flow_url is not None else None
            if url and safe_url(url):
                tip = label_text(f"flow {f.name}")
                lines.append(f'    click {ids[f.name]} href "{_url_text(url)}" "{tip}"')
        return "\n".join(lines) + "\n"
    if format == "dot":
        rankdir = {"TD": "TB"}.get(direction, direction)
        lines = [
            'digraph "penstock map" {',
            f"    rankdir={rankdir};",
            '    node [shape=box, style=rounded, fontname="Helvetica"];',
        ]
        for f in flow_map.flows:
            attrs = [f"label={quote(f.name)}"]
            url = flow_url(f.name) if flow_url is not None else None
            if url and safe_url(url):
                attrs += [f"URL={quote(url)}", f"tooltip={quote('flow ' + f.name)}"]
            lines.append(f"    {ids[f.name]} [{', '.join(attrs)}];")
        for e in flow_map.edges:
            label = f", label={quote(e.label)}" if e.label else ""
            lines.append(f"    {ids[e.source]} -> {ids[e.target]} [style=dashed{label}];")
        lines.append("}")
        return "\n".join(lines) + "\n"
    raise RenderError(f"unknown format {format!r}; use one of mermaid, dot, json")
