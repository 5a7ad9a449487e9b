"""Every example in docs/ and README.md runs as written, and its shown output is checked.

A small collector over the Markdown files (no third-party tool). A block titled with a file name
(```` ```python title="shop/orders.py" ````) is that file: each page gets a fresh folder, its
titled blocks are written there, and the page's examples run in that folder, in page order, in
one subprocess per page (``page_runner.py``), so a file that forgets an import fails as it would
for a reader. The folder starts with a copy of ``examples/`` and a ``pyproject.toml`` naming the
example service's modules (the README's table), which a page's own titled files replace.

Markers, HTML comments the site does not show, on the line right before a fence:

- ``<!-- test: skip REASON -->``: the block is not run (a fragment, or it needs a service);
  Python blocks are still compiled, so a syntax error is caught.
- ``<!-- test: output -->`` before a ``text`` block: the standard output of the Python block
  just before it, compared line by line.
- ``<!-- test: continues -->`` before a Python block: it runs in the namespace of the block
  before it (it depends on it, and says so). Any other block runs on its own, with the modules
  and flows of earlier blocks forgotten.

A block that defines ``test_*`` functions has them called (``penstock_recorder`` is passed a
recording backend). Console blocks run each ``$ penstock ...``, ``$ python -m ...``,
``$ python FILE``, ``$ mkdocs build`` or ``$ sphinx-build`` command in the folder and compare
what it prints (both streams, as a terminal shows them) with the lines under it; a docs build
must also exit 0. Everywhere, a line ``...`` matches any lines, and
timestamps, IDs and durations match any value. A block that only includes a file
(``--8<-- "docs/examples/x.py:part"``) is left to the test of that file.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.system import ROOT

PAGES = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"])
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)$")
TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')
MARKER = re.compile(r"^\s*<!-- test: (?P<what>skip|output|continues)\b(?P<why>.*?)-->\s*$")
#: Console commands the test runs; any other needs a skip marker that says why.
RUNNABLE = re.compile(
    r"^(penstock|python -m \w+|python [\w/.-]+\.py|mkdocs build|sphinx-build)( |$)"
)
RUNNER = Path(__file__).with_name("page_runner.py")

#: The project a page starts from when it writes no pyproject.toml of its own.
DEFAULT_PYPROJECT = """\
[tool.penstock]
modules = ["bom_sync.consumer", "bom_sync.sync"]
paths = ["examples"]
"""

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
    title: str | None = None

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
        title = TITLE.search(match["attrs"])
        found.append(
            Block(
                page,
                i + 1,
                match["lang"],
                body + "\n",
                marker["what"] if marker else None,
                marker["why"].strip() if marker else "",
                title["title"] if title else None,
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


def _included(block: Block) -> bool:
    """A block that only includes a file (``--8<-- "file"``): that file has its own test."""
    lines = [line for line in block.text.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("--8<--") for line in lines)


def _resolved(block: Block) -> str:
    """The text a reader sees: a block that includes a file (``--8<-- "path"``) shows it."""
    if not _included(block):
        return block.text
    parts = []
    for line in block.text.split():
        if line == "--8<--":
            continue
        target, _, section = line.strip('"').partition(":")
        text = (ROOT / target).read_text(encoding="utf-8")
        if section:
            found = re.search(
                rf"# --8<-- \[start:{section}\]\n(.*?)# --8<-- \[end:{section}\]", text, re.S
            )
            assert found, f"{block.where}: no section {section!r} in {target}"
            text = found[1]
        parts.append(text)
    return "".join(parts)


def _is_python(block: Block) -> bool:
    return block.lang in ("python", "py")


@dataclass
class Check:
    """What a step of the page must print, and where the page shows it."""

    where: str
    shown: list[str] | None
    #: A docs build: whatever it prints, it must exit 0.
    must_succeed: bool = False


def plan(page: Path) -> tuple[list[dict[str, Any]], list[Check], dict[str, str]]:
    """The page's steps for the runner, what each must print, and the files to write."""
    page_blocks = blocks(page)
    files: dict[str, str] = {}
    steps: list[dict[str, Any]] = []
    checks: list[Check] = []
    for k, block in enumerate(page_blocks):
        if block.title is not None:
            files[block.title] = _resolved(block)
            if _is_python(block):
                compile(block.text, block.where, "exec")
            continue
        if _included(block):
            continue
        if block.marker == "skip":
            assert block.reason, f"{block.where}: say why the example is skipped"
            if _is_python(block):
                # Fragments may await, as they would inside the reader's coroutine.
                compile(block.text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            continue
        if _is_python(block):
            shown = next((b for b in page_blocks[k + 1 : k + 2] if b.marker == "output"), None)
            steps.append(
                {
                    "kind": "python",
                    "where": block.where,
                    "text": block.text,
                    "continues": block.marker == "continues",
                    # Files written by titled blocks further down exist already: a reader
                    # has the whole page.
                }
            )
            checks.append(Check(block.where, normalise(shown.text) if shown else None))
        elif block.lang == "console":
            commands = _commands(block)
            for command, shown in commands:
                steps.append({"kind": "console", "where": block.where, "command": command})
                checks.append(
                    Check(
                        f"{block.where} `{command}`",
                        normalise("\n".join(shown)),
                        must_succeed=command.startswith(("mkdocs", "sphinx-build")),
                    )
                )
    return steps, checks, files


def _commands(block: Block) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:].split("  #", 1)[0].strip(), []))
        elif commands:
            commands[-1][1].append(line)
    assert commands, f"{block.where}: no $ command"
    for command, _ in commands:
        assert RUNNABLE.match(command), (
            f"{block.where}: {command!r} is not a command this test runs; mark the block "
            "<!-- test: skip REASON -->"
        )
    return commands


def runnable_pages() -> list[Path]:
    return [p for p in PAGES if plan(p)[0]]


def _folder(root: Path, files: dict[str, str]) -> list[str]:
    """Lay the page's folder out; return what goes on ``sys.path`` for its examples."""
    shutil.copytree(
        ROOT / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "pyproject.toml").write_text(DEFAULT_PYPROJECT, encoding="utf-8")
    for name, text in files.items():
        target = root / name
        assert root in target.resolve().parents, f"{name}: a page writes inside its folder"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    # A page that writes Python files is about them; the example service would shadow them.
    own_code = any(name.endswith(".py") for name in files)
    return [str(root)] if own_code else [str(root), str(root / "examples")]


@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: p.name)
def test_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    """The page's files, written out, and its examples run in order print what it shows."""
    steps, checks, files = plan(page)
    sys_path = _folder(tmp_path, files)
    spec = tmp_path.parent / f"{tmp_path.name}-steps.json"
    results_file = tmp_path.parent / f"{tmp_path.name}-results.json"
    spec.write_text(json.dumps({"steps": steps, "sys_path": sys_path}), encoding="utf-8")
    env = {**os.environ}
    env.pop("PYTHONPATH", None)
    # `penstock` and `python` are this environment's, as in an activated virtualenv.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(spec), str(results_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(results_file.read_text(encoding="utf-8"))
    failures = []
    for check, result in zip(checks, results, strict=True):
        if result["error"]:
            failures.append(f"{check.where} raised:\n{result['error']}")
            continue
        actual = normalise(result["output"])
        if check.must_succeed and result.get("exit"):
            failures.append(f"{check.where} failed (exit {result['exit']}):\n{result['output']}")
            continue
        if check.shown is not None and not matches(check.shown, actual):
            failures.append(
                f"{check.where} printed (exit {result.get('exit', 0)}):\n  "
                + "\n  ".join(actual)
                + "\nshown:\n  "
                + "\n  ".join(check.shown)
            )
    assert not failures, "\n\n".join(failures)


def test_titled_blocks_name_files_inside_the_folder() -> None:
    """Every title= is a relative file name (what a reader saves the block as)."""
    for page in PAGES:
        for block in blocks(page):
            if block.title is not None:
                assert not block.title.startswith(("/", "..")), block.where
                assert "." in Path(block.title).name, f"{block.where}: {block.title!r}"
