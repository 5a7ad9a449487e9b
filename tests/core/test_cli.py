"""The penstock command, run in a real subprocess and in-process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from penstock.cli import main
from tests.support.system import ROOT

EXAMPLE = ["--path", str(ROOT / "examples"), "-m", "bom_sync.consumer", "-m", "bom_sync.sync"]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "penstock", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_list_shows_flows_entrypoints_and_sizes() -> None:
    """`penstock list` prints each flow with its step count and entrypoints."""
    out = run_cli(*EXAMPLE, "list")
    assert out.returncode == 0, out.stderr
    assert "bom_sync" in out.stdout
    assert "entrypoints: handle_kafka_message" in out.stdout


def test_dag_prints_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    """`penstock dag FLOW` prints the diagram."""
    assert main([*EXAMPLE, "dag", "bom_sync", "-d", "lr"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("graph LR\n")
    assert "    publish_change_events --> enqueue_changelog\n" in out


def test_dag_check_detects_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--check exits 0 on a fresh file and 1 with a unified diff on a stale one."""
    target = tmp_path / "docs" / "bom_sync.mmd"
    assert main([*EXAMPLE, "dag", "bom_sync", "-o", str(target)]) == 0
    assert main([*EXAMPLE, "dag", "bom_sync", "-o", str(target), "--check"]) == 0
    target.write_text(target.read_text().replace("update_ebom", "update_bom"))
    capsys.readouterr()
    assert main([*EXAMPLE, "dag", "bom_sync", "-o", str(target), "--check"]) == 1
    captured = capsys.readouterr()
    assert "-    publish_change_events --> update_bom" in captured.out
    assert "+    publish_change_events --> update_ebom" in captured.out
    assert "out of date" in captured.err


def test_dag_formats(capsys: pytest.CaptureFixture[str]) -> None:
    """-f dot and -f json produce those formats."""
    assert main([*EXAMPLE, "dag", "bom_sync", "-f", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "bom_sync" {')
    assert main([*EXAMPLE, "dag", "bom_sync", "-f", "json"]) == 0
    assert '"schema": "penstock.flow"' in capsys.readouterr().out


def test_paths_prints_one_path_per_line() -> None:
    """`penstock paths` prints every entrypoint-to-end path."""
    out = run_cli(*EXAMPLE, "paths", "bom_sync")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "handle_kafka_message -> sync_reference -> upsert_to_db -> publish_change_events"
        " -> update_ebom",
        "handle_kafka_message -> sync_reference -> upsert_to_db -> publish_change_events"
        " -> enqueue_changelog",
    ]


def test_check_exit_codes(tmp_path: Path) -> None:
    """`penstock check` exits 0 when clean and 1 with file:line lines when not."""
    ok = run_cli(*EXAMPLE, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "badflow.py").write_text(
        "from penstock import flow, step\n\n@flow('bad')\n@step(after='nowhere')\ndef lost(): ...\n"
    )
    bad = run_cli("--path", str(tmp_path), "-m", "badflow", "check")
    assert bad.returncode == 1
    # The line of @step(after=...) that names the missing step; outside the current folder
    # the path is absolute.
    assert f"{tmp_path / 'badflow.py'}:4: [unknown-after]" in bad.stdout
    assert f"{tmp_path / 'badflow.py'}:3: [no-entrypoint]" in bad.stdout
    inside = run_cli("--path", ".", "-m", "badflow", "check", cwd=tmp_path)
    assert inside.stdout.startswith("badflow.py:4: [unknown-after]"), inside.stdout


def test_import_failure_shows_module_and_traceback(tmp_path: Path) -> None:
    """A module that raises on import exits 2 naming it, with the original traceback."""
    (tmp_path / "explodes.py").write_text("x = 1\nraise RuntimeError('boom at import')\n")
    out = run_cli("--path", str(tmp_path), "-m", "explodes", "list")
    assert out.returncode == 2
    assert "could not import module 'explodes'" in out.stderr
    assert "RuntimeError: boom at import" in out.stderr
    assert 'explodes.py", line 2' in out.stderr


def test_unknown_flow_lists_known_and_suggests() -> None:
    """An unknown flow exits 2 with known flows and a did-you-mean."""
    out = run_cli(*EXAMPLE, "dag", "bom_snyc")
    assert out.returncode == 2
    assert "did you mean 'bom_sync'?" in out.stderr
    assert "Known flows: bom_sync" in out.stderr


def test_version_is_the_installed_one() -> None:
    """`penstock --version` prints the version the build wrote from the git tag."""
    out = run_cli("--version")
    assert out.returncode == 0, out.stderr
    # Read in a fresh process too: any build of the checkout (a wheel built by another test)
    # rewrites the version file, so this process's penstock.__version__ may be older.
    version = subprocess.run(
        [sys.executable, "-c", "import penstock; print(penstock.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out.stdout == f"penstock {version}\n"
    assert version != "0.0.0+unknown", "the build wrote no version file"
