"""The command line as a package: each command registers itself, one set of exit codes, and the
command ``dag --check`` suggests regenerates exactly the diagram it checked."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from penstock.cli import COMMANDS, ExitCode, build_parser, main
from penstock.cli import dag as dag_command

EXAMPLES = str(Path(__file__).parents[2] / "examples")
MODULE = ["--path", EXAMPLES, "-m", "bom_sync.consumer", "-m", "bom_sync.sync"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_each_command_module_registers_its_run() -> None:
    """Every module of COMMANDS adds one command whose func is that module's run."""
    commands = _subparsers(build_parser())
    assert list(commands) == [
        "list",
        "dag",
        "check",
        "paths",
        "observe",
        "coverage",
        "map",
        "dump",
        "diff",
    ]
    for module, (name, sub) in zip(COMMANDS, commands.items(), strict=True):
        assert sub.get_default("func") is module.run, name


@pytest.mark.parametrize(
    "argv", [["list"], ["dag", "bom_sync"], ["paths", "bom_sync"], ["map"], ["diff", "HEAD"]]
)
def test_arguments_dispatch_to_the_module_of_the_command(argv: list[str]) -> None:
    """parse_args names the run of the module named after the command."""
    args = build_parser().parse_args(argv)
    command = next(m for m in COMMANDS if m.run is args.func)
    assert command.__name__.rsplit(".", 1)[-1].rstrip("_") == argv[0]


def test_exit_codes_are_one_enum(capsys: pytest.CaptureFixture[str]) -> None:
    """0 ok, 1 problems found, 2 usage: what main returns for each, as an ExitCode."""
    assert [int(c) for c in ExitCode] == [0, 1, 2]
    assert main([*MODULE, "list"]) == ExitCode.OK
    assert main([*MODULE, "dag", "no_such_flow"]) == ExitCode.USAGE
    assert "no_such_flow" in capsys.readouterr().err
    assert main([*MODULE, "-m", "no_such_module_anywhere", "list"]) == ExitCode.USAGE


def test_every_drawing_option_of_dag_is_in_the_regenerate_hint() -> None:
    """An option added to ``dag`` that is not declared among the shaping ones fails here."""
    dag = _subparsers(build_parser())["dag"]
    not_shaping = {"help", "module", "path", "exclude", "flow", "output", "check"}
    options = {a.dest for a in dag._actions} - not_shaping
    shaping = {flags[-1].lstrip("-").replace("-", "_") for flags, _, _ in dag_command._SHAPING}
    assert options == shaping | {"allow_problems"}


def test_dag_check_hint_regenerates_a_file_that_then_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every flag that shaped the diagram is in the hint; running the hint makes --check pass."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "docs" / "flow.mmd"
    shape = [
        "-d",
        "lr",
        "--title",
        "BOM sync",
        "--show-docs",
        "--links",
        "--legend",
        "--collapse",
        "--allow-problems",
    ]
    check = [*MODULE, "dag", "bom_sync", *shape, "-o", str(out), "--check"]

    assert main(check) == ExitCode.PROBLEMS  # no file yet
    err = capsys.readouterr().err
    hint = err.split("regenerate it with:\n", 1)[1].strip()
    words = shlex.split(hint)
    assert words[0] == "penstock"
    for flag in ("--links", "--legend", "--collapse", "--show-docs", "--allow-problems"):
        assert flag in words, flag
    assert words[words.index("--title") + 1] == "BOM sync"
    assert words[words.index("-d") + 1] == "LR"

    assert main(words[1:]) == ExitCode.OK
    assert "BOM sync" in out.read_text(encoding="utf-8")
    assert main(check) == ExitCode.OK
    # A diagram drawn without one of the flags is out of date: the check is real.
    out.write_text(out.read_text(encoding="utf-8").replace("BOM sync", "BOM"), encoding="utf-8")
    assert main(check) == ExitCode.PROBLEMS
