"""The legend a flow diagram gets when it draws more than plain boxes and arrows.

Built on `Overlay`: shape keys for what the diagram uses (entrypoints, steps in another
process with their dotted edges, decision points of conditions, stubs of linked flows),
merged into the caller's overlay when there is one.

Docs pages show the legend as HTML below the diagram (`legend_html`), not inside the drawing:
a legend laid out beside the flow doubled its width and pushed steps out of the text column.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace

from penstock._graph.model import FlowGraph
from penstock._render.overlay import LegendKey, Overlay

__all__ = ["legend_html", "legend_markdown", "with_legend"]

ENTRYPOINT = LegendKey("stadium", "entrypoint: a run of the flow starts here")
REMOTE = LegendKey(
    "subroutine", "runs in another process; the dotted arrow into it is labelled with the way"
)
DECISION = LegendKey("diamond", "only one of the labelled arrows leaving it is taken")
LINKED = LegendKey("flag", "another flow this one hands work to or receives work from")


def with_legend(graph: FlowGraph, overlay: Overlay | None, *, stubs: bool) -> Overlay | None:
    """``overlay`` (or a new one) with keys for the shapes ``graph`` is drawn with.

    Returns ``overlay`` unchanged when the diagram has only plain boxes and arrows, or when
    the overlay's legend is turned off.
    """
    keys = []
    if any(n.kind == "entrypoint" for n in graph.steps):
        keys.append(ENTRYPOINT)
    # An entrypoint is drawn as a stadium even when it is reached by a message, so only other
    # steps with a transport are drawn with the "subroutine" shape this key explains.
    if any(n.transport and n.kind != "entrypoint" for n in graph.steps):
        keys.append(REMOTE)
    if any(e.when is not None for e in graph.edges):
        keys.append(DECISION)
    if stubs:
        keys.append(LINKED)
    if not keys or (overlay is not None and not overlay.legend):
        return overlay
    if overlay is None:
        return Overlay(keys=tuple(keys))
    return replace(overlay, keys=(*overlay.keys, *(k for k in keys if k not in overlay.keys)))


def legend_html(overlay: Overlay | None) -> str:
    """The legend of ``overlay`` as HTML to put below its diagram ("" when there is none).

    Each line has a swatch of the shape or style it explains. Colours come from the same CSS
    custom properties as the diagram's (``penstock.css``), so the legend follows the page's
    light or dark scheme; the text is the page's own.
    """
    if overlay is None:
        return ""
    items: list[str] = []
    for key in overlay.legend_keys():
        items.append(_item(f"penstock-key penstock-key-{key.shape}", key.text))
    for style, text in overlay.legend_lines():
        if style is None:
            items.append(f'<li class="penstock-legend-note">{html.escape(text)}</li>')
        else:
            items.append(_item(f"penstock-key penstock-key-box ps_{style}", text))
    if not items:
        return ""
    return (
        '<div class="penstock-legend" role="note" aria-label="Legend">'
        '<span class="penstock-legend-title">Legend</span>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def _item(swatch: str, text: str) -> str:
    return f'<li><span class="{swatch}" aria-hidden="true"></span>{html.escape(text)}</li>'


#: How a legend line in Markdown shows each shape and style: there is no CSS in a pull-request
#: comment, so a coloured square and words say what the diagram draws.
_MARKDOWN_SWATCHES = {
    "stadium": "rounded ends",
    "subroutine": "double sides",
    "diamond": "diamond",
    "flag": "flag",
    "box": "box",
    "added": "🟩 green, thick outline",
    "removed": "🟥 red, dashed",
    "changed": "🟨 amber",
    "observed": "🟦 blue",
    "dead": "⬜ grey, dashed",
    "drift": "🟧 orange, thick outline",
    "ghost": "dashed outline",
    "failing": "🟥 red, thick outline",
    "highlight": "🟪 purple",
}


def legend_markdown(overlay: Overlay | None, escape: Callable[[str], str]) -> str:
    """The legend of ``overlay`` as one Markdown line to put below its diagram ("" for none).

    For pull-request comments and other Markdown: below the drawing it never widens it, and
    its text follows the reader's light or dark theme. ``escape`` makes a text verbatim
    Markdown (legend lines can hold user text, such as a revision's name).
    """
    if overlay is None:
        return ""
    items = [f"{_MARKDOWN_SWATCHES[k.shape]}: {escape(k.text)}" for k in overlay.legend_keys()]
    for style, text in overlay.legend_lines():
        swatch = "" if style is None else f"{_MARKDOWN_SWATCHES[style]}: "
        items.append(swatch + escape(text))
    return "**Legend:** " + " · ".join(items) if items else ""
