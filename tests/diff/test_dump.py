"""`penstock dump`: one deterministic document, valid against its shipped schema."""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from penstock import DiffError, flows
from penstock._graph.compare import compare
from penstock._graph.dump import dump_document, dump_text, read_dump
from penstock._graph.model import FlowGraph
from penstock._versions.revisions import worker_dump
from penstock.cli import main
from tests.render.conftest import FlowShape, declare_flow
from tests.render.strategies import flow_shapes
from tests.support.system import ROOT

EXAMPLE = ["--path", str(ROOT / "examples"), "-m", "bom_sync.consumer", "-m", "bom_sync.sync"]


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        files("penstock").joinpath(f"schema/{name}").read_text(encoding="utf-8")
    )
    return data


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schemas = [_schema(f"{name}.schema.json") for name in ("flow-v1", "flow-v2", "flows-v1")]
    dump_schema = schemas[-1]
    Draft202012Validator.check_schema(dump_schema)
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas
    )
    return Draft202012Validator(dump_schema, registry=registry)


def test_dump_command_validates_and_is_stable(
    validator: Draft202012Validator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`penstock dump` to stdout and to -o FILE: the same bytes, schema-valid, flows sorted."""
    assert main([*EXAMPLE, "dump"]) == 0
    printed = capsys.readouterr().out
    target = tmp_path / "flows.json"
    assert main([*EXAMPLE, "dump", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == printed
    data = json.loads(printed)
    validator.validate(data)
    assert data["schema"] == "penstock.flows"
    names = [f["flow"] for f in data["flows"]]
    assert names == sorted(names)
    assert "bom_sync" in names
    # Files under the folder the dump runs in are written relative to it.
    assert all(not Path(s["file"]).is_absolute() for f in data["flows"] for s in f["steps"])


def test_dump_with_nothing_to_import_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No -m, no [tool.penstock] and nothing registered: an error naming both ways out."""
    monkeypatch.setattr("penstock._graph.model.flows", dict)
    answer = worker_dump([], [], tmp_path, tmp_path)
    assert answer["ok"] is False
    assert "-m MODULE" in answer["error"]
    assert "[tool.penstock]" in answer["error"]


def test_tool_penstock_configuration_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without -m, `penstock dump` imports the modules listed under [tool.penstock]."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "dumped_app.py").write_text(
        "from penstock import entrypoint, flow\n\n\n"
        "@flow('dumped')\n@entrypoint\ndef start():\n    pass\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.penstock]\nmodules = ["dumped_app"]\npaths = ["src"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the paths entry is added to it
    try:
        assert main(["dump"]) == 0
    finally:
        sys.modules.pop("dumped_app", None)
    data = json.loads(capsys.readouterr().out)
    dumped = next(f for f in data["flows"] if f["flow"] == "dumped")
    assert dumped["steps"][0]["file"] == "src/dumped_app.py"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=flow_shapes())
def test_hostile_names_round_trip_through_a_dump(
    validator: Draft202012Validator, forget_generated: None, shape: FlowShape
) -> None:
    """Any declared flow dumps to valid JSON that reads back equal, names verbatim."""
    declare_flow(shape)
    text = dump_text(dump_document(flows().values()))
    validator.validate(json.loads(text))
    back = read_dump(text, "dump.json")
    assert [s.name for s in back[shape.flow].steps] == [s.name for s in flows()[shape.flow]]
    assert back[shape.flow].edges == flows()[shape.flow].edges
    assert not compare(back, read_dump(text, "again")).changed


def test_a_single_flow_document_reads_as_a_dump(tmp_path: Path) -> None:
    """`penstock dag FLOW -f json` output is accepted where a dump is, as a one-flow dump."""
    from penstock import generate_dag

    back = read_dump(generate_dag("bom_sync", format="json"), "bom_sync.json")
    assert list(back) == ["bom_sync"]
    with pytest.raises(DiffError, match=r"bad\.json: version: expected 1 or 2"):
        read_dump('{"schema": "penstock.flow", "version": 99}', "bad.json")


def test_reading_a_dump_pauses_the_collector_and_puts_it_back() -> None:
    """The cyclic collector is off while a dump is built, and as it was afterwards: on, or off
    if the application turned it off, and on again when the dump is refused."""
    import gc

    from penstock import generate_dag

    seen: list[bool] = []
    original = FlowGraph.from_dict

    def spy(data: dict[str, Any]) -> FlowGraph:
        seen.append(gc.isenabled())
        return original(data)

    text = generate_dag("bom_sync", format="json")
    was = gc.isenabled()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(FlowGraph, "from_dict", staticmethod(spy))
            gc.enable()
            assert list(read_dump(text, "a.json")) == ["bom_sync"]
            assert gc.isenabled()
            with pytest.raises(DiffError):
                read_dump('{"schema": "penstock.flow", "version": 99}', "bad.json")
            assert gc.isenabled()
            gc.disable()
            read_dump(text, "b.json")
            assert not gc.isenabled()
        assert seen == [False, False]
    finally:
        (gc.enable if was else gc.disable)()
