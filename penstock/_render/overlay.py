"""Marks drawn over a flow's diagram, and the legend that explains them.

Several features draw more than the declared flow: recorded runs (counts, dead paths, drift), a
comparison between revisions (added and removed steps), conditions and links. They all say it
the same way: an `Overlay` marks steps and edges of a `FlowGraph` with named styles from one
palette, adds a note under a step's name, a label and a weight to an edge, and the renderers
draw the marks and a legend of the styles used. A feature that needs steps or edges the flow
does not declare (a removed step kept in a comparison, an undeclared transition seen in runs)
adds them to a copy of the graph first, then marks them.

Overlay text (notes, labels, legend lines) is user text like step names: the renderers escape
it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from penstock._errors import RenderError
from penstock._suggest import did_you_mean

__all__ = [
    "SHAPES",
    "STYLES",
    "EdgeMark",
    "LegendKey",
    "NodeMark",
    "Overlay",
    "Style",
    "edge_marker",
]


@dataclass(frozen=True, slots=True)
class Style:
    """How one named mark is drawn, and what the legend says it means by default.

    Colours are chosen to stay readable on light and dark backgrounds.
    """

    description: str
    stroke: str
    fill: str | None = None
    text: str | None = None
    dashed: bool = False
    #: Line width in px for edges (and node borders) drawn in this style.
    width: float = 1.5


#: The palette every overlay draws from, by name.
STYLES: Mapping[str, Style] = MappingProxyType(
    {
        "added": Style("added", stroke="#1a7f37", fill="#dafbe1", text="#0f3d1f", width=2.5),
        "removed": Style("removed", stroke="#cf222e", fill="#ffebe9", text="#6e1119", dashed=True),
        "changed": Style("changed", stroke="#9a6700", fill="#fff8c5", text="#4d3300", width=2),
        "observed": Style("observed", stroke="#0969da", fill="#ddf4ff", text="#0a3069"),
        "dead": Style(
            "never observed", stroke="#8c959f", fill="#f6f8fa", text="#57606a", dashed=True
        ),
        "drift": Style("not declared", stroke="#bc4c00", fill="#fff1e5", text="#5c2200", width=2.5),
        # No fill of its own: a dashed outline on the theme's background, light or dark.
        "ghost": Style("not in the code", stroke="#6e7781", dashed=True),
        "failing": Style("failed", stroke="#cf222e", fill="#ffebe9", text="#6e1119", width=2.5),
        "highlight": Style("highlighted", stroke="#8250df", fill="#fbefff", text="#3e1f79"),
    }
)


#: Shapes a legend key can show, as the renderers draw steps: ``stadium`` (an entrypoint),
#: ``subroutine`` (a step in another process), ``diamond`` (a decision point), ``flag`` (a
#: stub of another flow), ``box`` (a plain step; also for keys about edges, said in words).
SHAPES = ("box", "stadium", "subroutine", "diamond", "flag")


@dataclass(frozen=True, slots=True)
class LegendKey:
    """A legend line explaining a shape the diagram uses (not a style of the palette).

    Attributes:
        shape: one of `SHAPES`.
        text: what that shape means.
    """

    shape: str
    text: str


@dataclass(frozen=True, slots=True)
class NodeMark:
    """A mark on one step.

    Attributes:
        style: a name from `STYLES`, or ``None`` to leave the box as it is.
        note: a line of text shown under the step's name.
    """

    style: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class EdgeMark:
    """A mark on one edge.

    Attributes:
        style: a name from `STYLES`, or ``None`` to leave the line as it is.
        label: text shown on the edge (after the transport name, if the edge has one).
        weight: from 0 to 1, how thick the line is drawn relative to the thickest (for counts).
    """

    style: str | None = None
    label: str | None = None
    weight: float | None = None


@dataclass(frozen=True)
class Overlay:
    """Marks on a flow's steps (by name) and edges (by ``(source, target)``), and its legend.

    Attributes:
        nodes: marks by step name.
        edges: marks by ``(source, target)``.
        descriptions: what a style means in this overlay, when it is not the palette's
            default (``{"removed": "removed since v1.2"}``).
        notes: extra legend lines (``"edge labels: times observed"``).
        keys: legend lines that show a shape and what it means (drawn before the styles).
        legend: draw a legend of the styles used (and the notes and keys).
    """

    nodes: Mapping[str, NodeMark] = field(default_factory=dict)
    edges: Mapping[tuple[str, str], EdgeMark] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    legend: bool = True
    keys: tuple[LegendKey, ...] = ()

    def __post_init__(self) -> None:
        for key in self.keys:
            if key.shape not in SHAPES:
                raise RenderError(
                    f"unknown legend shape {key.shape!r}{did_you_mean(key.shape, list(SHAPES))}"
                    f" Shapes: {', '.join(SHAPES)}."
                )
        for where, name in self._style_uses():
            if name not in STYLES:
                raise RenderError(
                    f"unknown overlay style {name!r} on {where}"
                    f"{did_you_mean(name, list(STYLES))} Styles: {', '.join(STYLES)}."
                )
        for mark in self.edges.values():
            if mark.weight is not None and not 0 <= mark.weight <= 1:
                raise RenderError(f"edge weight {mark.weight!r} is outside 0..1")

    def _style_uses(self) -> list[tuple[str, str]]:
        uses = [(f"step {n!r}", m.style) for n, m in self.nodes.items() if m.style]
        uses += [(f"edge {s!r} -> {t!r}", m.style) for (s, t), m in self.edges.items() if m.style]
        uses += [("descriptions", name) for name in self.descriptions]
        return uses

    def check(self, steps: set[str], edges: set[tuple[str, str]]) -> None:
        """Raise `RenderError` for a mark on a step or edge the drawn graph does not have."""
        for name in self.nodes:
            if name not in steps:
                raise RenderError(
                    f"overlay marks step {name!r}, which the flow does not have"
                    f"{did_you_mean(name, sorted(steps))}"
                )
        for src, dst in self.edges:
            if (src, dst) not in edges:
                raise RenderError(
                    f"overlay marks edge {src!r} -> {dst!r}, which the flow does not have; "
                    "add it to the graph before marking it"
                )

    def styles_used(self) -> list[str]:
        """The styles drawn, in palette order (the legend's order)."""
        used = {m.style for m in self.nodes.values()} | {m.style for m in self.edges.values()}
        return [name for name in STYLES if name in used]

    def legend_keys(self) -> tuple[LegendKey, ...]:
        """The shape keys of the legend; empty without a legend."""
        return self.keys if self.legend else ()

    def legend_lines(self) -> list[tuple[str | None, str]]:
        """``(style, text)`` per legend line; notes have no style. Empty without a legend."""
        if not self.legend:
            return []
        lines: list[tuple[str | None, str]] = [
            (name, self.descriptions.get(name, STYLES[name].description))
            for name in self.styles_used()
        ]
        lines += [(None, note) for note in self.notes]
        return lines


def edge_width(mark: EdgeMark | None) -> float | None:
    """The line width for an edge mark: its weight scaled to 1-5 px, else its style's width."""
    if mark is None:
        return None
    if mark.weight is not None:
        return round(1 + 4 * mark.weight, 1)
    if mark.style is not None:
        return STYLES[mark.style].width
    return None


def edge_marker(style: str) -> int:
    """The ``stroke-miterlimit`` that tags an edge drawn in ``style`` for the page's CSS.

    Mermaid's grammar takes no ``var(...)`` in ``linkStyle`` and adds no class to an edge, so
    an edge cannot be coloured from CSS by class. Its ``linkStyle`` carries this number
    instead, and ``penstock.css`` selects ``[style*="stroke-miterlimit:N"]``. The miter limit
    itself changes nothing on a drawn edge (its curves have no sharp joins).
    """
    return 11 + list(STYLES).index(style)
