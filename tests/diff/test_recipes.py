"""The recipes in the docs and the pre-commit hooks run real penstock commands."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from penstock.cli import build_parser
from tests.support.system import ROOT

DOC = ROOT / "docs" / "diff.md"
EXAMPLE = ["--path", str(ROOT / "examples"), "-m", "bom_sync.consumer", "-m", "bom_sync.sync"]


def yaml_blocks() -> list[str]:
    return re.findall(r"^```yaml[^\n]*\n(.*?)^```$", DOC.read_text(), re.M | re.S)


def penstock_commands() -> list[list[str]]:
    """Every `penstock ...` command line of the CI recipes, with shell variables filled in."""
    found = []
    for block in yaml_blocks():
        # Shell line continuations joined first.
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            text = line.strip().removeprefix("- ").removeprefix("run: ")
            if text.startswith("penstock "):
                text = re.sub(r"\$\{?\w+\}?", "main", text.split(">")[0])
                found.append(shlex.split(text)[1:])
    return found


def test_recipes_are_valid_yaml_with_the_commands() -> None:
    """Every YAML block parses; the CI recipes call penstock diff with the markdown format."""
    for block in yaml_blocks():
        yaml.safe_load(block)
    commands = penstock_commands()
    assert sum(1 for c in commands if c[:1] == ["diff"] and "markdown" in c) == 3
    assert any("--fail-on-live-removal" in c and "--observed" in c for c in commands)


@pytest.mark.parametrize("argv", penstock_commands(), ids=" ".join)
def test_recipe_commands_parse(argv: list[str]) -> None:
    """The commands the recipes run are accepted by penstock's own argument parser."""
    args = build_parser().parse_args(argv)
    assert args.command == "diff"


def test_the_github_recipe_never_runs_pull_request_code_with_secrets() -> None:
    """The check runs on pull_request and uploads; only a workflow_run job posts."""
    workflows = [yaml.safe_load(b) for b in yaml_blocks()[:2]]
    check, comment = workflows
    assert check[True] == "pull_request"  # YAML 1.1 reads the key `on` as True
    assert check["permissions"] == {"contents": "read"}
    assert "pull_request_target" not in DOC.read_text().split("### GitLab CI")[0].replace(
        "A workflow triggered by `pull_request_target`", ""
    )
    assert set(comment[True]) == {"workflow_run"}
    steps = comment["jobs"]["comment"]["steps"]
    assert not any("checkout" in str(s.get("uses", "")) for s in steps)
    runs = " ".join(str(s.get("run", "")) for s in steps)
    assert "penstock diff" not in runs
    assert "pip install" not in runs


def test_pre_commit_hooks_run(tmp_path: Path) -> None:
    """Each hook of .pre-commit-hooks.yaml, run as pre-commit runs it (entry + args), passes
    on a clean project and fails on a stale diagram."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"penstock-check", "penstock-dag-check"}
    for hook in hooks.values():
        assert hook["pass_filenames"] is False
        assert hook["entry"].split()[0] == "penstock"

    def run(hook: str, *args: str) -> int:
        entry = hooks[hook]["entry"].split()[1:]
        cmd = [sys.executable, "-m", "penstock", *entry, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).returncode

    diagram = tmp_path / "bom_sync.mmd"
    assert run("penstock-check", *EXAMPLE) == 0
    subprocess.run(
        [sys.executable, "-m", "penstock", *EXAMPLE, "dag", "bom_sync", "-o", str(diagram)],
        check=True,
        timeout=60,
    )
    assert run("penstock-dag-check", *EXAMPLE, "bom_sync", "-o", str(diagram)) == 0
    diagram.write_text("graph TD\n")
    assert run("penstock-dag-check", *EXAMPLE, "bom_sync", "-o", str(diagram)) == 1
