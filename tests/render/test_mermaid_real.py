"""Mermaid output checked by the real Mermaid 11 and 12 (``tools/mermaid-check.mjs``)."""

from __future__ import annotations

import itertools
import json
import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import Edge, FlowGraph, StepNode, generate_dag, get_flow
from tests.render.conftest import FlowShape, declare_flow
from tests.render.strategies import TRICKY, flow_shapes
from tests.support.mermaid import SCRIPT, MermaidOracle
from tests.support.system import TOOLS

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

_NODE_LINE = re.compile(r'    (\S+)(\(\[|\[\[|\[)"(.*)"(\]\)|\]\]|\])\Z')
_CODE = re.compile(r"#([0-9]+);")


def decode(label: str) -> str:
    """Undo the renderer's ``#NN;`` codes (what Mermaid does before the browser shows text)."""
    return _CODE.sub(lambda m: chr(int(m.group(1))), label)


def declared_labels(text: str) -> dict[str, tuple[str, ...]]:
    """Node id -> decoded label parts (name, then summary), for nodes declared on their own lines.

    The renderer's own ``<br/><small>`` markup cannot occur in an encoded name: ``<`` is coded.
    """
    out = {}
    for line in text.splitlines():
        m = _NODE_LINE.match(line)
        if m:
            raw = m.group(3)
            if raw.endswith("</small>"):
                raw = raw[: -len("</small>")]
            out[m.group(1)] = tuple(decode(part) for part in raw.split("<br/><small>"))
    return out


def shown(node: StepNode, show_docs: bool) -> str:
    """The text a reader sees in the node: its name, and its summary when docs are shown."""
    return node.name + (node.doc or "") if show_docs else node.name


def expected_edges(graph: FlowGraph) -> list[tuple[str, str, str, str, str]]:
    """(start, end, type, stroke, text) per drawn edge; a decision point is ``"?" + source``.

    Conditional edges leave from one decision diamond per source, joined to the source by an
    open link drawn just before the first of them; the text is the condition, the transport,
    or ``"condition · transport"``.
    """
    out = []
    joined: set[str] = set()
    for e in graph.edges:
        start = e.source
        if e.when is not None:
            if e.source not in joined:
                joined.add(e.source)
                out.append((e.source, "?" + e.source, "arrow_open", "normal", ""))
            start = "?" + e.source
        via = graph.step(e.target).transport
        text = " · ".join(t for t in (e.when, via) if t is not None and t != "")
        out.append((start, e.target, "arrow_point", "dotted" if via else "normal", text))
    return out


def check_against_mermaid(
    oracle: MermaidOracle, graph: FlowGraph, text: str, *, show_docs: bool, linked: bool
) -> None:
    """Mermaid 11 and 12 parse ``text`` into exactly ``graph``'s nodes, labels and edges."""
    deciding = {e.source for e in graph.edges if e.when is not None}
    for parsed in oracle.parse_one(text):
        where = f"Mermaid {parsed.version} on:\n{text}"
        assert parsed.ok, f"{where}\n{parsed.error}"
        diamonds = {i for i, v in parsed.vertices.items() if v["shape"] == "diamond"}
        assert all(parsed.vertices[i]["text"] == " " for i in diamonds), where
        steps = {i: v for i, v in parsed.vertices.items() if i not in diamonds}
        by_text = {v["text"]: node_id for node_id, v in steps.items()}
        expected = {shown(n, show_docs): n for n in graph.steps}
        # No name adds, merges or loses a node: the labels are exactly the names.
        assert sorted(by_text) == sorted(expected), where
        assert len(steps) == len(graph.steps), where
        assert len(diamonds) == len(deciding), where
        name_of = {node_id: expected[t].name for t, node_id in by_text.items()}
        # Each diamond is reached from exactly one step: name it after that step.
        for e in parsed.edges:
            if e["end"] in diamonds:
                name_of[e["end"]] = "?" + name_of[e["start"]]
        got_edges = [
            (name_of[e["start"]], name_of[e["end"]], e["type"], e["stroke"], e["text"])
            for e in parsed.edges
        ]
        assert got_edges == expected_edges(graph), where
        for node_id, v in steps.items():
            node = graph.step(name_of[node_id])
            if node.kind == "entrypoint":
                assert v["shape"] == "stadium", where
            elif node.transport:
                assert v["shape"] == "subroutine", where
        if linked:
            tips = {name_of[i]: t for i, t in parsed.tooltips.items()}
            assert tips == {n.name: f"{n.module}.{n.qualname}" for n in graph.steps}, where
            assert all(v["link"] for v in steps.values()), where
        else:
            assert parsed.tooltips == {}, where
            assert all(v["link"] is None for v in parsed.vertices.values()), where


def check_own_labels(graph: FlowGraph, text: str, *, show_docs: bool) -> None:
    """Every label the renderer wrote decodes back to the step's name (and summary)."""
    labels = declared_labels(text)
    for node in graph.steps:
        want = (node.name, node.doc) if show_docs and node.doc else (node.name,)
        matches = [i for i, parts in labels.items() if parts == want]
        if matches:
            assert len(matches) == 1, text
        else:
            # Not declared on its own line: a plain name used as its own id in an edge.
            assert node.name in [w for line in text.splitlines() for w in line.split()], text


@SETTINGS
@given(shape=flow_shapes())
def test_generated_names_parse_and_show_verbatim(
    mermaid_oracle: MermaidOracle, forget_generated: None, shape: FlowShape
) -> None:
    """Any step names give Mermaid that 11 and 12 parse into the same nodes, labels, edges."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    text = generate_dag(shape.flow, format="mermaid")
    check_own_labels(graph, text, show_docs=False)
    check_against_mermaid(mermaid_oracle, graph, text, show_docs=False, linked=False)


@settings(SETTINGS, max_examples=100)
@given(shape=flow_shapes(max_steps=5))
def test_generated_names_with_docs_links_and_direction(
    mermaid_oracle: MermaidOracle, forget_generated: None, shape: FlowShape
) -> None:
    """Docstring summaries, click links with tooltips and LR keep every name verbatim."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    text = generate_dag(
        graph,
        format="mermaid",
        direction="LR",
        show_docs=True,
        link=lambda node: f"api/{node.name}.html#{node.qualname}",
    )
    assert text.startswith("graph LR\n")
    check_own_labels(graph, text, show_docs=True)
    check_against_mermaid(mermaid_oracle, graph, text, show_docs=True, linked=True)


def _graph(names: list[str], *, transport: str | None = None) -> FlowGraph:
    steps = tuple(
        StepNode(
            name=n,
            kind="entrypoint" if i == 0 else "step",
            module="app",
            qualname=f"f{i}",
            file="app.py",
            line=i + 1,
            transport=transport if i == len(names) - 1 else None,
        )
        for i, n in enumerate(names)
    )
    edges = tuple(Edge(a, b) for a, b in itertools.pairwise(names))
    return FlowGraph(name="f", steps=steps, edges=edges, entrypoints=(names[0],))


INJECTIONS = [
    '"]\nclick A call alert()',
    'A"] --> B["x',
    "%%{init: {'securityLevel': 'loose'}}%%",
    "%% comment",
    "end\nstyle A fill:#f00",
    "x\r\nclassDef evil fill:red",
    "<img src=x onerror=alert(1)>",
    "]) --> evil([",
    "a\u2028click A href 'javascript:alert(1)'",
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_no_name_injects_statements(mermaid_oracle: MermaidOracle, name: str) -> None:
    """A name made of Mermaid statements or markup stays one label: no click, style or node."""
    graph = _graph(["start", name, "done"], transport="celery")
    text = generate_dag(graph)
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        assert len(parsed.vertices) == 3
        assert len(parsed.edges) == 2
        assert parsed.tooltips == {}
        assert all(v["link"] is None for v in parsed.vertices.values())
        texts = sorted(v["text"] for v in parsed.vertices.values())
        # Line breaks cannot be drawn in a one-line label: they show as spaces.
        assert texts == sorted(["start", re.sub(r"[\r\n]", " ", name), "done"])
    assert "click" not in [line.split()[0] for line in text.splitlines()]
    assert not any(
        line.lstrip().startswith(("%%", "style", "classDef")) for line in text.splitlines()
    )


@pytest.mark.parametrize("syntax", ["-. {label} .->", "-.->|{label}|"])
def test_transport_edge_is_dotted_and_labelled(mermaid_oracle: MermaidOracle, syntax: str) -> None:
    """Both Mermaid versions read the transport edge as a dotted arrow with the transport name."""
    text = "graph TD\n    a " + syntax.format(label='"celery"') + " b\n"
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        assert [(e["stroke"], e["type"], e["text"]) for e in parsed.edges] == [
            ("dotted", "arrow_point", "celery")
        ]
    rendered = generate_dag(_graph(["start", "remote"], transport="celery"))
    assert '    start -. "celery" .-> remote\n' in rendered


def test_javascript_links_are_dropped(mermaid_oracle: MermaidOracle) -> None:
    """A link function returning a script URL makes no click; http(s) and relative ones do."""
    urls = {"start": "javascript:alert(1)", "mid": "https://example.com/a b", "done": "rel/x"}
    graph = _graph(list(urls))
    text = generate_dag(graph, link=lambda node: urls[node.name])
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        assert parsed.vertices["start"]["link"] is None
        assert parsed.vertices["mid"]["link"].startswith("https://example.com/a")
        assert parsed.vertices["done"]["link"]


@pytest.mark.parametrize("major", ["11", "12"])
def test_checker_one_shot_mode(mermaid_oracle: MermaidOracle, major: str) -> None:
    """tools/mermaid-check.mjs reads a JSON array on stdin and answers per diagram, per version."""
    diagrams = ["graph TD\n    a --> b\n", "graph TD\n    end --> b\n"]
    proc = subprocess.run(
        ["node", str(SCRIPT), "--mermaid", major],
        input=json.dumps(diagrams),
        capture_output=True,
        text=True,
        cwd=TOOLS,
        check=True,
        timeout=120,
    )
    good, bad = json.loads(proc.stdout)
    assert good["ok"]
    assert good["version"].startswith(major + ".")
    assert good["edges"][0]["start"] == "a"
    assert not bad["ok"]
    assert "got 'end'" in bad["error"]


LOOKALIKES = str.maketrans({"&": "\uff06", "<": "\uff1c", ">": "\uff1e"})


@settings(max_examples=100, deadline=None)
@given(title=st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(TRICKY)))
def test_titles_show_verbatim(mermaid_oracle: MermaidOracle, title: str) -> None:
    """Any title parses, draws as given (``& < >`` as look-alikes) and never changes the graph."""
    text = generate_dag(_graph(["start", "done"]), title=title)
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, f"Mermaid {parsed.version}: {parsed.error}\n{text}"
        assert parsed.title == title.translate(LOOKALIKES), text
        assert sorted(parsed.vertices) == ["done", "start"]
        assert len(parsed.edges) == 1


def test_click_lines_survive_the_colour_fix_up(mermaid_oracle: MermaidOracle) -> None:
    """A link with `style` and `#` and a tooltip with coded text keep every character."""
    node = StepNode(
        name="styled", kind="entrypoint", module="m", qualname="f.<locals>.g", file="m.py", line=1
    )
    graph = FlowGraph(name="f", steps=(node,), edges=(), entrypoints=("styled",))
    text = generate_dag(graph, link=lambda n: "https://example.com/style:x/#classDef")
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        ((node_id, vertex),) = parsed.vertices.items()
        assert parsed.tooltips == {node_id: "m.f.<locals>.g"}
        assert vertex["text"] == "styled"
        # Written with %73 and %63 for the fix-up's sake; Mermaid reads the same URL.
        assert vertex["link"] == "https://example.com/style:x/#classDef"
    assert "%73tyle" in text


@pytest.mark.parametrize("condition", INJECTIONS)
def test_no_condition_injects_statements(mermaid_oracle: MermaidOracle, condition: str) -> None:
    """A condition made of Mermaid statements or markup stays one edge label, shown verbatim."""
    base = _graph(["start", "yes", "no"])
    graph = FlowGraph(
        name="f",
        steps=base.steps,
        edges=(Edge("start", "yes", condition), Edge("start", "no", "other")),
        entrypoints=("start",),
    )
    text = generate_dag(graph)
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        assert len(parsed.vertices) == 4  # three steps and the decision point
        assert parsed.tooltips == {}
        assert all(v["link"] is None for v in parsed.vertices.values())
        labels = [e["text"] for e in parsed.edges]
        assert labels == ["", re.sub(r"[\r\n]", " ", condition), "other"]
    assert not any(
        line.lstrip().startswith(("%%", "style", "classDef", "click")) for line in text.splitlines()
    )
