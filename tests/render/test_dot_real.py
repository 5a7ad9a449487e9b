"""DOT output checked by the real Graphviz: ``dot -Tsvg`` accepts it and draws every name."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import Edge, FlowGraph, StepNode, generate_dag, get_flow
from tests.render.conftest import FlowShape, declare_flow
from tests.render.strategies import flow_shapes
from tests.support.graphviz import Graphviz, spaces

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def check_drawn(graphviz: Graphviz, graph: FlowGraph, text: str, *, show_docs: bool) -> None:
    """``dot`` draws one node per step with its exact name (and summary), and every edge.

    Conditional edges (``when=``) leave from one empty diamond per source step, joined to it.
    """
    drawn = graphviz.draw(text)
    where = f"dot on:\n{text}"
    decisions = [n for n, lines in drawn.nodes.items() if n.startswith("d")]
    deciding = list(dict.fromkeys(e.source for e in graph.edges if e.when is not None))
    assert len(decisions) == len(deciding), where
    assert all(drawn.nodes[d] == [] for d in decisions), where
    assert len(drawn.nodes) == len(graph.steps) + len(decisions), where
    by_name = {}
    for node_id, lines in drawn.nodes.items():
        if node_id in decisions:
            continue
        by_name[lines[0]] = node_id
        node = next(n for n in graph.steps if spaces(n.name) == lines[0])
        want = [spaces(node.name)]
        if show_docs and node.doc:
            want.append(spaces(node.doc))
        assert lines == want, where
    assert sorted(by_name) == sorted(spaces(n.name) for n in graph.steps), where
    point = {}
    for (a, b), label in drawn.edges.items():
        if b in decisions:
            assert label == [], where
            point[a] = b
    assert sorted(point) == sorted(by_name[spaces(s)] for s in deciding), where
    want_edges: dict[tuple[str, str], list[str]] = {(a, d): [] for a, d in point.items()}
    for e in graph.edges:
        source = by_name[spaces(e.source)]
        if e.when is not None:
            source = point[source]
        via = graph.step(e.target).transport
        text = " · ".join(t for t in (e.when, via) if t)
        want_edges[(source, by_name[spaces(e.target)])] = [spaces(text)] if text else []
    assert drawn.edges == want_edges, where


@SETTINGS
@given(shape=flow_shapes())
def test_generated_names_are_drawn_verbatim(
    graphviz: Graphviz, forget_generated: None, shape: FlowShape
) -> None:
    """Any step names give DOT that dot accepts, drawing each name exactly once as given."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    check_drawn(graphviz, graph, generate_dag(shape.flow, format="dot"), show_docs=False)


@settings(SETTINGS, max_examples=100)
@given(shape=flow_shapes(max_steps=5), direction=st.sampled_from(["LR", "bt", "RL", "td"]))
def test_generated_docs_and_direction_are_drawn_verbatim(
    graphviz: Graphviz, forget_generated: None, shape: FlowShape, direction: str
) -> None:
    """Summaries drawn under names, in every direction, keep their text exactly."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    text = generate_dag(graph, format="dot", direction=direction, show_docs=True)
    rankdir = {"TD": "TB"}.get(direction.upper(), direction.upper())
    assert f"    rankdir={rankdir};\n" in text
    check_drawn(graphviz, graph, text, show_docs=True)


def test_control_characters_cannot_break_the_graph(graphviz: Graphviz) -> None:
    """Names from a JSON file may hold line breaks and NULs; dot still gets one node per step."""
    names = ['a"\n}\ndigraph x {', "b\\\r\\l\x00", "c\t&lt;"]
    steps = tuple(
        StepNode(name=n, kind="step", module="m", qualname=f"f{i}", file="m.py", line=i)
        for i, n in enumerate(names)
    )
    graph = FlowGraph(
        name='f"}',
        steps=steps,
        edges=(Edge(names[0], names[1]), Edge(names[1], names[2])),
        entrypoints=(),
    )
    drawn = graphviz.draw(generate_dag(graph, format="dot"))
    assert len(drawn.nodes) == 3
    assert len(drawn.edges) == 2
    assert drawn.nodes["n2"] == ["c &lt;"]
    assert drawn.nodes["n0"] == ['a"', "}", "digraph x {"]


def test_control_characters_in_conditions_stay_labels(graphviz: Graphviz) -> None:
    """Conditions read from a JSON file may hold line breaks and quotes: still one label each."""
    steps = tuple(
        StepNode(name=n, kind="step", module="m", qualname=n, file="m.py", line=i)
        for i, n in enumerate(["a", "b", "c"])
    )
    graph = FlowGraph(
        name="f",
        steps=steps,
        edges=(Edge("a", "b", 'x"];\n}\ndigraph y {'), Edge("a", "c", "&amp; \\N")),
        entrypoints=(),
    )
    drawn = graphviz.draw(generate_dag(graph, format="dot"))
    assert len(drawn.nodes) == 4
    assert drawn.edges[("d0", "n1")] == ['x"];', "}", "digraph y {"]
    assert drawn.edges[("d0", "n2")] == ["&amp; \\N"]
