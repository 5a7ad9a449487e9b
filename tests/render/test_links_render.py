"""Stubs of other flows and the map of flows: any flow name, transport or topic stays text.

Checked by the real Mermaid 11 and 12 and the real ``dot``, like step names.
"""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import Edge, FlowGraph, FlowLink, StepNode, generate_dag
from penstock._render.dot import render_dot
from penstock._render.map import FlowMap, MapEdge, MapFlow, render_map
from penstock._render.stubs import mermaid_stubs
from tests.render.strategies import names
from tests.support.graphviz import Graphviz, spaces
from tests.support.mermaid import MermaidOracle

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_STEPS = ("start", "end", "n0")


def _graph() -> FlowGraph:
    steps = tuple(
        StepNode(name=n, kind="entrypoint" if i == 0 else "step", module="m", qualname=f"f{i}",
                 file="m.py", line=i)
        for i, n in enumerate(_STEPS)
    )  # fmt: skip
    return FlowGraph("here", steps, (Edge("start", "end"), Edge("end", "n0")), ("start",))


@st.composite
def link_sets(draw: st.DrawFn) -> list[FlowLink]:
    others = draw(
        st.lists(names.filter(lambda n: n != "here"), min_size=1, max_size=3, unique=True)
    )
    links = []
    for other in others:
        step = draw(st.sampled_from(_STEPS))
        transport = draw(st.one_of(st.none(), names))
        channel = draw(st.one_of(st.none(), names))
        if draw(st.booleans()):
            links.append(FlowLink("here", step, other, "x", transport, channel))
        else:
            links.append(FlowLink(other, "x", "here", step, transport, channel))
    return links


@SETTINGS
@given(links=link_sets())
def test_stubs_parse_and_show_flow_names_verbatim(
    mermaid_oracle: MermaidOracle, links: list[FlowLink]
) -> None:
    """One stub per other flow and direction, its name as text, its link label as text."""
    graph = _graph()
    text = generate_dag(graph) + "".join(
        f"{line}\n" for line in mermaid_stubs(graph, links, lambda f: f"flows/#{quote(f, safe='')}")
    )
    groups = {
        (
            "out" if lk.source_flow == "here" else "in",
            lk.target_flow if lk.source_flow == "here" else lk.source_flow,
        )
        for lk in links
    }
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, f"{parsed.error}\n{text}"
        stubs = {i: v for i, v in parsed.vertices.items() if v["shape"] == "odd"}
        assert sorted(v["text"] for v in stubs.values()) == sorted(o for _, o in groups), text
        assert {parsed.tooltips[i] for i in stubs} == {f"flow {o}" for _, o in groups}, text
        assert all(v["link"] for v in stubs.values()), text
        labels = sorted(e["text"] for e in parsed.edges if {e["start"], e["end"]} & set(stubs))
        want = sorted({(lk, lk.label or "") for lk in links}, key=str)
        assert labels == sorted(label for _, label in want), text
        steps = {v["text"] for i, v in parsed.vertices.items() if i not in stubs}
        assert steps == set(_STEPS), text


@SETTINGS
@given(links=link_sets())
def test_stubs_are_drawn_verbatim_by_dot(graphviz: Graphviz, links: list[FlowLink]) -> None:
    """dot draws each stub with the flow name and each link label as given."""
    graph = _graph()
    text = render_dot(graph, links=links)
    drawn = graphviz.draw(text)
    stub_names = sorted(
        lines[0] if lines else "" for i, lines in drawn.nodes.items() if i[0] == "s"
    )
    others = {
        ("out", lk.target_flow) if lk.source_flow == "here" else ("in", lk.source_flow)
        for lk in links
    }
    assert stub_names == sorted(spaces(o) for _, o in others), text
    stub_labels = sorted(
        lines[0] if lines else "" for (a, b), lines in drawn.edges.items() if "s" in a[0] + b[0]
    )
    assert stub_labels == sorted(spaces(lk.label or "") for lk in set(links)), text


@st.composite
def maps(draw: st.DrawFn) -> FlowMap:
    flow_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    flows = tuple(MapFlow(n, (), 1, ("m",)) for n in flow_names)
    pairs = [(a, b) for a in flow_names for b in flow_names if a != b]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=4)) if pairs else []
    edges = tuple(
        MapEdge(a, b, tuple(draw(st.lists(names, max_size=2, unique=True)))) for a, b in chosen
    )
    return FlowMap(flows, edges)


@SETTINGS
@given(flow_map=maps())
def test_map_shows_every_flow_and_label_verbatim(
    mermaid_oracle: MermaidOracle, graphviz: Graphviz, flow_map: FlowMap
) -> None:
    """The map has one box per flow (its name as text, a link) and one labelled edge per link."""
    text = render_map(flow_map, flow_url=lambda f: f"f.html#{quote(f, safe='')}")
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, f"{parsed.error}\n{text}"
        assert sorted(v["text"] for v in parsed.vertices.values()) == sorted(
            f.name for f in flow_map.flows
        )
        assert all(v["link"] for v in parsed.vertices.values())
        assert [e["text"] for e in parsed.edges] == [e.label or "" for e in flow_map.edges]
    drawn = graphviz.draw(render_map(flow_map, "dot"))
    assert sorted(lines[0] for lines in drawn.nodes.values()) == sorted(
        spaces(f.name) for f in flow_map.flows
    )
    assert sorted((lines or [""])[0] for lines in drawn.edges.values()) == sorted(
        spaces(e.label or "") for e in flow_map.edges
    )


@settings(max_examples=200, deadline=None)
@given(flow=names)
def test_flow_anchors_are_url_and_id_safe(flow: str) -> None:
    """Any flow name gives an anchor of lower-case letters, digits and dashes, unique by name."""
    import re

    from penstock.docs import flow_anchor

    anchor = flow_anchor(flow)
    assert re.fullmatch(r"penstock-flow-[a-z0-9-]*[0-9a-f]{8}", anchor), anchor
    assert flow_anchor(flow + " ") != anchor
