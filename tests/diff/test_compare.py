"""Comparing two versions of a set of flows, on graphs built directly."""

from __future__ import annotations

import pytest

from penstock import Edge, FlowGraph, StepNode
from penstock._graph.compare import compare


def node(name: str, fn: str | None = None, **extra: object) -> StepNode:
    module, _, qualname = (fn or f"app.{name}").rpartition(".")
    fields: dict[str, object] = {
        "kind": "step",
        "module": module,
        "qualname": qualname,
        "file": f"{module.replace('.', '/')}.py",
        "line": 1,
    }
    fields.update(extra)
    return StepNode(name=name, **fields)  # type: ignore[arg-type]


def graph(name: str, steps: list[StepNode], edges: list[tuple[str, str]] = ()) -> FlowGraph:  # type: ignore[assignment]
    return FlowGraph(
        name=name,
        steps=tuple(steps),
        edges=tuple(Edge(a, b) for a, b in edges),
        entrypoints=tuple(s.name for s in steps if s.kind == "entrypoint"),
    )


def test_identical_flows_are_unchanged_whatever_the_lines_and_files() -> None:
    """File and line are not compared: a step that moved in its file is no change."""
    old = graph("f", [node("a", line=3), node("b", line=9)], [("a", "b")])
    new = graph("f", [node("a", line=30, file="elsewhere.py"), node("b", line=1)], [("a", "b")])
    diff = compare({"f": old}, {"f": new})
    assert not diff.changed
    assert diff.flows["f"].status == "unchanged"


def test_transport_description_and_kind_changes() -> None:
    """Transport, description and kind changes are step changes; kind moves entrypoints."""
    old = graph("f", [node("a", kind="entrypoint"), node("b"), node("c", transport="celery")])
    new = graph(
        "f",
        [node("a"), node("b", kind="entrypoint", doc="Now documented."), node("c")],
    )
    d = compare({"f": old}, {"f": new}).flows["f"]
    assert d.status == "changed"
    assert {c.name: c.as_dict() for c in d.steps_changed} == {
        "a": {"kind": ["entrypoint", "step"]},
        "b": {"kind": ["step", "entrypoint"], "doc": [None, "Now documented."]},
        "c": {"transport": ["celery", None]},
    }
    assert d.entrypoints_gained == ("b",)
    assert d.entrypoints_lost == ("a",)


def test_rename_is_matched_by_function_before_name() -> None:
    """A function renamed to another step's old name is a rename, and the other is new."""
    old = graph("f", [node("a", "m.fa"), node("b", "m.fb")], [("a", "b")])
    # fa is now called "b"; fb is gone; a new function of another module takes the name "a".
    new = graph("f", [node("a", "other.new"), node("b", "m.fa")], [("b", "a")])
    d = compare({"f": old}, {"f": new}).flows["f"]
    assert d.renamed == (("a", "b"),)
    assert d.steps_added == ("a",)
    assert d.steps_removed == ("b",)
    assert d.edges_removed == (("a", "b"),)
    assert d.edges_added == (("b", "a"),)


def test_same_name_new_function_is_a_change_of_function() -> None:
    """A step whose name stayed but whose function moved module is changed, not replaced."""
    old = graph("f", [node("a", "old_mod.a")])
    new = graph("f", [node("a", "new_mod.a")])
    d = compare({"f": old}, {"f": new}).flows["f"]
    assert [c.as_dict() for c in d.steps_changed] == [{"function": ["old_mod.a", "new_mod.a"]}]
    assert d.steps_added == d.steps_removed == ()


def test_move_between_flows_and_a_shared_step() -> None:
    """A function leaving one flow for another is moved; joining a second flow is not."""
    old = {
        "x": graph("x", [node("s", "m.s"), node("t", "m.t")]),
        "y": graph("y", [node("u", "m.u")]),
    }
    new = {
        "x": graph("x", [node("t", "m.t")]),
        "y": graph("y", [node("u", "m.u"), node("s2", "m.s"), node("t", "m.t")]),
    }
    diff = compare(old, new)
    assert diff.flows["x"].moved_out == (("s", "y"),)
    assert diff.flows["y"].moved_in == (("s2", "x"),)
    assert diff.flows["y"].steps_added == ("s2", "t")
    assert diff.flows["x"].steps_removed == ("s",)


def test_json_layout_names_sorted() -> None:
    """The JSON layout has the keys the issue asks for, names sorted."""
    old = {"b": graph("b", [node("z"), node("y")], [("z", "y")])}
    new = {"a": graph("a", [node("q")]), "b": graph("b", [node("z")])}
    data = compare(old, new, old_label="o", new_label="n").as_dict()
    assert list(data["flows"]) == ["a", "b"]
    assert data["old"] == "o"
    assert data["new"] == "n"
    assert data["flows"]["a"]["status"] == "added"
    assert data["flows"]["b"]["steps"]["removed"] == ["y"]
    assert data["flows"]["b"]["edges"] == {"added": [], "removed": [["z", "y"]], "conditions": []}


def test_text_format_keeps_terminal_control_characters_inert() -> None:
    """A flow name from a dump file cannot recolour or move the terminal's cursor."""
    from penstock._render.diff_report import format_text

    hostile = "evil\x1b[31m\r\x07"
    text = format_text(compare({}, {hostile: graph(hostile, [node("a")])}))
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\x07" not in text
    assert " evil\\u001b[31m\\u000d\\u0007 | added" in text


def test_markdown_leaves_out_diagrams_over_mermaids_limits() -> None:
    """A flow over Mermaid's 500 edges gets a sentence instead of a diagram Mermaid refuses."""
    from penstock._render.diff_report import format_markdown

    steps = [node(f"s{i}") for i in range(40)]
    edges = [(f"s{i}", f"s{j}") for i in range(40) for j in range(i + 1, 40)][:600]
    text = format_markdown(compare({}, {"big": graph("big", steps, edges)}))
    assert "```mermaid" not in text
    assert "_Diagram left out: 600 edges" in text


def test_condition_changes_are_reported_on_edges_kept() -> None:
    """A when= that changes (or appears) on an edge kept is a change, by new names."""
    steps = [node("pay"), node("ship"), node("notify", "app.notify")]
    old = FlowGraph(
        "f",
        tuple(steps),
        (Edge("pay", "ship", "approved"), Edge("pay", "notify")),
        (),
    )
    renamed = [node("pay"), node("ship"), node("alert", "app.notify")]
    new = FlowGraph(
        "f",
        tuple(renamed),
        (Edge("pay", "ship", "captured"), Edge("pay", "alert", "declined")),
        (),
    )
    d = compare({"f": old}, {"f": new}).flows["f"]
    assert d.status == "changed"
    assert d.conditions_changed == (
        ("pay", "alert", None, "declined"),
        ("pay", "ship", "approved", "captured"),
    )
    assert d.edges_added == d.edges_removed == ()
    assert d.as_dict()["edges"]["conditions"] == [
        ["pay", "alert", None, "declined"],
        ["pay", "ship", "approved", "captured"],
    ]


def test_a_renamed_function_is_a_probable_rename_when_unambiguous() -> None:
    """Same module, kind, description and edges: one removed and one added step pair up."""
    steps = [node("receive", "shop.receive"), node("approve_refund", "shop.approve_refund")]
    old = graph(
        "f",
        [*steps, node("pay", "shop.pay")],
        [("receive", "approve_refund"), ("approve_refund", "pay")],
    )
    new = graph(
        "f",
        [steps[0], node("accept_refund", "shop.accept_refund"), node("pay", "shop.pay")],
        [("receive", "accept_refund"), ("accept_refund", "pay")],
    )
    same = {"shop.approve_refund": "aa" * 8, "shop.accept_refund": "aa" * 8}
    d = compare({"f": old}, {"f": new}, old_bodies=same, new_bodies=same).flows["f"]
    assert d.renamed == d.probable_renames == (("approve_refund", "accept_refund"),)
    assert d.steps_added == d.steps_removed == ()
    assert d.edges_added == d.edges_removed == ()
    (change,) = d.steps_changed
    assert change.probable
    assert change.as_dict() == {
        "name": ["approve_refund", "accept_refund"],
        "function": ["shop.approve_refund", "shop.accept_refund"],
    }
    assert d.as_dict()["steps"]["probable_renames"] == [["approve_refund", "accept_refund"]]


def test_a_step_replaced_at_the_same_place_is_not_a_rename() -> None:
    """Another body (or no fingerprints at all): removed and added, never a guess."""
    old = graph(
        "f", [node("receive", "shop.receive"), node("fax", "shop.fax")], [("receive", "fax")]
    )
    new = graph(
        "f", [node("receive", "shop.receive"), node("email", "shop.email")], [("receive", "email")]
    )
    bodies = {"shop.fax": "11" * 8, "shop.email": "22" * 8}
    for kwargs in ({}, {"old_bodies": bodies, "new_bodies": bodies}):
        d = compare({"f": old}, {"f": new}, **kwargs).flows["f"]  # type: ignore[arg-type]
        assert d.probable_renames == ()
        assert d.steps_removed == ("fax",)
        assert d.steps_added == ("email",)


def test_no_probable_rename_when_two_steps_fit_or_anything_differs() -> None:
    """Two candidates, another module, or another edge: removed and added stay as they are."""
    same = dict.fromkeys(["m.x", "m.y", "m.p", "m.q", "n.p"], "ab" * 8)
    old = graph(
        "f", [node("a", "m.a"), node("x", "m.x"), node("y", "m.y")], [("a", "x"), ("a", "y")]
    )
    twins = graph(
        "f", [node("a", "m.a"), node("p", "m.p"), node("q", "m.q")], [("a", "p"), ("a", "q")]
    )
    d = compare({"f": old}, {"f": twins}, old_bodies=same, new_bodies=same).flows["f"]
    assert d.probable_renames == ()
    assert d.steps_removed == ("x", "y")
    other_module = graph(
        "f", [node("a", "m.a"), node("p", "n.p"), node("y", "m.y")], [("a", "p"), ("a", "y")]
    )
    d = compare({"f": old}, {"f": other_module}, old_bodies=same, new_bodies=same).flows["f"]
    assert d.probable_renames == ()
    assert d.steps_removed == ("x",)
    other_place = graph(
        "f", [node("a", "m.a"), node("p", "m.p"), node("y", "m.y")], [("y", "p"), ("a", "y")]
    )
    d = compare({"f": old}, {"f": other_place}, old_bodies=same, new_bodies=same).flows["f"]
    assert d.probable_renames == ()


def _moving_flows(n: int) -> tuple[dict[str, FlowGraph], dict[str, FlowGraph]]:
    """``n`` flows whose second step moves to the next flow."""
    old, new = {}, {}
    for i in range(n):
        j = (i - 1) % n
        old[f"f{i}"] = graph(
            f"f{i}", [node("s", f"m{i}.s"), node(f"t{i}", f"m{i}.t")], [("s", f"t{i}")]
        )
        new[f"f{i}"] = graph(f"f{i}", [node("s", f"m{i}.s"), node(f"t{j}", f"m{j}.t")])
    return old, new


def test_moves_are_found_in_work_linear_in_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every move is found, and 4x the flows costs about 4x the step lookups, not 16x."""
    import penstock._graph.compare as module

    calls = 0
    real = module._key

    def counting(step: StepNode) -> tuple[str, str]:
        nonlocal calls
        calls += 1
        return real(step)

    monkeypatch.setattr(module, "_key", counting)
    counts = []
    for n in (500, 2000):
        calls = 0
        diff = compare(*_moving_flows(n))
        assert diff.flows["f5"].moved_in == (("t4", "f4"),)
        assert diff.flows["f5"].moved_out == (("t5", "f6"),)
        assert sum(len(d.moved_in) for d in diff.flows.values()) == n
        counts.append(calls)
    assert counts[1] <= 4.5 * counts[0], counts


def test_a_probable_rename_survives_a_neighbour_replaced_in_the_same_change() -> None:
    """approve -> check renamed while the fax step after it became email: still paired."""
    old = graph(
        "f",
        [node("receive", "m.receive"), node("approve", "m.approve"), node("fax", "m.fax")],
        [("receive", "approve"), ("approve", "fax")],
    )
    new = graph(
        "f",
        [node("receive", "m.receive"), node("check", "m.check"), node("email", "m.email")],
        [("receive", "check"), ("check", "email")],
    )
    bodies = {"m.approve": "ab" * 8, "m.check": "ab" * 8, "m.fax": "01" * 8, "m.email": "02" * 8}
    d = compare({"f": old}, {"f": new}, old_bodies=bodies, new_bodies=bodies).flows["f"]
    assert d.probable_renames == (("approve", "check"),)
    assert d.steps_removed == ("fax",)
    assert d.steps_added == ("email",)
    assert d.edges_removed == (("approve", "fax"),)
    assert d.edges_added == (("check", "email"),)
