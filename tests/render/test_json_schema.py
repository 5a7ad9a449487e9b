"""The JSON format follows its shipped schema (``penstock/schema/flow-v2.schema.json``)."""

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


def _schema(version: int) -> Any:
    path = files("penstock").joinpath(f"schema/flow-v{version}.schema.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = _schema(2)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("version", [1, 2])
def test_schema_is_shipped_in_the_package(version: int) -> None:
    """Both layouts' schema files sit inside the penstock package and name their version."""
    schema = _schema(version)
    assert schema["properties"]["schema"]["const"] == "penstock.flow"
    assert schema["properties"]["version"]["const"] == version


def test_version_1_documents_still_read() -> None:
    """A version 1 document (edges without when) validates against v1 and reads back."""
    v1 = Draft202012Validator(_schema(1))
    data = json.loads(generate_dag("bom_sync", format="json"))
    data["version"] = 1
    for edge in data["edges"]:
        del edge["when"]
    v1.validate(data)
    assert FlowGraph.from_dict(data) == get_flow("bom_sync")


def test_conditions_round_trip(validator: Draft202012Validator) -> None:
    """Edge conditions are written as "when" and read back; null for plain edges."""
    from penstock import Edge, StepNode

    steps = tuple(
        StepNode(name=n, kind="step", module="m", qualname=n, file="m.py", line=i)
        for i, n in enumerate(["pay", "ok", "no"])
    )
    graph = FlowGraph(
        name="f",
        steps=steps,
        edges=(Edge("pay", "ok", 'paid "in full"'), Edge("pay", "no")),
        entrypoints=(),
    )
    data = json.loads(generate_dag(graph, format="json"))
    validator.validate(data)
    assert [e["when"] for e in data["edges"]] == ['paid "in full"', None]
    assert FlowGraph.from_dict(data) == graph


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
        ({"version": 1}, "version"),
        ({"edges": [{"source": "a", "target": "b", "when": ""}]}, "edges"),
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
    """FlowGraph.from_dict names the version it got when it is neither 1 nor 2."""
    data = {**json.loads(generate_dag("bom_sync", format="json")), "version": 3}
    with pytest.raises(GraphError, match="version=3"):
        FlowGraph.from_dict(data)
