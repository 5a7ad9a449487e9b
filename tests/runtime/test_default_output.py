"""Visible by default: a program that configured no logging sees one line per finished step.

Each test runs a real Python process (pytest itself installs logging handlers, which would
count as "the application configured logging").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.system import ROOT

OK_RUN = (
    "from bom_sync.consumer import Message, handle_kafka_message\n"
    "def run(part='PN-100'):\n"
    "    try:\n"
    "        handle_kafka_message(Message(json.dumps({'part_number': part}).encode(), []))\n"
    "    except Exception as exc:\n"
    "        print('raised', type(exc).__name__, file=sys.stderr)\n"
)


def run_script(body: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` after the example app is imported, in a process with no logging set up."""
    full_env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'examples'}"}
    full_env.pop("PENSTOCK_BACKEND", None)
    full_env.pop("PENSTOCK_OUTPUT", None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import json, logging, sys, penstock\n{OK_RUN}{body}"],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=True,
    )


def test_default_backend_prints_one_logfmt_line_per_step() -> None:
    """No configure(), no logging: six readable lines on stderr, nothing on stdout."""
    proc = run_script("run()\n")
    lines = proc.stderr.splitlines()
    assert proc.stdout == ""
    assert len(lines) == 6
    ids = {line.split("correlation_id=")[1].split()[0] for line in lines}
    assert len(ids) == 1
    for line in lines:
        assert " level=info flow=bom_sync step=" in line
        assert " duration_ms=" in line
        assert line.endswith(" status=ok")
    assert "step=handle_kafka_message" in lines[-1]


def test_a_failure_prints_its_correlation_id_and_the_traceback_once() -> None:
    """A failing run: error lines with the correlation id and a single traceback."""
    proc = run_script("run('PN-404')\n")
    err = proc.stderr
    assert err.count("Traceback (most recent call last)") == 1
    assert "PartNotFound" in err
    errors = [
        line for line in err.splitlines() if line.startswith("time=") and "level=error" in line
    ]
    assert [line.split("step=")[1].split()[0] for line in errors] == [
        "sync_reference",
        "handle_kafka_message",
    ]
    assert all("correlation_id=" in line and "status=error" in line for line in errors)
    assert "raised PartNotFound" in err


def test_logging_configured_before_the_first_step_gets_the_records_alone() -> None:
    """basicConfig before the first step: only the application's handler prints."""
    proc = run_script(
        "logging.basicConfig(level=logging.INFO, format='APP %(step)s %(correlation_id)s')\nrun()\n"
    )
    lines = proc.stderr.splitlines()
    assert len(lines) == 6
    assert all(line.startswith("APP ") for line in lines)


def test_logging_configured_after_the_first_step_takes_over() -> None:
    """basicConfig after a run: the next run goes through the application's handler only."""
    proc = run_script(
        "run()\nlogging.basicConfig(level=logging.INFO, format='APP %(step)s')\nrun()\n"
    )
    lines = proc.stderr.splitlines()
    # The second run finds the part unchanged, so it stops after upsert_to_db.
    assert len(lines) == 9
    assert all(line.startswith("time=") for line in lines[:6])
    assert lines[6:] == ["APP upsert_to_db", "APP sync_reference", "APP handle_kafka_message"]


def test_configured_logging_at_warning_hides_successful_steps() -> None:
    """An application that configured WARNING sees failures only, through its own handler."""
    proc = run_script(
        "logging.basicConfig(format='APP %(levelname)s %(step)s')\nrun()\nrun('PN-404')\n"
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith(("APP", "time="))]
    assert lines == ["APP ERROR sync_reference", "APP ERROR handle_kafka_message"]


def test_environment_variable_turns_the_output_off_or_to_json() -> None:
    """PENSTOCK_OUTPUT=off prints nothing; =json prints one JSON object per step."""
    assert run_script("run()\n", PENSTOCK_OUTPUT="off").stderr == ""
    lines = run_script("run()\n", PENSTOCK_OUTPUT="json").stderr.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["step"] for r in records][-1] == "handle_kafka_message"
    assert {r["status"] for r in records} == {"ok"}
    assert len({r["correlation_id"] for r in records}) == 1


def test_configure_output_option_wins_over_the_environment() -> None:
    """configure(output=...) for auto and logging; the environment variable is the default."""
    proc = run_script("penstock.configure(output='json')\nrun()\n", PENSTOCK_OUTPUT="off")
    assert len([json.loads(line) for line in proc.stderr.splitlines()]) == 6
    proc = run_script("penstock.configure(backend='logging', output='off')\nrun()\n")
    assert proc.stderr == ""


def test_a_wrong_environment_value_is_reported_and_logfmt_printed() -> None:
    """PENSTOCK_OUTPUT=xml never breaks the application: said once, then logfmt."""
    proc = run_script("run()\n", PENSTOCK_OUTPUT="xml")
    assert "PENSTOCK_OUTPUT='xml' is not one of logfmt, json, off; printing logfmt" in proc.stderr
    assert proc.stderr.count("level=info flow=bom_sync") == 6


def test_a_wrong_output_option_is_a_backend_error() -> None:
    """configure(output="xml") fails at configure time, naming the choices."""
    import pytest

    import penstock

    with pytest.raises(penstock.BackendError, match="output must be one of logfmt, json, off"):
        penstock.configure(output="xml")
    with pytest.raises(penstock.BackendError, match="output must be one of"):
        penstock.configure(backend="logging", output="xml")


def test_a_disabled_logger_prints_nothing() -> None:
    """The application disabled penstock's logger: no default output either."""
    proc = run_script("logging.getLogger('penstock').disabled = True\nrun()\nrun('PN-404')\n")
    assert proc.stderr == "raised PartNotFound\n"
