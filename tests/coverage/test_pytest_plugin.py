"""The real pytest plugin, driven through pytester on an app whose tests leave a step, an edge
and a branch out: every number and every missing item, serial and under pytest-xdist."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.coverage.app import write_app

pytest_plugins = ("pytester",)

CHECKOUT_FILE = "shop/checkout.py"
PATHS_MISSING = {
    ("place_order", "validate", "charge", "receipt", "refund"),
    ("place_order", "validate", "decline", "receipt", "archive"),
    ("place_order", "validate", "decline", "receipt", "refund"),
}


@pytest.fixture
def app(pytester: pytest.Pytester) -> pytest.Pytester:
    write_app(pytester)
    return pytester


#: The inner sessions' options: no cache, and no Hypothesis plugin, which the apps do not use
#: and which costs each inner pytest (and each of its xdist workers) 0.6 s to import.
_INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: the inner session's registry and taps are its own.
    return pytester.runpytest_subprocess(*_INNER, "tests", *args)


def _line(source: str, name: str) -> int:
    # A decorated function's line is its first decorator's (its code object's first line).
    lines = source.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    while index and lines[index - 1].startswith("@"):
        index -= 1
    return index + 1


def _where(name: str) -> str:
    import textwrap

    from tests.coverage.app import CHECKOUT

    # As pytester writes it: dedented, without the leading blank line.
    return f"{CHECKOUT_FILE}:{_line(textwrap.dedent(CHECKOUT).lstrip(), name)}"


def _json(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    result = _run(pytester, "--penstock-cov", "--penstock-cov-report=json:cov.json", *args)
    result.assert_outcomes(passed=4)
    data: dict[str, Any] = json.loads((pytester.path / "cov.json").read_text())
    return data


def _check_numbers(data: dict[str, Any]) -> None:
    assert data["schema"] == "penstock.coverage"
    assert data["version"] == 1
    checkout = data["flows"]["checkout"]
    assert checkout["runs"] == 6
    summary = {
        kind: (checkout[kind]["covered"], checkout[kind]["total"], checkout[kind]["percent"])
        for kind in ("steps", "edges", "branches", "paths")
    }
    assert summary == {
        "steps": (6, 7, 85.71),
        "edges": (5, 7, 71.43),
        "branches": (3, 4, 75.0),
        "paths": (1, 4, 25.0),
    }
    assert checkout["steps"]["missing"] == [{"step": "refund", "location": _where("refund")}]
    assert checkout["edges"]["missing"] == [
        {"from": "decline", "to": "receipt", "when": None, "location": _where("receipt")},
        {"from": "receipt", "to": "refund", "when": None, "location": _where("refund")},
    ]
    assert checkout["branches"]["missing"] == [
        {"from": "receipt", "to": "refund", "when": None, "location": _where("refund")},
    ]
    assert [b["to"] for b in checkout["branches"]["hit"]] == ["charge", "decline", "archive"]
    assert {b["when"] for b in checkout["branches"]["hit"]} == {
        "card accepted",
        "card declined",
        None,
    }
    assert {tuple(p["steps"]) for p in checkout["paths"]["missing"]} == PATHS_MISSING
    assert [p["steps"] for p in checkout["paths"]["hit"]] == [
        ["place_order", "validate", "charge", "receipt", "archive"]
    ]
    assert checkout["paths"]["capped"] is False

    # No test imports the newsletter module: [tool.penstock] modules brings it in, at 0 %.
    news = data["flows"]["newsletter"]
    assert news["runs"] == 0
    assert (news["steps"]["covered"], news["steps"]["total"]) == (0, 2)
    assert (news["edges"]["covered"], news["edges"]["total"]) == (0, 1)
    assert (news["branches"]["total"], news["branches"]["percent"]) == (0, 100.0)
    assert (news["paths"]["covered"], news["paths"]["total"]) == (0, 1)

    assert data["totals"] == {
        "steps": {"covered": 6, "total": 9, "percent": 66.67},
        "edges": {"covered": 5, "total": 8, "percent": 62.5},
        "branches": {"covered": 3, "total": 4, "percent": 75.0},
        "paths": {"covered": 1, "total": 5, "percent": 20.0},
    }


def test_json_report_serial(app: pytest.Pytester) -> None:
    """A serial run reports every number and every missing item of the app exactly."""
    _check_numbers(_json(app))


def test_json_report_under_xdist_equals_serial(app: pytest.Pytester) -> None:
    """With -n 2 the workers' runs are merged: the report is the serial one, byte for byte."""
    serial = _json(app)
    pytest.importorskip("xdist")
    parallel = _json(app, "-n", "2")
    _check_numbers(parallel)
    assert parallel == serial


def test_json_validates_against_the_shipped_schema(app: pytest.Pytester) -> None:
    """The report follows penstock/schema/coverage-v1.schema.json."""
    from importlib.resources import files

    from jsonschema import Draft202012Validator

    schema = json.loads(files("penstock").joinpath("schema/coverage-v1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(_json(app))


def test_term_missing_table(app: pytest.Pytester) -> None:
    """term-missing prints the table per flow and every missing item with its file:line."""
    result = _run(app, "--penstock-cov", "--penstock-cov-report=term-missing")
    result.assert_outcomes(passed=4)
    assert result.ret == 0
    result.stdout.re_match_lines(
        [
            r"-+ penstock flow coverage -+",
            r"Flow\s+Runs\s+Steps\s+Edges\s+Branches\s+Paths",
            r"checkout\s+6\s+6/7\s+86%\s+5/7\s+71%\s+3/4\s+75%\s+1/4\s+25%",
            r"newsletter\s+0\s+0/2\s+0%\s+0/1\s+0%\s+0/0\s+100%\s+0/1\s+0%",
            r"TOTAL\s+6\s+6/9\s+67%\s+5/8\s+62%\s+3/4\s+75%\s+1/5\s+20%",
        ]
    )
    out = result.stdout.str()
    assert "step    refund  " in out or "step    refund" in out
    result.stdout.re_match_lines(
        [
            r"checkout: missing",
            rf"  step\s+refund\s+{_where('refund')}",
            rf"  edge\s+decline -> receipt\s+{_where('receipt')}",
            rf"  edge\s+receipt -> refund\s+{_where('refund')}",
            rf"  branch\s+receipt -> refund\s+{_where('refund')}",
        ]
    )
    for path in PATHS_MISSING:
        assert " -> ".join(path) in out
    assert "newsletter: missing" in out


def test_plain_term_has_no_missing_lines(app: pytest.Pytester) -> None:
    """The default report is the table alone."""
    result = _run(app, "--penstock-cov")
    result.assert_outcomes(passed=4)
    result.stdout.re_match_lines([r"checkout\s+6\s+6/7\s+86%"])
    assert "checkout: missing" not in result.stdout.str()


def test_fail_under_fails_the_session(app: pytest.Pytester) -> None:
    """Below --penstock-cov-fail-under (edges), the session exits 1 with pytest-cov's words."""
    result = _run(app, "--penstock-cov", "--penstock-cov-fail-under=70")
    result.assert_outcomes(passed=4)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAIL Required flow coverage of 70% (edges) not reached. Total edge coverage: 62.50%"]
    )
    ok = _run(app, "--penstock-cov", "--penstock-cov-fail-under=62.5")
    assert ok.ret == 0
    ok.stdout.fnmatch_lines(["Required flow coverage of 62.5% (edges) reached.*62.50%"])


def test_fail_under_under_xdist(app: pytest.Pytester) -> None:
    """Fail-under applies to the merged numbers of the workers."""
    pytest.importorskip("xdist")
    result = _run(app, "-n", "2", "--penstock-cov", "--penstock-cov-fail-under=63")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["FAIL Required flow coverage of 63% (edges)*62.50%"])


def test_one_flow_only(app: pytest.Pytester) -> None:
    """--penstock-cov=FLOW measures that flow alone; an unknown one is a usage error."""
    result = _run(app, "--penstock-cov=newsletter", "--penstock-cov-fail-under=1")
    assert result.ret == 1  # newsletter's edges: 0 %
    assert "checkout" not in result.stdout.str().split("penstock flow coverage")[1]
    bad = _run(app, "--penstock-cov=chekout")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stdout.fnmatch_lines(["*--penstock-cov=chekout: no such flow; did you mean 'checkout'?*"])


def test_markdown_and_mermaid_reports(app: pytest.Pytester) -> None:
    """markdown:PATH is a PR comment with a diagram per incomplete flow; mermaid:DIR a file each."""
    result = _run(
        app,
        "--penstock-cov",
        "--penstock-cov-report=markdown:out/comment.md",
        "--penstock-cov-report=mermaid:out/diagrams",
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["markdown report written to out/comment.md", "mermaid report written to out/diagrams"]
    )
    md = (app.path / "out/comment.md").read_text()
    assert md.startswith("## penstock flow coverage\n")
    assert "Edges covered: **62%** (5 of 8) over 2 flow(s)." in md
    assert "| `checkout` | 6 | 6/7 (86%) | 5/7 (71%) | 3/4 (75%) | 1/4 (25%) |" in md
    assert md.count("```mermaid") == 2
    assert f"| step | `refund` | `{_where('refund')}` |" in md
    assert f"| edge | `decline -> receipt` | `{_where('receipt')}` |" in md
    diagram = (app.path / "out/diagrams/checkout.mmd").read_text()
    # Uncovered steps and edges carry the overlay's "failing" class; covered ones none.
    assert "not covered" in diagram
    assert "not taken" in diagram
    assert "not exercised by the tests" in diagram
    assert "Flow coverage" in diagram
    assert "steps 6/7" in diagram
    assert (app.path / "out/diagrams/newsletter.mmd").is_file()


def test_disabled_plugin_measures_nothing(app: pytest.Pytester) -> None:
    """Without --penstock-cov nothing is reported; --no-penstock-cov wins over the config."""
    result = _run(app)
    result.assert_outcomes(passed=4)
    assert "penstock flow coverage" not in result.stdout.str()
    app.makefile(
        ".toml",
        pyproject='[tool.penstock]\nmodules = ["shop"]\ncoverage = true\n'
        '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n',
    )
    on = _run(app)
    assert "penstock flow coverage" in on.stdout.str()
    off = _run(app, "--no-penstock-cov")
    assert "penstock flow coverage" not in off.stdout.str()


def test_unknown_report_type_is_a_usage_error(app: pytest.Pytester) -> None:
    """A misspelled report type names the close one."""
    result = _run(app, "--penstock-cov", "--penstock-cov-report=term-mising")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*unknown report type 'term-mising'; did you mean 'term-missing'?*"]
    )


def test_off_means_no_shapes_kept_on_the_step_calls(pytester: pytest.Pytester) -> None:
    """Without --penstock-cov the runtime keeps no run shapes: step calls run exactly as without
    penstock's plugin; with it, the session's runs are kept."""
    pytester.makepyfile(
        test_taps="""
        import os

        from penstock._runtime import active, lifecycle


        def test_taps():
            kept = int(os.environ["EXPECTED_TAPS"])
            assert (lifecycle.SHAPES is not None) == bool(kept)
            assert active.SHAPED == bool(kept)
        """
    )
    pytester.makefile(
        ".toml",
        pyproject='[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n',
    )
    for args, expected in (((), "0"), (("--penstock-cov",), "1")):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EXPECTED_TAPS", expected)
            result = pytester.runpytest_subprocess(*_INNER, *args)
        result.assert_outcomes(passed=1)
