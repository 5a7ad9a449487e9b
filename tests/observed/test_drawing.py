"""Recorded runs drawn over the declared flow, read back by the real Mermaid and Graphviz."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from penstock import (
    Edge,
    FlowGraph,
    Overlay,
    RenderError,
    StepNode,
    generate_dag,
    observe,
    replay_run,
)
from penstock._render.observed import drift_messages
from tests.observed import shop
from tests.render.strategies import names
from tests.support.graphviz import Graphviz, graphviz, spaces
from tests.support.mermaid import MermaidOracle, mermaid_oracle

__all__ = ["graphviz", "mermaid_oracle"]


def test_counts_dead_paths_and_drift_in_mermaid(
    json_log: Path, mermaid_oracle: MermaidOracle
) -> None:
    """Counts label observed edges, dead edges are dashed, drift is an extra edge, boxes
    show calls/error rate/p95, never-called steps are greyed, and a legend explains it."""
    observed = observe(shop.FLOW, [json_log])
    text = generate_dag(shop.FLOW, observed=observed)
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        edges = {(e["start"], e["end"]): e for e in parsed.edges}
        assert edges[("checkout", "validate")]["text"] == "9\u00d7"
        assert edges[("charge", "refund")]["stroke"] == "dotted"
        assert edges[("charge", "refund")]["text"] == ""
        assert edges[("validate", "ship")]["text"] == "1\u00d7"
        assert edges[("checkout", "validate")]["stroke"] == "normal"
        assert "8 calls · 25% errors · p95" in parsed.text_of("charge")
        assert "never called" in parsed.text_of("refund")
        legend = [v["text"] for k, v in parsed.vertices.items() if k.startswith("n")]
        assert "declared, never observed" in legend
        assert "observed, not declared" in legend
    # Widths grow with the count; the dead edge is dashed grey.
    assert "linkStyle 0 stroke:#0969da,stroke-width:5.0px" in text
    assert "linkStyle 4 stroke:#8c959f,stroke-width:1.5px,stroke-dasharray:5 4" in text
    assert "class refund,n8 ps_dead" in text or "refund" in text.split("ps_dead")[-1]


def test_dot_draws_the_same_marks(json_log: Path, graphviz: Graphviz) -> None:
    """Graphviz shows the counts and the notes too."""
    observed = observe(shop.FLOW, [json_log])
    drawn = graphviz.draw(generate_dag(shop.FLOW, format="dot", observed=observed))
    labels = {tuple(v) for v in drawn.edges.values()}
    assert ("9\u00d7",) in labels
    assert ("1\u00d7",) in labels
    assert any("never called" in " ".join(v) for v in drawn.nodes.values())


def test_replayed_run_marks_its_path(json_log: Path, mermaid_oracle: MermaidOracle) -> None:
    """One run: its calls numbered on the path, the failing step marked, the rest dead."""
    run = next(
        json.loads(line)["correlation_id"]
        for line in json_log.read_text().splitlines()
        if '"status": "error"' in line
    )
    text = generate_dag(shop.FLOW, observed=replay_run(shop.FLOW, [json_log], run))
    for parsed in mermaid_oracle.parse_one(text):
        assert parsed.ok, parsed.error
        edges = {(e["start"], e["end"]): e for e in parsed.edges}
        assert edges[("validate", "charge")]["text"] == "#3"
        assert edges[("charge", "ship")]["stroke"] == "dotted"
        assert "failed here" in parsed.text_of("charge")
    assert "class charge,n9 ps_failing" in text


def test_json_format_carries_the_observed_counts(json_log: Path) -> None:
    """format="json" keeps the graph's layout and adds the counts under "observed"."""
    observed = observe(shop.FLOW, [json_log])
    data = json.loads(generate_dag(shop.FLOW, format="json", observed=observed))
    assert data["flow"] == "shop"
    assert data["observed"] == observed.as_dict()


def test_overlay_and_observed_together_are_refused(json_log: Path) -> None:
    """One set of marks per drawing."""
    observed = observe(shop.FLOW, [json_log])
    with pytest.raises(RenderError, match="either overlay= or observed="):
        generate_dag(shop.FLOW, observed=observed, overlay=Overlay())


def test_drift_message_names_both_functions(json_log: Path) -> None:
    """The build warning for an undeclared transition names both file:lines and the record."""
    observed = observe(shop.FLOW, [json_log])
    graph = __import__("penstock").get_flow(shop.FLOW)
    [message] = drift_messages(graph, observed)
    assert f"'validate' ({graph.step('validate').location})" in message
    assert f"'ship' ({graph.step('ship').location})" in message
    assert "it declares after=['charge']" in message
    assert f"first seen at {json_log}:" in message


def _graph() -> FlowGraph:
    def node(name: str, kind: str = "step") -> StepNode:
        return StepNode(name, kind, "app", name, "app.py", 1)  # type: ignore[arg-type]

    return FlowGraph(
        "hostile",
        (node("start", "entrypoint"), node("work")),
        (Edge("start", "work"),),
        ("start",),
    )


def _line(step: str, parent: str | None, run: str = "a" * 32) -> str:
    record = {
        "flow": "hostile",
        "step": step,
        "correlation_id": run,
        "parent_step": parent,
        "predecessor": parent,
        "duration_ms": 1.5,
        "status": "ok",
    }
    return json.dumps(record)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names.filter(lambda n: n not in {"start", "work"}))
def test_step_names_read_from_files_are_escaped(
    mermaid_oracle: MermaidOracle, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    """A hostile step name in a record becomes an undeclared step drawn verbatim, in the
    counts and in one run's replay."""
    path = tmp_path_factory.mktemp("hostile") / "runs.log"
    path.write_text("\n".join([_line("start", None), _line(name, "start")]) + "\n")
    graph = _graph()
    observed = observe(graph, [path])
    assert observed.edge("start", name) is not None
    one_run = replay_run(graph, [path], "a" * 32)
    for text in (generate_dag(graph, observed=observed), generate_dag(graph, observed=one_run)):
        for parsed in mermaid_oracle.parse_one(text):
            assert parsed.ok, f"{parsed.error}\n{text}"
            shown = [v["text"] for v in parsed.vertices.values()]
            assert any(spaces(t).startswith(name) or t.startswith(name) for t in shown), shown
