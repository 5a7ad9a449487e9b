"""Worked examples of the docs run as shown: their output is the one printed on the page."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.support.system import ROOT

#: (page, example script): the page shows the script's output in the ```text block that
#: follows an "output of <script>" comment.
EXAMPLES = [("docs/writing-a-backend.md", "docs/examples/counting_backend.py")]


def shown_output(page: str, script: str) -> str:
    text = (ROOT / page).read_text(encoding="utf-8")
    m = re.search(rf"<!-- output of {re.escape(script)}.*?-->\n```text\n(.*?)```", text, re.S)
    assert m, f"{page} shows no output block for {script}"
    return m.group(1)


@pytest.mark.parametrize(("page", "script"), EXAMPLES)
def test_example_prints_what_its_page_shows(page: str, script: str) -> None:
    """Running the example gives exactly the output its page shows."""
    proc = subprocess.run(
        [sys.executable, script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown_output(page, script)


def test_page_includes_every_part_of_its_example() -> None:
    """The page includes each marked section of the example file, and nothing unmarked."""
    page = (ROOT / "docs/writing-a-backend.md").read_text(encoding="utf-8")
    source = (ROOT / "docs/examples/counting_backend.py").read_text(encoding="utf-8")
    sections = set(re.findall(r"# --8<-- \[start:(\w+)\]", source))
    included = set(re.findall(r'--8<-- "docs/examples/counting_backend\.py:(\w+)"', page))
    assert sections == included == {"backend", "flow", "run"}


def test_snippet_includes_are_intact_and_point_at_files() -> None:
    """Every `--8<--` include in the docs is well formed (no formatter mangled it) and exists."""
    for page in sorted((ROOT / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert "--8 <" not in text, f"{page.name}: a mangled snippet include"
        for target in re.findall(r'--8<-- "([^":]+)', text):
            assert (ROOT / target).is_file(), f"{page.name} includes missing {target}"
