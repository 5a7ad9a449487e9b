"""The legend of shapes: drawn when a diagram uses more than plain boxes and arrows."""

from __future__ import annotations

from penstock import Edge, FlowGraph, FlowLink, NodeMark, Overlay, StepNode, generate_dag
from penstock._render.legend import legend_html, with_legend
from penstock._render.stubs import mermaid_with_stubs
from tests.support.graphviz import Graphviz
from tests.support.mermaid import MermaidOracle


def _graph(*, entry: bool = True, remote: bool = True, when: bool = True) -> FlowGraph:
    def node(name: str, kind: str = "step", transport: str | None = None) -> StepNode:
        return StepNode(name, kind, "m", name, "m.py", 1, None, transport)  # type: ignore[arg-type]

    steps = (
        node("start", "entrypoint" if entry else "step"),
        node("pay"),
        node("refund", transport="celery" if remote else None),
        node("ship"),
    )
    cond = ("declined", "approved") if when else (None, None)
    edges = (
        Edge("start", "pay"),
        Edge("pay", "refund", cond[0]),
        Edge("pay", "ship", cond[1]),
    )
    return FlowGraph("f", steps, edges, ("start",) if entry else ())


LINKS = (FlowLink("f", "ship", "shipping", "go"),)


def test_every_shape_used_gets_a_key(mermaid_oracle: MermaidOracle) -> None:
    """Entrypoint, remote step, decision point and stub each get a key of the same shape."""
    graph = _graph()
    text = mermaid_with_stubs(graph, links=LINKS, legend=True, flow_url=lambda f: f"#{f}")
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, f"{parsed.error}\n{text}"
        shapes = {v["text"]: v["shape"] for v in parsed.vertices.values()}
        assert shapes["entrypoint: a run of the flow starts here"] == "stadium"
        assert shapes["only one of the labelled arrows leaving it is taken"] == "diamond"
        assert shapes["another flow this one hands work to or receives work from"] == "odd"
        assert [k for k, v in shapes.items() if v == "subroutine"] == [
            "refund",
            "runs in another process; the dotted arrow into it is labelled with the way",
        ]
        # The stub still has its own id, link and edge after the legend's ids.
        stub = next(i for i, v in parsed.vertices.items() if v["text"] == "shipping")
        assert parsed.vertices[stub]["link"] == "#shipping"
        assert any(e["end"] == stub for e in parsed.edges)
    assert '    subgraph n5["Legend"]' in text


def test_only_used_shapes_and_none_for_plain_boxes() -> None:
    """Keys follow what is drawn; a diagram of plain boxes and arrows has no legend."""
    plain = _graph(entry=False, remote=False, when=False)
    assert with_legend(plain, None, stubs=False) is None
    assert "Legend" not in generate_dag(plain, legend=True)
    only_entry = with_legend(_graph(remote=False, when=False), None, stubs=False)
    assert only_entry is not None
    assert [k.shape for k in only_entry.keys] == ["stadium"]


def test_legend_off_and_merged_with_an_overlay() -> None:
    """An overlay with legend=False keeps it off; otherwise keys join the overlay's legend."""
    graph = _graph()
    off = Overlay(legend=False)
    assert with_legend(graph, off, stubs=True) is off
    assert "Legend" not in generate_dag(graph, overlay=off, legend=True)
    assert "Legend" not in generate_dag(graph)
    notes = Overlay(notes=("edge labels: runs",))
    merged = with_legend(graph, notes, stubs=False)
    assert merged is not None
    assert merged.notes == ("edge labels: runs",)
    assert len(merged.keys) == 3


def test_dot_draws_the_keys(graphviz: Graphviz) -> None:
    """dot draws each key in the legend cluster with its text."""
    text = generate_dag(_graph(), format="dot", legend=True)
    drawn = graphviz.draw(text)
    keys = {n: lines for n, lines in drawn.nodes.items() if n.startswith("k")}
    assert [keys[f"k{i}"][0] for i in range(3)] == [
        "entrypoint: a run of the flow starts here",
        "runs in another process; the dotted arrow into it is labelled with the way",
        "only one of the labelled arrows leaving it is taken",
    ]
    assert "k0 [label=" in text
    assert 'style="rounded,bold"' in text.split("k0 [", 1)[1].split("\n", 1)[0]


def test_an_entrypoint_reached_by_a_message_is_not_a_remote_key() -> None:
    """The "subroutine" key is only for steps drawn with that shape (not a stadium entry)."""

    def node(name: str, kind: str, transport: str | None = None) -> StepNode:
        return StepNode(name, kind, "m", name, "m.py", 1, None, transport)  # type: ignore[arg-type]

    graph = FlowGraph(
        "f",
        (node("consume", "entrypoint", "kafka"), node("store", "step")),
        (Edge("consume", "store"),),
        ("consume",),
    )
    overlay = with_legend(graph, None, stubs=False)
    assert overlay is not None
    assert [k.shape for k in overlay.keys] == ["stadium"]


def test_html_legend_lists_keys_styles_and_notes_escaped() -> None:
    """Below the diagram: one line per key, style and note, text escaped, swatch classed."""
    overlay = Overlay(
        nodes={"pay": NodeMark("added")},
        notes=("edge labels: <times> observed",),
        keys=(with_legend(_graph(), None, stubs=False) or Overlay()).keys,
    )
    html = legend_html(overlay)
    assert html.startswith('<div class="penstock-legend"')
    assert html.count("<li") == 3 + 1 + 1
    assert 'class="penstock-key penstock-key-box ps_added"' in html
    assert "edge labels: &lt;times&gt; observed" in html
    assert legend_html(None) == ""
    assert legend_html(Overlay(nodes={"pay": NodeMark("added")}, legend=False)) == ""
