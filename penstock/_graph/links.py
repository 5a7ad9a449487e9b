"""Links between flows: where one flow hands work over to another.

Three declarations link two flows:

- a step in two flows that is an entrypoint with no predecessor in one of them and runs after
  steps in the other (typically a Celery ``flow_task`` that starts a flow of its own);
- a step that `produces` a Kafka topic and a consumer (``message_entrypoint(topic=...)``) of
  the same topic in another flow;
- ``after=FlowStep("other_flow", "step")``: an explicit hand-over from a step of another flow.

Links are not edges inside a flow: each flow's diagram draws the other flow as a small stub,
and ``penstock map`` draws one box per flow with the links between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from penstock._declared.registry import REGISTRY, Registry
from penstock._declared.spec import FlowStep, StepSpec
from penstock._graph.model import FlowGraph, resolve
from penstock._suggest import close_matches

__all__ = [
    "FlowLink",
    "UnknownHandOver",
    "flow_links",
    "linked_flows",
    "links_of",
    "unknown_hand_overs",
]


@dataclass(frozen=True, slots=True)
class FlowLink:
    """``source_step`` of ``source_flow`` hands work to ``target_step`` of ``target_flow``.

    Attributes:
        transport: how the work travels (``"celery"``, ``"kafka"``...), ``None`` when not said.
        channel: what carries it, when named (a Kafka topic), else ``None``.
    """

    source_flow: str
    source_step: str
    target_flow: str
    target_step: str
    transport: str | None = None
    channel: str | None = None

    @property
    def label(self) -> str | None:
        """The text drawn on the link: ``"kafka: bom"``, ``"celery"`` or nothing."""
        if self.transport and self.channel:
            return f"{self.transport}: {self.channel}"
        return self.transport or self.channel

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_flow": self.source_flow,
            "source_step": self.source_step,
            "target_flow": self.target_flow,
            "target_step": self.target_step,
            "transport": self.transport,
            "channel": self.channel,
        }


@dataclass(frozen=True)
class UnknownHandOver:
    """A ``FlowStep`` in ``after=`` that names no step of that flow."""

    spec: StepSpec
    flow: str
    ref: FlowStep
    message: str


#: (registry version, links) of the process-wide registry.
_CACHE: list[tuple[int, tuple[FlowLink, ...]]] = []


def flow_links() -> tuple[FlowLink, ...]:
    """Every link between two flows, sorted (source flow, source step, target flow, step)."""
    return links_in(REGISTRY)


def links_in(registry: Registry) -> tuple[FlowLink, ...]:
    """The links between the flows of ``registry``."""
    # Docs builds ask once per diagram (and again to find stale pages): keep the answer until
    # the registry changes.
    if registry is not REGISTRY:
        return _find_links(registry)
    version = registry.version
    if _CACHE and _CACHE[0][0] == version:
        return _CACHE[0][1]
    found = _find_links(registry)
    _CACHE[:] = [(version, found)]
    return found


def _find_links(registry: Registry) -> tuple[FlowLink, ...]:
    specs = registry.all()
    found: dict[FlowLink, None] = {}
    names = {(s.name, f) for s in specs for f in s.flow_names}

    for spec in specs:
        flows = spec.flow_names
        # 1. One step, two flows: a root entrypoint in one, after other steps in the other.
        if spec.kind == "entrypoint" and len(flows) > 1:
            starts = [f for f in flows if not _local_after(spec, f)]
            continues = [f for f in flows if _local_after(spec, f)]
            for src in continues:
                for dst in starts:
                    found[FlowLink(src, spec.name, dst, spec.name, spec.transport)] = None
        # 3. after=FlowStep(...): an explicit hand-over.
        for flow in flows:
            for ref in spec.after_in(flow):
                if isinstance(ref, FlowStep) and (ref.step, ref.flow) in names:
                    link = FlowLink(ref.flow, ref.step, flow, spec.name, spec.transport)
                    found[link] = None
    # 2. A channel (Kafka topic) sent by a step of one flow and received in another.
    receivers: dict[tuple[str, str], list[StepSpec]] = {}
    for spec in specs:
        for pair in spec.receives:
            receivers.setdefault(pair, []).append(spec)
    for spec in specs:
        for pair in spec.sends:
            for other in receivers.get(pair, ()):
                for src in spec.flow_names:
                    for dst in other.flow_names:
                        if src != dst:
                            link = FlowLink(src, spec.name, dst, other.name, pair[0], pair[1])
                            found[link] = None
    return tuple(sorted(found, key=_order))


def links_of(flow: str, registry: Registry = REGISTRY) -> tuple[FlowLink, ...]:
    """The links into and out of ``flow``."""
    return tuple(
        link for link in links_in(registry) if flow in (link.source_flow, link.target_flow)
    )


def unknown_hand_overs(flow: str, registry: Registry = REGISTRY) -> list[UnknownHandOver]:
    """``FlowStep`` references of ``flow``'s steps that name no step of that other flow."""
    out: list[UnknownHandOver] = []
    for spec in registry.in_flow(flow):
        for ref in spec.after_in(flow):
            if not isinstance(ref, FlowStep):
                continue
            if not registry.in_flow(ref.flow):
                known = registry.flow_names()
                close = close_matches(ref.flow, known)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                msg = (
                    f"step {spec.name!r} of flow {flow!r} runs after {ref!r}, but no flow "
                    f"{ref.flow!r} is declared{hint}"
                )
                out.append(UnknownHandOver(spec, flow, ref, msg))
                continue
            steps = [s.name for s in resolve(ref.flow, registry).graph.steps]
            if ref.step not in steps:
                close = close_matches(ref.step, steps)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                msg = (
                    f"step {spec.name!r} of flow {flow!r} runs after {ref!r}, but flow "
                    f"{ref.flow!r} has no step {ref.step!r}{hint}"
                )
                out.append(UnknownHandOver(spec, flow, ref, msg))
    return out


def _local_after(spec: StepSpec, flow: str) -> bool:
    return any(not isinstance(ref, FlowStep) for ref in spec.after_in(flow))


def _order(link: FlowLink) -> tuple[str, str, str, str, str, str]:
    return (
        link.source_flow,
        link.source_step,
        link.target_flow,
        link.target_step,
        link.transport or "",
        link.channel or "",
    )


def linked_flows(
    graph: FlowGraph, links: Sequence[FlowLink]
) -> list[tuple[str, str, list[FlowLink]]]:
    """``(direction, other flow, links)`` per other flow that ``graph`` is linked with.

    ``"out"`` (``graph`` hands work to it) first, then ``"in"``, each sorted by flow name;
    links inside ``graph`` itself, or to steps it does not have, are left out. Diagrams draw
    one stub per entry.
    """
    groups: dict[tuple[str, str], list[FlowLink]] = {}
    for link in links:
        if link.source_flow == link.target_flow:
            continue
        if link.source_flow == graph.name and link.source_step in graph:
            groups.setdefault(("out", link.target_flow), []).append(link)
        if link.target_flow == graph.name and link.target_step in graph:
            groups.setdefault(("in", link.source_flow), []).append(link)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] != "out", item[0][1]))
    return [(direction, other, found) for (direction, other), found in ordered]
