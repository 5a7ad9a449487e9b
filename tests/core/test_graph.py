"""The public flow graph: the design notes' example, determinism, conversions."""

from __future__ import annotations

import json

import networkx as nx
import pytest

import penstock
from penstock import FlowGraph, GraphError
from tests.core.conftest import ModuleMaker

DESIGN_NOTES_EDGES = [
    ("handle_kafka_message", "sync_reference"),
    ("sync_reference", "upsert_to_db"),
    ("upsert_to_db", "publish_change_events"),
    ("publish_change_events", "update_ebom"),
    ("publish_change_events", "enqueue_changelog"),
]


def test_example_gives_exactly_the_design_notes_edges() -> None:
    """The bom_sync example, split over two modules, has exactly the edges drawn in the notes."""
    g = penstock.get_flow("bom_sync")
    assert [(e.source, e.target) for e in g.edges] == DESIGN_NOTES_EDGES
    assert g.entrypoints == ("handle_kafka_message",)
    node = g.step("sync_reference")
    assert node.module == "bom_sync.sync"
    assert node.file.endswith("sync.py")
    assert node.line > 0
    assert node.doc == "Fetch the part's reference data from the PLM API."


def test_example_mermaid_matches_the_design_notes() -> None:
    """Each edge line of the design notes' Mermaid block appears, in order."""
    text = penstock.generate_dag("bom_sync", format="mermaid")
    edge_lines = [line.strip() for line in text.splitlines() if "-->" in line]
    assert edge_lines == [f"{a} --> {b}" for a, b in DESIGN_NOTES_EDGES]
    assert text.startswith("graph TD\n")


A = """
from penstock import entrypoint, flow, step

@flow("det")
@entrypoint
def start(): ...

@flow("det")
@step(after="start")
def left(): ...
"""
B = """
from penstock import flow, step

@flow("det")
@step(after="start")
def right(): ...

@flow("det")
@step(after=["left", "right"])
def join(): ...
"""


@pytest.mark.parametrize("order", [("deta", "detb"), ("detb", "deta")])
def test_output_is_independent_of_import_order(
    make_module: ModuleMaker, order: tuple[str, str]
) -> None:
    """Importing the declaring modules in either order gives byte-identical output."""
    sources = {"deta": A, "detb": B}
    for name in order:
        make_module(name, sources[name])
    expected = (
        "graph TD\n"
        '    start(["start"])\n'
        "    start --> left\n"
        "    start --> right\n"
        "    left --> join\n"
        "    right --> join\n"
    )
    assert penstock.generate_dag("det") == expected


def test_as_dict_round_trips_and_is_json() -> None:
    """as_dict() is JSON-serialisable and from_dict() rebuilds an equal graph."""
    g = penstock.get_flow("bom_sync")
    data = json.loads(json.dumps(g.as_dict()))
    assert data["schema"] == "penstock.flow"
    assert data["version"] == 2
    assert FlowGraph.from_dict(data) == g


def test_from_dict_rejects_other_documents() -> None:
    """A document of another schema or version is refused with both named."""
    with pytest.raises(GraphError, match="version=3"):
        FlowGraph.from_dict({"schema": "penstock.flow", "version": 3})


def test_to_networkx_carries_attributes() -> None:
    """to_networkx() gives a DiGraph with the same edges and step fields as attributes."""
    dg = penstock.get_flow("bom_sync").to_networkx()
    assert isinstance(dg, nx.DiGraph)
    assert sorted(dg.edges) == sorted(
        [
            ("handle_kafka_message", "sync_reference"),
            ("sync_reference", "upsert_to_db"),
            ("upsert_to_db", "publish_change_events"),
            ("publish_change_events", "update_ebom"),
            ("publish_change_events", "enqueue_changelog"),
        ]
    )
    assert dg.nodes["handle_kafka_message"]["kind"] == "entrypoint"
    assert nx.is_directed_acyclic_graph(dg)


def test_paths_lists_every_path_to_a_final_step() -> None:
    """paths() walks from each entrypoint to each step without successors."""
    assert penstock.get_flow("bom_sync").paths() == [
        (
            "handle_kafka_message",
            "sync_reference",
            "upsert_to_db",
            "publish_change_events",
            "update_ebom",
        ),
        (
            "handle_kafka_message",
            "sync_reference",
            "upsert_to_db",
            "publish_change_events",
            "enqueue_changelog",
        ),
    ]
    assert len(penstock.get_flow("bom_sync").paths(limit=1)) == 1


def test_unknown_step_and_flow_suggest_names() -> None:
    """Asking for a misspelt step or flow gets a did-you-mean."""
    with pytest.raises(GraphError, match="did you mean 'sync_reference'"):
        penstock.get_flow("bom_sync").step("sync_referense")
    with pytest.raises(penstock.FlowNotFoundError, match="did you mean 'bom_sync'") as info:
        penstock.get_flow("bom_synk")
    assert "bom_sync" in info.value.known


def test_flows_lists_every_flow() -> None:
    """flows() maps names to graphs."""
    assert "bom_sync" in penstock.flows()
    assert penstock.flows()["bom_sync"] == penstock.get_flow("bom_sync")
