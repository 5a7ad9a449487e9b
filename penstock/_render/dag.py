"""``generate_dag``: one entry point for every output format."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Literal

from penstock._errors import RenderError
from penstock._graph.collapse import collapse_by_module, collapse_links
from penstock._graph.links import links_of
from penstock._graph.model import FlowGraph, StepNode, get_flow
from penstock._render.dot import render_dot
from penstock._render.legend import with_legend
from penstock._render.overlay import Overlay
from penstock._render.stubs import has_stubs, mermaid_with_stubs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from penstock._observed.replay import RunReplay
    from penstock._observed.tally import ObservedFlow

__all__ = ["FORMATS", "generate_dag"]

Format = Literal["mermaid", "dot", "json"]
FORMATS: tuple[Format, ...] = ("mermaid", "dot", "json")


def generate_dag(
    flow: str | FlowGraph,
    format: Format | str = "mermaid",
    direction: str = "TD",
    *,
    title: str | None = None,
    show_docs: bool = False,
    link: Callable[[StepNode], str | None] | None = None,
    overlay: Overlay | None = None,
    observed: ObservedFlow | RunReplay | None = None,
    links: bool = False,
    flow_url: Callable[[str], str | None] | None = None,
    legend: bool = False,
    collapse: bool = False,
    interactive: bool = True,
) -> str:
    """Render a flow as text.

    Args:
        flow: a flow name, or a graph from `penstock.get_flow`.
        format: ``"mermaid"``, ``"dot"`` or ``"json"`` (the `FlowGraph.as_dict` layout).
        direction: ``TD``/``TB``, ``BT``, ``LR`` or ``RL``.
        title: Mermaid only: a title above the diagram.
        show_docs: put each step's docstring summary under its name (Mermaid and DOT).
        link: Mermaid and DOT: a function giving a URL for a step, to make nodes links
            (``http(s)`` or relative; others are left out).
        overlay: Mermaid and DOT: marks drawn over the flow (see `Overlay`).
        observed: recorded runs drawn over the flow (from `penstock.observe`: counts on
            edges, dead paths, undeclared transitions, per-step calls, error rate and p95),
            or one run's path (from `penstock.replay_run`). JSON output gets its
            ``as_dict()`` under ``"observed"``.
        links: draw the other flows this one hands work to or receives work from as small
            stubs (Mermaid and DOT; see `penstock.FlowStep`); JSON gets a ``links`` list.
        flow_url: with ``links``, a function giving the URL of another flow's diagram, to
            make the stubs links.
        legend: Mermaid and DOT: add a legend of the shapes the diagram uses (entrypoints,
            steps in another process, decision points, stubs) to the overlay's.
        collapse: draw each module's steps as one box (big flows); an overlay then marks
            the module boxes.
        interactive: DOT only: ``False`` leaves out every ``URL`` and ``tooltip`` attribute,
            for a picture that cannot follow a link (a PDF, an EPUB page).

    Raises:
        FlowNotFoundError: unknown flow name.
        RenderError: unknown format or direction, or both ``overlay`` and ``observed``.
    """
    graph = get_flow(flow) if isinstance(flow, str) else flow
    if observed is not None:
        if overlay is not None:
            raise RenderError("give generate_dag either overlay= or observed=, not both")
        if format == "json":
            data = {**graph.as_dict(), "observed": observed.as_dict()}
            return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        from penstock._render.observed import overlay_for

        graph, overlay = overlay_for(graph, observed)
    found = links_of(graph.name) if links else ()
    if collapse:
        found = collapse_links(graph, found)
        graph = collapse_by_module(graph)
    if format == "mermaid":
        return mermaid_with_stubs(
            graph,
            links=found,
            flow_url=flow_url,
            legend=legend,
            overlay=overlay,
            direction=direction,
            title=title,
            show_docs=show_docs,
            link=link,
        )
    if format == "dot":
        if legend:
            overlay = with_legend(graph, overlay, stubs=has_stubs(graph, found))
        return render_dot(
            graph,
            direction=direction,
            show_docs=show_docs,
            overlay=overlay,
            links=found,
            flow_url=flow_url,
            link=link,
            interactive=interactive,
        )
    if format == "json":
        data = graph.as_dict()
        if links:
            data["links"] = [link.as_dict() for link in found]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    raise RenderError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
