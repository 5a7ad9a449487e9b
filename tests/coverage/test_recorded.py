"""``penstock coverage FILE...``: production's coverage from recorded runs, and ``--combine``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from penstock._coverage.compute import report
from penstock._coverage.tap import CoverageTap
from penstock._graph.model import get_flow
from penstock.cli import main
from tests.observed.conftest import record_json_log


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _live_and_logged(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """The shop's runs measured live by the tap while the logging backend writes them."""
    tap = CoverageTap()
    tap.start()
    try:
        log = record_json_log(tmp_path / "app.log")
    finally:
        tap.stop()
    live = report({"shop": get_flow("shop")}, tap.hits(), root=str(Path.cwd()))
    return live.as_dict()["flows"]["shop"], log


def test_recorded_runs_give_the_live_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON log of a session gives the same coverage as watching it live (one edge rule)."""
    live, log = _live_and_logged(tmp_path)
    code, out, err = _cli(capsys, "coverage", str(log), "--flow", "shop", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "recorded runs"
    shop = data["flows"]["shop"]
    assert shop == live
    # The shop's tests never refund and never ship after a declined charge.
    assert [m["step"] for m in shop["steps"]["missing"]] == ["refund"]
    assert [(m["from"], m["to"]) for m in shop["edges"]["missing"]] == [("charge", "refund")]
    assert shop["runs"] == 9
    assert "step record(s) of 1 flow(s) in 1 file(s)" in err


def test_text_report_and_fail_under(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The text report lists what production never took; --fail-under exits 1 below it."""
    _, log = _live_and_logged(tmp_path)
    code, out, _ = _cli(capsys, "coverage", str(log), "--flow", "shop")
    assert code == 0
    assert "shop: missing" in out
    assert "  step    refund" in out
    code, _, err = _cli(capsys, "coverage", str(log), "--flow", "shop", "--fail-under", "100")
    assert code == 1
    assert "FAIL Required flow coverage of 100% (edges) not reached" in err


def test_unknown_flow_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input names the culprit: a flow with a did-you-mean, a file that does not exist."""
    _, log = _live_and_logged(tmp_path)
    code, _, err = _cli(capsys, "coverage", str(log), "--flow", "shopp")
    assert code == 2
    assert "--flow shopp: no such flow; did you mean 'shop'?" in err
    code, _, err = _cli(capsys, "coverage", str(tmp_path / "nope.log"), "--flow", "shop")
    assert code == 2
    assert "nope.log" in err


def test_combine_tells_tested_from_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two reports combine: the union, and what each covered that the other never did."""
    _, log = _live_and_logged(tmp_path)
    code, out, _ = _cli(capsys, "coverage", str(log), "--flow", "shop", "-f", "json")
    assert code == 0
    production = tmp_path / "production.json"
    production.write_text(out)
    tests = json.loads(out)
    shop = tests["flows"]["shop"]
    # "The tests" took the refund edge and step, and never the validate -> charge edge.
    shop["steps"]["hit"].append(shop["steps"]["missing"].pop(0))
    refund = next(e for e in shop["edges"]["missing"] if e["to"] == "refund")
    shop["edges"]["missing"].remove(refund)
    shop["edges"]["hit"].append(refund)
    charge = next(e for e in shop["edges"]["hit"] if e["to"] == "charge")
    shop["edges"]["hit"].remove(charge)
    shop["edges"]["missing"].append(charge)
    tests_file = tmp_path / "tests.json"
    tests_file.write_text(json.dumps(tests))

    code, out, _ = _cli(capsys, "coverage", "--combine", str(tests_file), str(production))
    assert code == 0
    assert (
        f"shop: covered only by {tests_file}\n  step    refund\n  edge    charge -> refund" in out
    )
    assert f"shop: covered only by {production}\n  edge    validate -> charge" in out

    code, out, _ = _cli(
        capsys, "coverage", "--combine", str(tests_file), str(production), "-f", "json"
    )
    combined = json.loads(out)
    assert combined["source"] == "combined"
    assert combined["sources"] == [str(tests_file), str(production)]
    hit = {(e["from"], e["to"]): e["sources"] for e in combined["flows"]["shop"]["edges"]["hit"]}
    assert hit[("charge", "refund")] == [str(tests_file)]
    assert hit[("validate", "charge")] == [str(production)]
    assert hit[("checkout", "validate")] == [str(tests_file), str(production)]


def test_combine_refuses_what_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not a coverage report is named, with how to write one."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "penstock.flows", "version": 1}')
    code, _, err = _cli(capsys, "coverage", "--combine", str(bad))
    assert code == 2
    assert f"{bad} is not a penstock coverage report of version 1" in err


def test_sequential_fan_out_covers_both_declared_edges(tmp_path: Path) -> None:
    """Happens-before: siblings run one after the other each take their declared edge, live
    and from the log the run wrote (the rule of drift detection and observe)."""
    import penstock
    from penstock import entrypoint, flow, step
    from penstock._coverage.recorded import hits_from_files

    @flow("fanout")
    @entrypoint
    def place_order() -> None:
        confirm_order()
        publish_order_placed()
        notify_customer()

    @flow("fanout")
    @step(after="place_order")
    def confirm_order() -> None:
        pass

    @flow("fanout")
    @step(after="confirm_order")
    def publish_order_placed() -> None:
        pass

    @flow("fanout")
    @step(after="confirm_order")
    def notify_customer() -> None:
        pass

    log = tmp_path / "fanout.log"
    tap = CoverageTap()
    tap.start()
    try:
        with log.open("w", encoding="utf-8") as stream:
            penstock.configure(backend="logging", format="json", stream=stream)
            try:
                place_order()
            finally:
                penstock.reset()
    finally:
        tap.stop()
    want = {
        ("place_order", "confirm_order"),
        ("confirm_order", "publish_order_placed"),
        ("confirm_order", "notify_customer"),
    }
    assert tap.hits().edges("fanout") == want
    graphs = {"fanout": get_flow("fanout")}
    assert hits_from_files(graphs, [log]).hits.edges("fanout") == want


def test_older_records_are_settled_from_the_run_tree(tmp_path: Path) -> None:
    """Records without edge_from (layout 1) give the same edges: the run's tree decides them."""
    test_sequential_fan_out_covers_both_declared_edges(tmp_path)
    from penstock._coverage.recorded import hits_from_files

    old = tmp_path / "old.log"
    lines = []
    for line in (tmp_path / "fanout.log").read_text().splitlines():
        record = json.loads(line)
        record.pop("edge_from", None)
        record["penstock_schema"] = 1
        lines.append(json.dumps(record))
    old.write_text("\n".join(lines) + "\n")
    graphs = {"fanout": get_flow("fanout")}
    assert hits_from_files(graphs, [old]).hits.edges("fanout") == {
        ("place_order", "confirm_order"),
        ("confirm_order", "publish_order_placed"),
        ("confirm_order", "notify_customer"),
    }
