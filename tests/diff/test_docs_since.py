"""``since: REV`` in real MkDocs and Sphinx builds inside a real git repository, and outside one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.diff.conftest import _GIT_ENV
from tests.mkdocs.conftest import Build, run, write_site
from tests.sphinx.html import mermaid_blocks
from tests.support.mermaid import MermaidOracle
from tests.support.system import require_executable

V1 = """
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive():
    pass


@flow("orders")
@step(after="receive")
def fax():
    pass
"""

V2 = """
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive():
    pass


@flow("orders")
@step(after="receive")
def email():
    pass
"""

PAGE = """
# Orders

::: penstock-flow orders
    since: v1
"""

RST = """Orders
======

.. penstock-flow:: orders
   :since: v1
"""

SPHINX_CONF = 'extensions = ["penstock_sphinx"]\npenstock_modules = ["shop.orders"]\n'
SPHINX_CONF += 'penstock_paths = ["src"]\n'


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=root, env={**os.environ, **_GIT_ENV}, check=True, capture_output=True
    )


def in_git(root: Path) -> None:
    """Commit ``src/shop/orders.py`` as V1 (tag v1), then leave V2 in the working tree."""
    require_executable("git", "install git, e.g. apt-get install git")
    module = root / "src" / "shop" / "orders.py"
    module.write_text(textwrap.dedent(V1))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    module.write_text(textwrap.dedent(V2))


def check_highlighted(diagram: str, oracle: MermaidOracle, page: str) -> None:
    # The steps are classed; their colours come from the page's CSS (light and dark).
    assert re.search(r"^    class email ps_added$", diagram, re.M), diagram
    assert re.search(r"^    class fax ps_removed$", diagram, re.M), diagram
    # The legend is HTML below the drawing.
    for line in ("added since v1", "removed since v1", "entrypoint: a run of the flow starts"):
        assert line in page
        assert line not in diagram
    for parsed in oracle.parse_one(diagram):
        assert parsed.ok, parsed.error
        texts = sorted(v["text"] for v in parsed.vertices.values())
        assert texts == sorted(["receive", "email", "fax"])


def test_mkdocs_since_highlights_changes(tmp_path: Path, mermaid_oracle: MermaidOracle) -> None:
    """mkdocs build --strict: the flow drawn with what changed since v1 marked."""
    root = write_site(tmp_path / "site", {"index.md": PAGE})
    in_git(root)
    build = run("mkdocs", root, "--strict")
    assert build.returncode == 0, build.output
    (diagram,) = build.diagrams()
    check_highlighted(diagram, mermaid_oracle, build.page("index"))


def test_mkdocs_since_outside_git_warns_at_the_line(tmp_path: Path) -> None:
    """Outside a git checkout: a warning at page:line, and the plain diagram."""
    root = write_site(tmp_path / "site", {"index.md": PAGE})
    (root / "src" / "shop" / "orders.py").write_text(textwrap.dedent(V2))
    build: Build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    assert "index.md:3: penstock-flow 'orders': since 'v1': drawn without highlights" in (
        build.output
    )
    assert "not inside a git repository" in build.output
    (diagram,) = build.diagrams()
    assert "ps_" not in diagram
    assert "receive --> email" in diagram
    assert run("mkdocs", root, "--strict").returncode != 0


def sphinx_build(srcdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "--no-color",
            "-b",
            "html",
            "-q",
            str(srcdir),
            str(srcdir / "_build"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def sphinx_site(root: Path) -> Path:
    (root / "src" / "shop").mkdir(parents=True)
    (root / "src" / "shop" / "__init__.py").write_text("")
    (root / "conf.py").write_text(SPHINX_CONF)
    (root / "index.rst").write_text(RST)
    return root


@pytest.mark.parametrize("in_repository", [True, False], ids=["git", "no-git"])
def test_sphinx_since(tmp_path: Path, mermaid_oracle: MermaidOracle, in_repository: bool) -> None:
    """sphinx-build: highlighted in a git checkout; outside one a located, typed warning and
    the plain diagram."""
    root = sphinx_site(tmp_path / "docs")
    if in_repository:
        in_git(root)
    else:
        (root / "src" / "shop" / "orders.py").write_text(textwrap.dedent(V2))
    result = sphinx_build(root)
    assert result.returncode == 0, result.stderr
    (diagram,) = mermaid_blocks(root / "_build" / "index.html")
    if in_repository:
        assert "WARNING" not in result.stderr, result.stderr
        check_highlighted(diagram, mermaid_oracle, (root / "_build" / "index.html").read_text())
    else:
        assert "index.rst:4: WARNING: penstock-flow orders: since 'v1': drawn without" in (
            result.stderr
        )
        assert "[penstock.since]" in result.stderr
        assert "ps_" not in diagram


def test_since_takes_observed_but_not_run() -> None:
    """`since` with `observed` puts traffic on the changes; a single `run` does not mix in."""
    from penstock.docs import DiagramOptions, OptionError

    both = DiagramOptions().merged({"since": "v1", "observed": "runs.jsonl"}, where="index.md:3")
    assert (both.since, both.observed) == ("v1", "runs.jsonl")
    with pytest.raises(OptionError, match="option 'run' draws one recorded run"):
        DiagramOptions().merged(
            {"since": "v1", "observed": "runs.jsonl", "run": "abc"}, where="index.md:3"
        )
    with pytest.raises(OptionError, match="'since' must be a git revision written as text"):
        DiagramOptions().merged({"since": 1.1})


# V1 whose entrypoint calls the step, so the recorded runs take the edge receive -> fax.
V1_CALLING = V1.replace("def receive():\n    pass", "def receive():\n    fax()")

RUN_V1 = """
import sys

import penstock
sys.path.insert(0, "src")
from shop.orders import receive

with open("runs.jsonl", "w", encoding="utf-8") as stream:
    penstock.configure(backend="logging", format="json", stream=stream)
    for _ in range(4):
        receive()
    penstock.reset()
"""


def test_mkdocs_since_with_observed_counts_the_removed_edge(tmp_path: Path) -> None:
    """since + observed in a real build: the removed step and edge carry the old flow's calls."""
    page = PAGE + '    observed: "runs.jsonl"\n'
    root = write_site(tmp_path / "site", {"index.md": page})
    module = root / "src" / "shop" / "orders.py"
    module.write_text(textwrap.dedent(V1_CALLING))
    require_executable("git", "install git, e.g. apt-get install git")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    (root / "record.py").write_text(RUN_V1)
    subprocess.run(
        [sys.executable, "record.py"], cwd=root, check=True, capture_output=True, timeout=60
    )
    (root / "src" / "shop" / "orders.py").write_text(textwrap.dedent(V2))
    build = run("mkdocs", root, "--strict")
    assert build.returncode == 0, build.output
    (diagram,) = build.diagrams()
    assert re.search(r'receive -\. "4 calls" \.-> fax', diagram), diagram
    assert "4 calls in 4 runs, last seen" in diagram
    # The legend is below the drawing (HTML).
    assert "removed: calls in the recorded runs" in build.page("index")
    assert "removed: calls in the recorded runs" not in diagram


@pytest.mark.parametrize(
    ("dump", "where"),
    [
        ("[" * 50_000 + "]" * 50_000, "arrays and objects nested 50000 deep"),
        (
            '{"schema": "penstock.flows", "version": 1, "flows": [{"schema": "penstock.flow",'
            ' "version": 2, "flow": 7, "entrypoints": [], "steps": [], "edges": []}]}',
            "flows[0].flow: expected a string, got the integer 7",
        ),
    ],
    ids=["deep", "integer-flow"],
)
def test_mkdocs_since_a_bad_dump_is_a_located_warning(
    tmp_path: Path, dump: str, where: str
) -> None:
    """An invalid dump given to since: warns at page:line, naming the place; the build goes on."""
    page = PAGE.replace("since: v1", "since: old.json")
    root = write_site(tmp_path / "site", {"index.md": page})
    (root / "src" / "shop" / "orders.py").write_text(textwrap.dedent(V2))
    (root / "old.json").write_text(dump)
    build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    assert "index.md:3: penstock-flow 'orders': since 'old.json': drawn without highlights" in (
        build.output
    )
    assert f"old.json: {where}" in build.output
    assert "Traceback" not in build.output


LOOPING = "from penstock import flow\n\nwhile True:\n    pass\n"


def test_mkdocs_since_a_revision_that_never_loads_times_out_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """since_timeout: the loader is stopped, the page warns at its line, nothing is left."""
    page = PAGE.replace("since: v1", "since: loops") + "    since_timeout: 2\n"
    root = write_site(tmp_path / "site", {"index.md": page})
    in_git(root)
    module = root / "src" / "shop" / "orders.py"
    current = module.read_text()
    module.write_text(LOOPING)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "loops")
    git(root, "tag", "loops")
    module.write_text(current)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    assert "index.md:3: penstock-flow 'orders': since 'loops': drawn without highlights" in (
        build.output
    )
    assert "took longer than 2 s" in build.output
    assert list(tmp.iterdir()) == []
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert len(worktrees.splitlines()) == 1


def test_since_timeout_must_be_seconds() -> None:
    from penstock.docs import DiagramOptions, OptionError

    assert DiagramOptions().merged({"since": "v1", "since_timeout": 30}).since_seconds == 30
    assert DiagramOptions().merged({"since": "v1", "since_timeout": "0"}).since_seconds is None
    assert DiagramOptions().since_seconds == 300
    with pytest.raises(OptionError, match="'since_timeout' must be a number of seconds"):
        DiagramOptions().merged({"since": "v1", "since_timeout": "soon"}, where="index.md:3")


def test_sphinx_since_timeout_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """:since-timeout: in a real sphinx-build: a typed warning at the line, nothing left."""
    root = sphinx_site(tmp_path / "docs")
    (root / "index.rst").write_text(
        RST.replace(":since: v1", ":since: loops") + "   :since-timeout: 2\n"
    )
    in_git(root)
    module = root / "src" / "shop" / "orders.py"
    current = module.read_text()
    module.write_text(LOOPING)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "loops")
    git(root, "tag", "loops")
    module.write_text(current)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    result = sphinx_build(root)
    assert result.returncode == 0, result.stderr
    assert "index.rst:4: WARNING: penstock-flow orders: since 'loops': drawn without" in (
        result.stderr
    )
    assert "took longer than 2 s" in result.stderr
    assert list(tmp.iterdir()) == []
