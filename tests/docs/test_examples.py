"""Every Python and console example in docs/ and README.md runs, and its shown output is checked.

A small collector over the Markdown files (no third-party tool), with two markers, HTML comments
the site does not show, on the line right before a fence:

- ``<!-- test: skip REASON -->``: the block is not run (a fragment, or it needs a service);
  Python blocks are still compiled, so a syntax error is caught.
- ``<!-- test: output -->`` before a ``text`` block: the standard output of the Python block
  just before it, compared line by line.

Python blocks of a page run in order in one namespace, with the example service importable; a
block that defines ``test_*`` functions has them called (``penstock_recorder`` is passed a
recording backend). Console blocks run each ``$ penstock ...`` (or ``$ python -m bom_sync``)
command in a project made of ``examples/`` and the ``[tool.penstock]`` table shown on the
getting started page, and compare what it prints (both streams, as a terminal shows them) with
the lines under it. Everywhere, a line ``...`` matches any lines, and
timestamps, IDs and durations match any value. A block that only includes a file
(``--8<-- "docs/examples/x.py:part"``) is left to the test of that file.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import penstock
from penstock.testing import recording
from tests.support.system import ROOT

PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*$")
MARKER = re.compile(r"^\s*<!-- test: (?P<what>skip|output)\b(?P<why>.*?)-->\s*$")
RUNNABLE = ("penstock", "python -m penstock", "python -m bom_sync")

#: Values that change from run to run, replaced before comparing.
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id32>"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<id16>"),
    (re.compile(r"(duration_ms[=\": ]+)[0-9.]+"), r"\1<ms>"),
    (re.compile(r"\b\d+\.\d+ ?ms\b"), "<ms>"),
]


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    text: str
    marker: str | None
    reason: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, each with the marker on the line before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent = match["indent"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = "\n".join(line[len(indent) :] for line in lines[i + 1 : end])
        marker = MARKER.match(lines[i - 1]) if i else None
        found.append(
            Block(
                page,
                i + 1,
                match["lang"],
                body + "\n",
                marker["what"] if marker else None,
                marker["why"].strip() if marker else "",
            )
        )
        i = end + 1
    return found


def normalise(text: str) -> list[str]:
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; an expected ``...`` line matches any number of actual lines."""
    if not expected:
        return not actual
    head, *rest = expected
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and matches(rest, actual[1:])


def python_pages() -> list[Path]:
    return [p for p in PAGES if any(b.lang in ("python", "py") for b in blocks(p))]


def console_blocks() -> list[Block]:
    return [b for p in PAGES for b in blocks(p) if b.lang == "console"]


@pytest.fixture
def example_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example service importable with an empty store, penstock reset; dropped afterwards."""
    from bom_sync import store

    monkeypatch.setattr(store, "STORE", store.Store())
    penstock.reset()
    saved = dict(sys.modules)
    cwd = os.getcwd()
    os.chdir(ROOT / "examples")
    try:
        yield
    finally:
        os.chdir(cwd)
        penstock.reset()
        for name in list(sys.modules):
            if name not in saved and name.split(".")[0] == "bom_sync":
                del sys.modules[name]


@pytest.mark.parametrize("page", python_pages(), ids=lambda p: p.name)
def test_python_examples_run(page: Path, example_app: None) -> None:
    """Each Python block runs (or compiles, when marked skip) and prints what is shown."""
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    page_blocks = blocks(page)
    for k, block in enumerate(page_blocks):
        if block.lang not in ("python", "py"):
            continue
        if _included(block):
            continue
        if block.marker == "skip":
            # Fragments may await, as they would inside the reader's coroutine.
            compile(block.text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            assert block.reason, f"{block.where}: say why the example is skipped"
            continue
        code = compile(block.text, block.where, "exec")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            before = set(namespace)
            exec(code, namespace)
            for name in sorted(set(namespace) - before):
                func = namespace[name]
                if name.startswith("test_") and inspect.isfunction(func):
                    _call_test(func)
        shown = next((b for b in page_blocks[k + 1 : k + 2] if b.marker == "output"), None)
        if shown is not None:
            expected, actual = normalise(shown.text), normalise(out.getvalue())
            assert matches(expected, actual), (
                f"{block.where}: output differs from {shown.where}\n"
                f"shown:\n  " + "\n  ".join(expected) + "\nprinted:\n  " + "\n  ".join(actual)
            )


def _included(block: Block) -> bool:
    """A block that only includes a file (``--8<-- "file"``): that file has its own test."""
    lines = [line for line in block.text.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("--8<--") for line in lines)


def _call_test(func: object) -> None:
    assert inspect.isfunction(func)
    params = list(inspect.signature(func).parameters)
    if params == ["penstock_recorder"]:
        with recording() as recorder:
            func(recorder)
    else:
        assert not params, f"{func.__name__}: unsupported fixtures {params}"
        func()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example service with the getting started page's [tool.penstock] table."""
    root = tmp_path_factory.mktemp("docs-project")
    shutil.copytree(
        ROOT / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    table = re.search(r"```toml[^\n]*\n(\[tool\.penstock\].*?)```", page, re.S)
    assert table is not None, "getting started shows a [tool.penstock] table"
    (root / "pyproject.toml").write_text(table[1], encoding="utf-8")
    return root


@pytest.mark.parametrize("block", console_blocks(), ids=lambda b: b.where)
def test_console_examples_print_what_is_shown(block: Block, project: Path) -> None:
    """Each ``$ penstock ...`` command prints the lines shown under it."""
    if block.marker == "skip":
        assert block.reason, f"{block.where}: say why the example is skipped"
        pytest.skip(block.reason)
    commands: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    assert commands, f"{block.where}: no $ command"
    for command, shown in commands:
        command = command.split("  #", 1)[0].strip()
        assert command.startswith(RUNNABLE), (
            f"{block.where}: {command!r} is not a penstock command; mark the block "
            "<!-- test: skip REASON -->"
        )
        argv = shlex.split(command)
        argv = argv[2:] if argv[0] == "python" else ["penstock", *argv[1:]]
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{project / 'examples'}"}
        env["PYTHONUNBUFFERED"] = "1"  # interleaved as on a terminal
        env.pop("PENSTOCK_OUTPUT", None)
        done = subprocess.run(
            [sys.executable, "-m", *argv],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )
        actual = normalise(done.stdout)
        expected = normalise("\n".join(shown))
        assert matches(expected, actual), (
            f"{block.where}: `{command}` printed (exit {done.returncode}):\n  "
            + "\n  ".join(actual)
            + "\nshown:\n  "
            + "\n  ".join(expected)
        )
