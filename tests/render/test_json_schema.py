"""The JSON format follows its shipped schema (``penstock/schema/flow-v1.schema.json``)."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from penstock import FlowGraph, GraphError, generate_dag, get_flow
from tests.render.conftest import FlowShape, declare_flow
from tests.render.strategies import flow_shapes


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(
        files("penstock").joinpath("schema/flow-v1.schema.json").read_text(encoding="utf-8")
    )
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_is_shipped_in_the_package() -> None:
    """The schema file sits inside the penstock package and names layout version 1."""
    schema = json.loads(files("penstock").joinpath("schema/flow-v1.schema.json").read_text())
    assert schema["properties"]["schema"]["const"] == "penstock.flow"
    assert schema["properties"]["version"]["const"] == 1


def test_example_validates_and_round_trips(validator: Draft202012Validator) -> None:
    """The example flow's JSON is valid and reads back into an equal graph."""
    text = generate_dag("bom_sync", format="json")
    data = json.loads(text)
    validator.validate(data)
    assert FlowGraph.from_dict(data) == get_flow("bom_sync")
    assert generate_dag(FlowGraph.from_dict(data), format="json") == text


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=flow_shapes())
def test_generated_flows_validate_and_round_trip(
    validator: Draft202012Validator, forget_generated: None, shape: FlowShape
) -> None:
    """Any declared flow gives schema-valid JSON that reads back into the same graph."""
    declare_flow(shape)
    graph = get_flow(shape.flow)
    data = json.loads(generate_dag(shape.flow, format="json"))
    validator.validate(data)
    assert data["flow"] == shape.flow
    assert [s["name"] for s in data["steps"]] == [n.name for n in graph.steps]
    back = FlowGraph.from_dict(data)
    assert back == graph
    assert generate_dag(back, format="mermaid") == generate_dag(graph, format="mermaid")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"version": 2}, "version"),
        ({"schema": "other"}, "schema"),
        ({"steps": [{"name": "a", "kind": "task"}]}, "steps"),
        ({"edges": [{"source": "a"}]}, "edges"),
        ({"extra": True}, ""),
    ],
)
def test_schema_rejects_other_documents(
    validator: Draft202012Validator, change: dict[str, Any], path: str
) -> None:
    """Wrong versions, kinds, missing fields and unknown keys fail validation where they are."""
    data = {**json.loads(generate_dag("bom_sync", format="json")), **change}
    errors = list(validator.iter_errors(data))
    assert errors
    assert any((e.absolute_path[0] if e.absolute_path else "") == path for e in errors)


def test_reader_refuses_another_version() -> None:
    """FlowGraph.from_dict names the version it got when it is not 1."""
    data = {**json.loads(generate_dag("bom_sync", format="json")), "version": 2}
    with pytest.raises(GraphError, match="version=2"):
        FlowGraph.from_dict(data)
