"""Markdown and Mermaid diff reports: parsed by the real Mermaid, names verbatim and inert."""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import Edge, FlowGraph, StepNode
from penstock._graph.compare import FlowDiff, compare
from penstock._render.diff import diff_diagram, diff_mermaid
from penstock._render.diff_report import MARKDOWN_MARKER, format_markdown, md_text
from tests.diff.conftest import Repo
from tests.render.conftest import FlowShape
from tests.render.strategies import flow_shapes, names
from tests.support.mermaid import MermaidOracle

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.M | re.S)


def blocks(markdown: str) -> list[str]:
    return [m.group(1) for m in _BLOCK.finditer(markdown)]


def test_markdown_from_a_git_history(repo: Repo, mermaid_oracle: MermaidOracle) -> None:
    """v1 -> v3: a summary line and a diagram per changed flow, all parsed by Mermaid 11/12,
    removed steps kept with dotted edges, added and changed ones marked, a legend."""
    out = repo.penstock("diff", "v1", "v3", "-f", "markdown")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith(MARKDOWN_MARKER + "\n")
    summary = [line for line in text.splitlines() if line.startswith("- **")]
    assert summary == [
        "- **billing** (changed): 1 step moved in from orders, 1 step changed (doc), 1 edge added",
        "- **orders** (changed): 1 step added, 1 step removed, 1 step renamed, 1 step moved "
        "out to billing, 1 step changed (kind), 1 edge added, 2 edges removed, "
        "1 entrypoint gained",
        "- **returns** (added): new flow: 2 steps added, 1 edge added, 1 entrypoint gained",
    ]
    diagrams = blocks(text)
    assert len(diagrams) == 3
    orders = diagrams[1]
    for parsed in mermaid_oracle.parse_one(orders):
        assert parsed.ok, f"{parsed.error}\n{orders}"
        texts = {v["text"]: node_id for node_id, v in parsed.vertices.items()}
        # The new flow, plus the removed step kept; notes under changed and moved steps.
        assert {
            "receive",
            "check" + "renamed from validate; now an entrypoint",
            "notify",
            "legacy_fax",
            "reserve" + "moved to flow billing",
        } == set(texts)
        by_name = {t.split("renamed")[0].split("moved")[0]: i for t, i in texts.items()}
        strokes = {(e["start"], e["end"]): e["stroke"] for e in parsed.edges}
        assert strokes == {
            (by_name["receive"], by_name["check"]): "normal",
            (by_name["check"], by_name["notify"]): "normal",
            (by_name["reserve"], by_name["legacy_fax"]): "dotted",
            (by_name["check"], by_name["reserve"]): "dotted",
        }
    assert "class legacy_fax,reserve ps_removed" in orders
    assert "class notify ps_added" in orders
    # The legend is a line of text below each diagram, never boxes beside the flow.
    assert "Legend" not in orders
    after_orders = text.split(orders, 1)[1].split("####", 1)[0]
    assert after_orders.split("\n\n")[1] == (
        "**Legend:** rounded ends: entrypoint\\: a run of the flow starts here · "
        "🟩 green, thick outline: added · 🟥 red, dashed: removed · "
        "🟨 amber: changed \\(see note\\)"
    )
    for diagram in (diagrams[0], diagrams[2]):
        for parsed in mermaid_oracle.parse_one(diagram):
            assert parsed.ok, f"{parsed.error}\n{diagram}"
    # The same revisions give the same bytes (a bot edits its comment in place).
    again = repo.penstock("diff", "v1", "v3", "-f", "markdown")
    assert again.stdout == text


def test_no_changes_markdown(repo: Repo) -> None:
    """With nothing changed, the comment says so (and has no diagram)."""
    out = repo.penstock("diff", "v1", "v1", "-f", "markdown")
    assert out.returncode == 0, out.stderr
    assert "No flow changes between v1" in out.stdout
    assert blocks(out.stdout) == []


def test_mermaid_format_needs_one_flow(repo: Repo, mermaid_oracle: MermaidOracle) -> None:
    """-f mermaid draws one flow; with several changed, it asks for --flow."""
    many = repo.penstock("diff", "v2", "v3", "-f", "mermaid")
    assert many.returncode == 2
    assert "pick one with --flow NAME" in many.stderr
    one = repo.penstock("diff", "v2", "v3", "-f", "mermaid", "--flow", "billing", "-d", "lr")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("graph LR\n")
    for parsed in mermaid_oracle.parse_one(one.stdout):
        assert parsed.ok, parsed.error


def _graph(flow: str, shape: FlowShape) -> FlowGraph:
    # Step i is function m.f{i} in every version: equal indexes are the same function, so two
    # shapes give renames, additions, removals, and transport and description changes.
    steps = tuple(
        StepNode(
            name,
            "entrypoint" if i in shape.entrypoints else "step",
            "m",
            f"f{i}",
            "m.py",
            i + 1,
            doc=shape.docs.get(i),
            transport=shape.transports.get(i),
        )
        for i, name in enumerate(shape.names)
    )
    return FlowGraph(
        name=flow,
        steps=steps,
        edges=tuple(Edge(shape.names[a], shape.names[b]) for a, b in shape.edges),
        entrypoints=tuple(s.name for s in steps if s.kind == "entrypoint"),
    )


def check_diagram(oracle: MermaidOracle, d: FlowDiff) -> str:
    """The diff diagram of ``d`` parses in Mermaid 11/12 into exactly its steps (name + note),
    legend lines and edges."""
    graph, overlay = diff_diagram(d)
    text = diff_mermaid(d)
    assert "```" not in text
    notes = {name: mark.note or "" for name, mark in overlay.nodes.items()}
    want = sorted(
        [n.name + notes.get(n.name, "") for n in graph.steps]
        + [line for _, line in overlay.legend_lines()]
    )
    for parsed in oracle.parse_one(text):
        where = f"Mermaid {parsed.version} on:\n{text}"
        assert parsed.ok, f"{where}\n{parsed.error}"
        assert sorted(v["text"] for v in parsed.vertices.values()) == want, where
        assert len(parsed.edges) == len(graph.edges), where
    return text


@SETTINGS
@given(old=flow_shapes(max_steps=5), new=flow_shapes(max_steps=5), flow=names)
def test_hostile_names_stay_verbatim_in_diff_diagrams(
    mermaid_oracle: MermaidOracle, old: FlowShape, new: FlowShape, flow: str
) -> None:
    """Two versions of a flow with any names, docs and transports: the diff diagram parses in
    Mermaid 11/12 with every step (kept, added, removed, renamed) shown verbatim with its note,
    and the legend; the Markdown report embeds exactly that diagram."""
    a, b = _graph(flow, old), _graph(flow, new)
    d = compare({flow: a}, {flow: b}).flows[flow]
    check_diagram(mermaid_oracle, d)
    markdown = format_markdown(compare({flow: a}, {flow: b}, old_label=flow, new_label="new"))
    assert blocks(markdown) == ([diff_mermaid(d, legend=False)] if d.changed else [])
    assert_inert(md_text(flow), flow)


@settings(SETTINGS, max_examples=40)
@given(
    old=flow_shapes(max_steps=4),
    new=flow_shapes(max_steps=4),
    flows=st.lists(names, min_size=2, max_size=2, unique=True),
)
def test_hostile_flow_names_in_move_notes(
    mermaid_oracle: MermaidOracle, old: FlowShape, new: FlowShape, flows: list[str]
) -> None:
    """Steps moved between two flows with any names: "moved from/to flow ..." notes show the
    other flow's name verbatim and inert."""
    first, second = flows
    diff = compare({first: _graph(first, old)}, {second: _graph(second, new)})
    assert diff.flows[first].moved_out
    assert diff.flows[second].moved_in
    for d in diff.flows.values():
        check_diagram(mermaid_oracle, d)


def assert_inert(escaped: str, original: str) -> None:
    """Every ASCII punctuation character is backslash-escaped (CommonMark shows it as text),
    and undoing the escapes gives back the original (line breaks excepted)."""
    out = []
    chars = iter(escaped)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            assert nxt in string.punctuation, escaped
            out.append(nxt)
        else:
            assert ch not in string.punctuation, escaped
            out.append(ch)
    visible = "".join(
        ch if ch.isprintable() and (ch == " " or not ch.isspace()) else f"\\u{ord(ch):04x}"
        for ch in original
    )
    assert "".join(out) == visible


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(names, st.text()))
def test_markdown_escaping_is_inert_and_reversible(text: str) -> None:
    """A flow name or revision label in the Markdown never becomes markup or HTML."""
    escaped = md_text(text)
    assert "\n" not in escaped
    assert "\r" not in escaped
    assert_inert(escaped, text)
