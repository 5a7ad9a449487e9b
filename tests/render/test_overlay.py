"""Overlays: marks drawn over a flow, read back by the real Mermaid 11/12 and Graphviz."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import (
    EdgeMark,
    FlowGraph,
    NodeMark,
    Overlay,
    RenderError,
    generate_dag,
    get_flow,
)
from penstock._render.overlay import STYLES
from tests.render.conftest import FlowShape, declare_flow
from tests.render.strategies import docs, flow_shapes
from tests.support.graphviz import Graphviz, spaces
from tests.support.mermaid import MermaidOracle

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

style_names = st.one_of(st.none(), st.sampled_from(sorted(STYLES)))


@st.composite
def overlays(draw: st.DrawFn, graph: FlowGraph) -> Overlay:
    """Marks with hostile notes and labels on some steps and edges of ``graph``."""
    nodes = {
        node.name: NodeMark(draw(style_names), draw(st.none() | docs))
        for node in graph.steps
        if draw(st.booleans())
    }
    edges = {
        (e.source, e.target): EdgeMark(
            draw(style_names),
            draw(st.none() | docs),
            draw(st.none() | st.floats(0, 1)),
        )
        for e in graph.edges
        if draw(st.booleans())
    }
    notes = tuple(draw(st.lists(docs, max_size=2)))
    return Overlay(nodes=nodes, edges=edges, notes=notes, legend=draw(st.booleans()))


def shown_edge_text(graph: FlowGraph, overlay: Overlay, source: str, target: str) -> str:
    via = graph.step(target).transport
    mark = overlay.edges.get((source, target))
    when = graph.condition(source, target)
    return " · ".join(t for t in (when, via, mark.label if mark else None) if t)


def shown_node_text(graph: FlowGraph, overlay: Overlay, name: str) -> str:
    mark = overlay.nodes.get(name)
    return name + (mark.note or "" if mark else "")


@SETTINGS
@given(shape=flow_shapes(max_steps=5), data=st.data())
def test_overlay_parses_in_mermaid_with_text_verbatim(
    mermaid_oracle: MermaidOracle, forget_generated: None, shape: FlowShape, data: st.DataObject
) -> None:
    """Any marks keep every name, note and edge label verbatim in Mermaid 11 and 12."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    overlay = data.draw(overlays(graph))
    text = generate_dag(graph, format="mermaid", overlay=overlay)
    legend = overlay.legend_lines()
    for parsed in mermaid_oracle.parse_one(text):
        where = f"Mermaid {parsed.version} on:\n{text}"
        assert parsed.ok, f"{where}\n{parsed.error}"
        # Decision points of conditional edges (when=) are empty diamonds.
        diamonds = {i for i, v in parsed.vertices.items() if v["shape"] == "diamond"}
        texts = sorted(v["text"] for i, v in parsed.vertices.items() if i not in diamonds)
        want = sorted(
            [shown_node_text(graph, overlay, n.name) for n in graph.steps]
            + [line for _, line in legend]
        )
        assert texts == want, where
        id_of = {v["text"]: node_id for node_id, v in parsed.vertices.items()}
        name_of = {id_of[shown_node_text(graph, overlay, n.name)]: n.name for n in graph.steps}
        for e in parsed.edges:
            if e["end"] in diamonds:
                name_of[e["end"]] = name_of[e["start"]]
        got = [
            (name_of[e["start"]], name_of[e["end"]], e["text"])
            for e in parsed.edges
            if e["end"] not in diamonds
        ]
        assert got == [
            (e.source, e.target, shown_edge_text(graph, overlay, e.source, e.target))
            for e in graph.edges
        ], where


@settings(SETTINGS, max_examples=40)
@given(shape=flow_shapes(max_steps=5), data=st.data())
def test_overlay_is_drawn_verbatim_by_dot(
    graphviz: Graphviz, forget_generated: None, shape: FlowShape, data: st.DataObject
) -> None:
    """Graphviz draws every note and edge label of any overlay as given."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    overlay = data.draw(overlays(graph))
    drawn = graphviz.draw(generate_dag(graph, format="dot", overlay=overlay))
    for i, node in enumerate(graph.steps):
        mark = overlay.nodes.get(node.name)
        want = [node.name] + ([mark.note] if mark and mark.note else [])
        assert [t.strip() for t in drawn.nodes[f"n{i}"]] == [spaces(t).strip() for t in want]
    legend = [text for _, text in overlay.legend_lines()]
    extra = [drawn.nodes[f"n{len(graph.steps) + k}"][0] for k in range(len(legend))]
    assert [t.strip() for t in extra] == [spaces(t).strip() for t in legend]


def _flow() -> FlowGraph:
    from penstock import Edge, StepNode

    def node(name: str, kind: str = "step") -> StepNode:
        return StepNode(name, kind, "shop.orders", name, "shop/orders.py", 1)  # type: ignore[arg-type]

    return FlowGraph(
        "checkout",
        (node("receive", "entrypoint"), node("charge"), node("ship"), node("refund")),
        (Edge("receive", "charge"), Edge("charge", "ship"), Edge("charge", "refund")),
        ("receive",),
    )


def test_mermaid_styles_nodes_and_links_by_index(mermaid_oracle: MermaidOracle) -> None:
    """Styled edges get linkStyle at their own index; dashed styles draw dotted lines."""
    overlay = Overlay(
        nodes={"refund": NodeMark("dead", "never called"), "charge": NodeMark("failing")},
        edges={
            ("charge", "refund"): EdgeMark("dead"),
            ("charge", "ship"): EdgeMark(None, "12x", 1),
        },
        descriptions={"dead": "declared, never observed"},
    )
    text = generate_dag(_flow(), format="mermaid", overlay=overlay)
    assert "    linkStyle 2 stroke:#8c959f" in text
    assert re.search(r"^    linkStyle 1 stroke-width:5(\.0)?px$", text, re.M)
    assert "    class refund,n5 ps_dead" in text  # the step and its legend box
    assert "    class charge,n6 ps_failing" in text
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        strokes = {(e["start"], e["end"]): (e["stroke"], e["text"]) for e in parsed.edges}
        assert strokes[("charge", "refund")] == ("dotted", "")
        assert strokes[("charge", "ship")] == ("normal", "12x")
        assert parsed.vertices["n5"]["text"] == "declared, never observed"


def test_no_legend_when_turned_off() -> None:
    """``legend=False`` draws the marks without a legend subgraph."""
    overlay = Overlay(nodes={"charge": NodeMark("added")}, legend=False)
    text = generate_dag(_flow(), format="mermaid", overlay=overlay)
    assert "subgraph" not in text
    assert "class charge ps_added" in text


def test_unknown_style_names_the_mark_and_suggests() -> None:
    """A misspelt style fails with the mark it is on and the closest style."""
    with pytest.raises(RenderError, match=r"'remvoed' on step 'ship'.*did you mean 'removed'"):
        Overlay(nodes={"ship": NodeMark("remvoed")})


def test_mark_on_a_missing_step_or_edge_is_an_error() -> None:
    """Marks must name steps and edges the drawn graph has."""
    with pytest.raises(RenderError, match=r"step 'shp'.*did you mean 'ship'"):
        generate_dag(_flow(), overlay=Overlay(nodes={"shp": NodeMark("added")}))
    with pytest.raises(RenderError, match=r"edge 'ship' -> 'refund'"):
        generate_dag(_flow(), format="dot", overlay=Overlay(edges={("ship", "refund"): EdgeMark()}))


def test_weight_outside_range_is_refused() -> None:
    """Weights are relative (0..1)."""
    with pytest.raises(RenderError, match="outside 0..1"):
        Overlay(edges={("a", "b"): EdgeMark(weight=3)})


def test_css_colors_leave_colours_to_the_page(mermaid_oracle: MermaidOracle) -> None:
    """``colors="css"``: classes, widths and dashes only; styled edges carry their CSS tag."""
    from penstock._render.mermaid import render_mermaid
    from penstock._render.overlay import edge_marker

    overlay = Overlay(
        nodes={"refund": NodeMark("dead"), "charge": NodeMark("failing")},
        edges={("charge", "refund"): EdgeMark("dead"), ("charge", "ship"): EdgeMark(None, "3", 1)},
        legend=False,
    )
    text = render_mermaid(_flow(), overlay=overlay, colors="css")
    assert "#" not in text.replace("#32;", "")  # no colour anywhere
    dead = f"stroke-width:1.5px,stroke-dasharray:5 4,stroke-miterlimit:{edge_marker('dead')}"
    assert f"    linkStyle 2 {dead}" in text
    assert "    classDef ps_failing stroke-width:2.5px" in text
    assert "    class refund ps_dead" in text
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
    with pytest.raises(RenderError, match="unknown colors 'dark'"):
        render_mermaid(_flow(), colors="dark")


def test_graphviz_svg_marks_carry_classes_for_the_page_colours() -> None:
    """In Graphviz's SVG every marked step and line has a class that penstock.css colours
    (light and dark custom properties); the picture's own colours stay for PNG and PDF."""
    from penstock._render.dot import render_dot
    from penstock._render.svg import svg_from_dot
    from penstock.docs import ASSETS
    from tests.support.system import require_executable

    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    graph = _flow()
    overlay = Overlay(
        nodes={"charge": NodeMark(style="added"), "ship": NodeMark(style="removed")},
        edges={("receive", "charge"): EdgeMark(style="observed", label="3")},
        legend=False,
    )
    dot = render_dot(graph, overlay=overlay)
    assert 'class="ps_added"' in dot
    assert f'fillcolor="{STYLES["added"].fill}"' in dot
    svg = svg_from_dot(dot)
    assert re.search(r'<g id="node\d+" class="node ps_added">', svg)
    assert re.search(r'<g id="node\d+" class="node ps_removed">', svg)
    assert re.search(r'<g id="edge\d+" class="edge ps_edge_observed">', svg)
    assert "Legend" not in svg
    css = (ASSETS.folder / ASSETS.diagram_css).read_text(encoding="utf-8")
    for rule in (
        ".penstock-svg .ps_added :is(polygon, path, ellipse)",
        ".penstock-svg .ps_removed text",
        ".penstock-svg .ps_edge_observed path",
    ):
        assert rule in css
    # Sized in CSS px (not points) so the page's script can fit it like a Mermaid drawing.
    assert re.match(r'<svg class="penstock-svg" role="img" width="\d+" height="\d+"', svg)
