"""`penstock observe`: text, JSON and Mermaid, one run replayed, clear errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from penstock.cli import main
from tests.observed import shop
from tests.support.mermaid import MermaidOracle, mermaid_oracle
from tests.support.system import ROOT

__all__ = ["mermaid_oracle"]


def _failed_run(log: Path) -> str:
    for line in log.read_text().splitlines():
        if '"status": "error"' in line:
            return str(json.loads(line)["correlation_id"])
    raise AssertionError("no failed run in the log")


def test_json_output_has_the_documented_shape(
    json_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json: flow, runs, skipped, steps and edges, every declared edge included."""
    assert main(["observe", shop.FLOW, str(json_log), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == [
        "flow",
        "runs",
        "skipped",
        "steps",
        "edges",
        "other_flows",
        "foreign_spans",
    ]
    assert data["flow"] == "shop"
    assert data["runs"] == 9
    assert data["skipped"] == {"not JSON": 1, "not a step record": 10}
    charge = next(s for s in data["steps"] if s["name"] == "charge")
    assert list(charge) == ["name", "calls", "errors", "p50_ms", "p95_ms", "declared"]
    assert (charge["calls"], charge["errors"]) == (8, 2)
    assert charge["p50_ms"] <= charge["p95_ms"]
    refund = next(s for s in data["steps"] if s["name"] == "refund")
    assert refund == {
        "name": "refund",
        "calls": 0,
        "errors": 0,
        "p50_ms": None,
        "p95_ms": None,
        "declared": True,
    }
    edges = {(e["from"], e["to"]): (e["declared"], e["count"]) for e in data["edges"]}
    assert edges == {(s, t): (d, n) for (s, t, d), n in shop.EXPECTED_EDGES.items()}
    assert all(list(e) == ["from", "to", "declared", "count"] for e in data["edges"])


def test_text_output_has_a_step_table_and_an_edge_table(
    json_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format text (the default): steps with calls/errors/p50/p95, then edges."""
    assert main(["observe", shop.FLOW, str(json_log)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flow 'shop': 9 runs; 11 skipped (not JSON: 1, not a step record: 10)")
    squeezed = re.sub(r" +", " ", out)
    assert "step calls errors error rate p50 ms p95 ms" in squeezed
    assert "charge 8 2 25.0%" in squeezed
    assert "refund 0 0 - - - never called" in squeezed
    assert "charge -> refund       yes           0  never observed" in out
    assert f"validate -> ship       NO            1  undeclared, first seen at {json_log}:" in out


def test_mermaid_output_is_the_overlay_and_warns_about_drift(
    json_log: Path, capsys: pytest.CaptureFixture[str], mermaid_oracle: MermaidOracle
) -> None:
    """--format mermaid: the declared diagram with counts; drift named with both file:lines."""
    assert main(["observe", shop.FLOW, str(json_log), "-f", "mermaid"]) == 0
    captured = capsys.readouterr()
    for parsed in mermaid_oracle.parse_one(captured.out):
        assert parsed.ok, parsed.error
        texts = {(e["start"], e["end"]): e["text"] for e in parsed.edges}
        assert texts[("checkout", "validate")] == "9\u00d7"
        assert texts[("validate", "ship")] == "1\u00d7"
        assert "never called" in parsed.text_of("refund")
    shop_py = Path(shop.__file__).resolve()
    assert "warning: flow 'shop': recorded runs went 'validate'" in captured.err
    assert f"({shop_py}:" in captured.err
    assert f"first seen at {json_log}:" in captured.err


def test_run_replays_one_run_in_order(json_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--run: the calls in start order, nested, the failing step marked."""
    run = _failed_run(json_log)
    assert main(["observe", shop.FLOW, str(json_log), "--run", run[:10]]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"run {run} of flow 'shop': 4 calls, failed in 'charge' (#3)")
    lines = out.splitlines()[3:]
    assert [line.split()[1] for line in lines] == ["checkout", "validate", "charge", "fraud_check"]
    assert lines[2].endswith("<- failed here")
    assert lines[3].split()[0] == "4"
    assert "      fraud_check" in lines[3]


def test_run_as_json(json_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--run with --format json lists the calls with order, status, depth and the failure."""
    run = _failed_run(json_log)
    assert main(["observe", shop.FLOW, str(json_log), "--run", run, "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["run"], data["status"]) == (run, "error")
    steps = [(s["step"], s["status"], s["depth"], s["failed_here"]) for s in data["steps"]]
    assert steps == [
        ("checkout", "ok", 0, False),
        ("validate", "ok", 1, False),
        ("charge", "error", 1, True),
        ("fraud_check", "ok", 2, False),
    ]


def test_unknown_run_and_missing_file_are_usage_errors(
    json_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run that is not in the files, or a file that is not there, exits 2 with the culprit."""
    assert main(["observe", shop.FLOW, str(json_log), "--run", "ffffffff"]) == 2
    assert "no record of run 'ffffffff' in flow 'shop'" in capsys.readouterr().err
    assert main(["observe", shop.FLOW, str(json_log.parent / "nope.log")]) == 2
    assert "nope.log' not found" in capsys.readouterr().err
    assert main(["observe", "shoop", str(json_log)]) == 2
    assert "did you mean 'shop'" in capsys.readouterr().err


def test_observe_in_a_real_subprocess(json_log: Path) -> None:
    """The installed command imports the flow's module and reads the file."""
    out = subprocess.run(
        [
            *(sys.executable, "-m", "penstock", "--path", str(ROOT)),
            *("-m", "tests.observed.shop_module", "observe", "shop", str(json_log), "-f", "json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["runs"] == 9


def test_since_and_until_on_the_command_line(
    json_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--since/--until keep the calls that started inside the window; a bad time exits 2."""
    args = ["observe", shop.FLOW, str(json_log), "-f", "json"]
    assert main([*args, "--since", "2000-01-01T00:00:00Z", "--until", "2999-01-01"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == 9
    assert main([*args, "--until", "2000-01-01T00:00:00Z"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == 0
    assert data["skipped"]["outside since/until"] == 41
    assert main([*args, "--since", "last tuesday"]) == 2
    assert "since 'last tuesday' is not an ISO time" in capsys.readouterr().err


def test_an_ambiguous_run_prefix_is_an_error(
    json_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix that starts several correlation IDs names how many and some of them."""
    assert main(["observe", shop.FLOW, str(json_log), "--run", ""]) == 2
    assert "--run needs a correlation ID" in capsys.readouterr().err
    records = [
        json.loads(line)
        for line in json_log.read_text().splitlines()
        if '"correlation_id"' in line and '"duration_ms"' in line
    ]
    for i, record in enumerate(records):
        record["correlation_id"] = "ab" + str(i % 2) * 30
    path = tmp_path / "two.log"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["observe", shop.FLOW, str(path), "--run", "ab"]) == 2
    assert "run 'ab' is ambiguous: it starts 2 IDs (ab000" in capsys.readouterr().err
