"""Branch conditions: ``when=`` on steps and per flow, in the graph, the CLI and the checks."""

from __future__ import annotations

import re

import pytest

import penstock
from penstock import DefinitionError, entrypoint, flow, step
from penstock.cli import main
from tests.core.conftest import ModuleMaker

PAYMENT = """
from penstock import entrypoint, flow, step

@flow("payment")
@entrypoint
def checkout(): ...

@flow("payment")
@step(after=checkout)
def charge_payment(): ...

@flow("payment")
@step(after="charge_payment", when="declined")
def notify_declined(): ...

@flow("payment")
@step(after="charge_payment", when="approved")
def ship(): ...

@flow("payment")
@step(after="charge_payment")
def audit(): ...

@flow("payment")
@step(after=["ship", "notify_declined"])
def close(): ...
"""


def test_when_labels_the_edges_from_after(make_module: ModuleMaker) -> None:
    """Each edge into a step with when= carries the condition; others carry None."""
    make_module("cond_payment", PAYMENT)
    g = penstock.get_flow("payment")
    assert [(e.source, e.target, e.when) for e in g.edges] == [
        ("checkout", "charge_payment", None),
        ("charge_payment", "notify_declined", "declined"),
        ("charge_payment", "ship", "approved"),
        ("charge_payment", "audit", None),
        ("notify_declined", "close", None),
        ("ship", "close", None),
    ]
    assert g.condition("charge_payment", "ship") == "approved"
    assert g.to_networkx().edges["charge_payment", "ship"]["when"] == "approved"


def test_per_flow_when_overrides_the_steps_own(make_module: ModuleMaker) -> None:
    """@flow(name, after=..., when=...) sets the condition in that flow only."""
    make_module(
        "cond_per_flow",
        """
        from penstock import entrypoint, flow, step

        @flow("a")
        @flow("b")
        @entrypoint
        def start(): ...

        @flow("a")
        @flow("b", after="start", when="retry")
        @step(after="start", when="first try")
        def work(): ...
        """,
    )
    assert [e.when for e in penstock.get_flow("a").edges] == ["first try"]
    assert [e.when for e in penstock.get_flow("b").edges] == ["retry"]


def test_mermaid_draws_alternatives_from_a_decision_point(make_module: ModuleMaker) -> None:
    """Conditional edges leave a small diamond after their source; fan-out edges stay direct."""
    make_module("cond_payment", PAYMENT)
    text = penstock.generate_dag("payment")
    assert text.splitlines()[3:8] == [
        '    charge_payment --- n6{"#32;"}',
        '    n6 -->|"declined"| notify_declined',
        '    n6 -->|"approved"| ship',
        "    charge_payment --> audit",
        "    notify_declined --> close",
    ]


def test_dot_draws_alternatives_from_a_decision_point(make_module: ModuleMaker) -> None:
    """DOT has one empty diamond per branching step, labelled edges leaving it."""
    make_module("cond_payment", PAYMENT)
    text = penstock.generate_dag("payment", format="dot")
    assert '    d0 [shape=diamond, label="", width=0.3, height=0.3, fixedsize=true];\n' in text
    assert "    n1 -> d0 [arrowhead=none];\n" in text
    assert '    d0 -> n2 [label="declined"];\n' in text
    assert "    n1 -> n4;\n" in text


def test_paths_show_the_conditions(
    make_module: ModuleMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    """`penstock paths` writes each conditional hop as -[condition]->."""
    make_module("cond_payment", PAYMENT)
    assert main(["-m", "cond_payment", "paths", "payment"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "checkout -> charge_payment -[declined]-> notify_declined -> close",
        "checkout -> charge_payment -[approved]-> ship -> close",
        "checkout -> charge_payment -> audit",
    ]


def test_when_without_after_is_a_definition_error() -> None:
    """@step(when=...) with no after= fails at decoration, naming the file:line."""
    with pytest.raises(DefinitionError) as info:
        step(when="declined")
    assert re.match(
        rf"{re.escape(__file__)}:\d+: @step\(when='declined'\) needs after=", str(info.value)
    )


def test_flow_when_without_after_is_a_definition_error() -> None:
    """@flow(name, when=...) needs after= in the same @flow."""
    pattern = r"test_conditions\.py:\d+: @flow\('x'\)\(when='c'\) needs after="
    with pytest.raises(DefinitionError, match=pattern):
        flow("x", when="c")


@pytest.mark.parametrize("bad", ["", "  ", "two\nlines", 3])
def test_bad_conditions_are_refused(bad: object) -> None:
    """A condition must be printable one-line text."""
    with pytest.raises(DefinitionError, match=r"test_conditions\.py:\d+: "):
        step(after="a", when=bad)  # type: ignore[arg-type]


def test_entrypoint_accepts_when() -> None:
    """An entrypoint that also runs after a step can carry a condition too."""

    @flow("reentry")
    @entrypoint
    def first() -> None: ...

    @flow("reentry")
    @entrypoint(after=first, when="again")
    def second() -> None: ...

    assert [e.when for e in penstock.get_flow("reentry").edges] == ["again"]


def test_conditions_survive_json(make_module: ModuleMaker) -> None:
    """The JSON document keeps each condition and reads back into an equal graph."""
    import json

    make_module("cond_payment", PAYMENT)
    data = json.loads(penstock.generate_dag("payment", format="json"))
    assert data["version"] == 2
    assert penstock.FlowGraph.from_dict(data) == penstock.get_flow("payment")


def test_overlay_link_styles_count_the_decision_links(make_module: ModuleMaker) -> None:
    """linkStyle numbers follow the links as written, decision-point joins included."""
    make_module("cond_payment", PAYMENT)
    g = penstock.get_flow("payment")
    overlay = penstock.Overlay(edges={("charge_payment", "audit"): penstock.EdgeMark("highlight")})
    text = penstock.generate_dag(g, overlay=overlay)
    links = [line for line in text.splitlines() if " --" in line or " -." in line or "--- " in line]
    audit = next(i for i, line in enumerate(links) if line.endswith("--> audit"))
    assert audit == 4  # checkout->charge, charge---n6, n6->declined, n6->ship, charge->audit
    assert f"    linkStyle {audit} " in text
