"""Links between flows (shared entrypoints, Kafka topics, FlowStep), stubs, and the map."""

from __future__ import annotations

import json

import pytest

import penstock
from penstock import DefinitionError, FlowLink, FlowStep
from penstock.cli import main
from tests.core.conftest import ModuleMaker

SHOP = """
from penstock import FlowStep, entrypoint, flow, step
from penstock.contrib.kafka import message_entrypoint, produces

@flow("orders")
@entrypoint
def receive(): ...

@flow("orders")
@produces("order-events")
@step(after=receive)
def publish(): ...

@flow("orders")
@flow("invoicing", after=[])
@entrypoint
@step(after="publish")
def bill(): ...

@flow("invoicing")
@step(after=bill)
def send_invoice(): ...

@flow("shipping")
@message_entrypoint(topic="order-events")
def on_order(msg): ...

@flow("audit", after=FlowStep("shipping", "on_order"))
@entrypoint
def log_it(): ...
"""


def test_three_ways_to_link_flows(make_module: ModuleMaker) -> None:
    """A shared entrypoint, a Kafka topic and a FlowStep each give one link, sorted."""
    make_module("links_shop", SHOP)
    assert penstock.flow_links() == (
        FlowLink("orders", "bill", "invoicing", "bill"),
        FlowLink("orders", "publish", "shipping", "on_order", "kafka", "order-events"),
        FlowLink("shipping", "on_order", "audit", "log_it"),
    )
    assert penstock.check() == []


def test_flow_step_is_not_an_edge_inside_the_flow(make_module: ModuleMaker) -> None:
    """after=FlowStep(...) adds no edge and no unknown-after problem to either flow."""
    make_module("links_shop", SHOP)
    assert penstock.get_flow("audit").edges == ()
    assert penstock.get_flow("shipping").edges == ()


def test_celery_flow_task_entrypoint_of_another_flow(make_module: ModuleMaker) -> None:
    """A flow_task after a step of one flow and entrypoint of another links them via celery."""
    pytest.importorskip("celery")
    make_module(
        "links_celery",
        """
        from penstock import entrypoint, flow, step
        from penstock.contrib.celery import flow_task

        @flow("sync")
        @entrypoint
        def start(): ...

        @flow("sync")
        @flow("changelog", after=[])
        @entrypoint
        @flow_task(after="start")
        def write_logs(): ...

        @flow("changelog")
        @step(after=write_logs)
        def index_logs(): ...
        """,
    )
    assert penstock.flow_links() == (
        FlowLink("sync", "write_logs", "changelog", "write_logs", "celery"),
    )
    text = penstock.generate_dag("changelog", links=True)
    assert '    n2>"sync"]\n    n2 -. "celery" .-> write_logs\n' in text


def test_stubs_in_mermaid_with_links(make_module: ModuleMaker) -> None:
    """Each other flow is one flag-shaped stub, joined by a dotted edge, linked by flow_url."""
    make_module("links_shop", SHOP)
    text = penstock.generate_dag("orders", links=True, flow_url=lambda f: f"flows/#{f}")
    assert text.splitlines()[5:] == [
        '    n3>"invoicing"]',
        "    bill -.-> n3",
        '    n4>"shipping"]',
        '    publish -. "kafka: order-events" .-> n4',
        '    click n3 href "flows/#invoicing" "flow invoicing"',
        '    click n4 href "flows/#shipping" "flow shipping"',
    ]
    assert "n3" not in penstock.generate_dag("orders")


def test_stubs_in_dot_and_json(make_module: ModuleMaker) -> None:
    """DOT gets dashed cds stubs with URLs; JSON a links list."""
    make_module("links_shop", SHOP)
    dot = penstock.generate_dag("shipping", format="dot", links=True, flow_url=lambda f: f"#{f}")
    assert '    s0 [label="audit", shape=cds, style=dashed, class="ps_stub", URL="#audit"' in dot
    stub_edge = '    s1 -> n0 [style=dotted, class="ps_edge_stub", label="kafka: order-events"];\n'
    assert stub_edge in dot
    data = json.loads(penstock.generate_dag("audit", format="json", links=True))
    assert data["links"] == [FlowLink("shipping", "on_order", "audit", "log_it").as_dict()]
    from importlib.resources import files

    from jsonschema import Draft202012Validator

    schema = json.loads(files("penstock").joinpath("schema/flow-v2.schema.json").read_text())
    Draft202012Validator(schema).validate(data)


def test_unknown_flow_step_is_a_problem_with_a_suggestion(make_module: ModuleMaker) -> None:
    """FlowStep naming a missing flow or step is an unknown-after problem with did-you-mean."""
    make_module(
        "links_bad",
        """
        from penstock import FlowStep, entrypoint, flow

        @flow("a")
        @entrypoint
        def first(): ...

        @flow("b", after=FlowStep("a", "frist"))
        @entrypoint
        def second(): ...

        @flow("c", after=FlowStep("aa", "first"))
        @entrypoint
        def third(): ...
        """,
    )
    problems = [str(p) for p in penstock.check() if p.kind == "unknown-after"]
    assert len(problems) == 2
    assert "flow 'a' has no step 'frist'; did you mean 'first'?" in problems[0]
    assert "no flow 'aa' is declared; did you mean 'a'?" in problems[1]
    assert problems[0].split(": [")[0].endswith("links_bad.py:8")


def test_flow_step_needs_names() -> None:
    """FlowStep refuses empty names at once."""
    with pytest.raises(DefinitionError, match="the step must be a non-empty string"):
        FlowStep("a", "")


def test_map_cli(make_module: ModuleMaker, capsys: pytest.CaptureFixture[str]) -> None:
    """`penstock map` draws every flow once and each link with its transport; --prefix filters."""
    make_module("links_shop", SHOP)
    make_module(
        "links_other",
        """
        from penstock import entrypoint, flow

        @flow("elsewhere")
        @entrypoint
        def alone(): ...
        """,
    )
    assert (
        main(
            [
                "-m",
                "links_shop",
                "-m",
                "links_other",
                "map",
                "--prefix",
                "links_shop",
                "--prefix",
                "links_other",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "graph LR",
        '    n0["audit"]',
        '    n1["elsewhere"]',
        '    n2["invoicing"]',
        '    n3["orders"]',
        '    n4["shipping"]',
        "    n3 -.-> n2",
        '    n3 -. "kafka: order-events" .-> n4',
        "    n4 -.-> n0",
    ]
    assert main(["-m", "links_shop", "map", "--prefix", "links_other", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "penstock.map"
    assert [f["name"] for f in data["flows"]] == ["elsewhere"]
    assert data["edges"] == []
    assert main(["-m", "links_shop", "map", "-f", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "penstock map" {')


def test_map_json_follows_its_shipped_schema(make_module: ModuleMaker) -> None:
    """`penstock map -f json` validates against penstock/schema/map-v1.schema.json."""
    from importlib.resources import files

    from jsonschema import Draft202012Validator

    from penstock._render.map import flow_map, render_map

    make_module("links_shop", SHOP)
    schema = json.loads(files("penstock").joinpath("schema/map-v1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    data = json.loads(render_map(flow_map("links_shop"), "json"))
    Draft202012Validator(schema).validate(data)
    assert [e["labels"] for e in data["edges"]] == [[], ["kafka: order-events"], []]


def test_declare_channels_links_any_integration(make_module: ModuleMaker) -> None:
    """A third-party integration links flows through declare_channels and declare_step."""
    make_module(
        "links_rabbit",
        """
        from penstock import declare_channels, declare_step, entrypoint, flow, step

        @flow("sender")
        @entrypoint
        def start(): ...

        def publishes(queue):
            return lambda fn: declare_channels(
                fn, decorator="@publishes", sends=[("rabbitmq", queue)]
            )

        @flow("sender")
        @publishes("jobs")
        @step(after=start)
        def send(): ...

        def job(fn):
            return declare_step(
                fn, decorator="@job", kind="entrypoint", transport="rabbitmq",
                receives=(("rabbitmq", "jobs"),),
            )

        @flow("worker")
        @job
        def run_job(): ...
        """,
    )
    assert FlowLink("sender", "send", "worker", "run_job", "rabbitmq", "jobs") in (
        penstock.flow_links()
    )
    with pytest.raises(DefinitionError, match="a channel is a \\(transport, name\\) pair"):
        penstock.declare_channels(lambda: None, decorator="@x", sends=[("kafka", "")])
