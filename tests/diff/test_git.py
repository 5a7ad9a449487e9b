"""`penstock diff` between real git revisions, the working tree and dump files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.diff.conftest import Repo


def flows_of(data: dict[str, Any]) -> dict[str, Any]:
    return {name: entry for name, entry in data["flows"].items() if entry["status"] != "unchanged"}


def test_rename_remove_add_and_line_moves(repo: Repo) -> None:
    """v1 -> v2: a step renamed in place, one removed, one added; moved lines are no change."""
    data = repo.diff_json("v1", "v2")
    assert data["schema"] == "penstock.diff"
    assert data["changed"] is True
    assert data["flows"]["billing"]["status"] == "unchanged"
    orders = data["flows"]["orders"]
    assert orders["status"] == "changed"
    assert orders["steps"] == {
        "added": ["notify"],
        "removed": ["legacy_fax"],
        "changed": ["check"],
        "renamed": [["validate", "check"]],
        "probable_renames": [],
        "moved_in": [],
        "moved_out": [],
    }
    # The rename alone changes no edge: receive -> validate is receive -> check.
    assert orders["edges"] == {
        "added": [["reserve", "notify"]],
        "removed": [["reserve", "legacy_fax"]],
        "conditions": [],
    }
    assert orders["changes"] == {"check": {"name": ["validate", "check"]}}
    assert orders["entrypoints"] == {"gained": [], "lost": []}


def test_moves_between_flows_descriptions_entrypoints_and_new_flows(repo: Repo) -> None:
    """v2 -> v3: a step moved to another flow, a description changed, a flow added."""
    data = repo.diff_json("v2", "v3")
    flows = data["flows"]
    assert flows["orders"]["steps"]["moved_out"] == [["reserve", "billing"]]
    assert flows["orders"]["steps"]["removed"] == ["reserve"]
    assert flows["orders"]["edges"] == {
        "added": [["check", "notify"]],
        "removed": [["check", "reserve"], ["reserve", "notify"]],
        "conditions": [],
    }
    assert flows["orders"]["entrypoints"] == {"gained": ["check"], "lost": []}
    assert flows["orders"]["changes"] == {"check": {"kind": ["step", "entrypoint"]}}
    assert flows["billing"]["steps"]["moved_in"] == [["reserve", "orders"]]
    assert flows["billing"]["steps"]["added"] == ["reserve"]
    assert flows["billing"]["edges"]["added"] == [["charge", "reserve"]]
    assert flows["billing"]["changes"] == {
        "charge": {"doc": ["Charge the card.", "Charge the card, or the wallet."]}
    }
    returns = flows["returns"]
    assert returns["status"] == "added"
    assert returns["steps"]["added"] == ["refund", "request_return"]
    assert returns["edges"]["added"] == [["request_return", "refund"]]


def test_removed_flow(repo: Repo) -> None:
    """v3 -> v4: a flow whose module is gone is removed, with all its steps and edges."""
    returns = repo.diff_json("v3", "v4")["flows"]["returns"]
    assert returns["status"] == "removed"
    assert returns["steps"]["removed"] == ["refund", "request_return"]
    assert returns["edges"]["removed"] == [["request_return", "refund"]]


def test_working_tree_is_the_default_new_and_nothing_is_touched(repo: Repo, tmp_path: Path) -> None:
    """NEW defaults to the uncommitted working tree; HEAD, index, tree and worktrees stay as
    they were, and no temporary checkout is left behind."""
    before = repo.state()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "penstock", "diff", "v4", "-f", "json"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["new"] == "working tree"
    assert data["old"].startswith("v4 (")
    assert flows_of(data) == {
        "orders": {
            "status": "changed",
            "steps": {
                "added": ["archive"],
                "removed": [],
                "changed": [],
                "renamed": [],
                "probable_renames": [],
                "moved_in": [],
                "moved_out": [],
            },
            "edges": {"added": [["notify", "archive"]], "removed": [], "conditions": []},
            "entrypoints": {"gained": [], "lost": []},
            "changes": {},
        }
    }
    assert repo.state() == before
    assert list(tmp_path.iterdir()) == []


def test_text_format_is_a_stat(repo: Repo) -> None:
    """The default text output: an aligned stat line per changed flow, every change under it
    (moves, renames, entrypoints included), and a totals line."""
    out = repo.penstock("diff", "v2", "v3")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:-1] == [
        " billing | changed  steps +1 ~1  edges +1",
        "     + step reserve: moved in from flow orders",
        "     ~ step charge: description changed",
        "     + edge charge -> reserve",
        " orders  | changed  steps -1 ~1  edges +1 -2  entrypoints +1",
        "     - step reserve: moved to flow billing",
        "     ~ step check: now an entrypoint",
        "     + edge check -> notify",
        "     - edge check -> reserve",
        "     - edge reserve -> notify",
        "     + entrypoint check",
        " returns | added    steps +2  edges +1  entrypoints +1",
        "     + step refund",
        "     + step request_return",
        "     + edge request_return -> refund",
        "     + entrypoint request_return",
    ]
    assert out.stdout.splitlines()[-1].startswith(
        " 3 flows changed (1 added): steps +3 -1 ~2, edges +3 -2 (v2 ("
    )


def test_exit_code(repo: Repo) -> None:
    """--exit-code: 1 when a flow differs, 0 when none does; without it always 0."""
    assert repo.penstock("diff", "v1", "v2", "--exit-code").returncode == 1
    same = repo.penstock("diff", "v1", "v1", "--exit-code")
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("no flow changes between v1 (")
    # v1 -> v2 changes orders only: billing alone is unchanged.
    assert repo.penstock("diff", "v1", "v2", "--exit-code", "--flow", "billing").returncode == 0


def test_flow_option_selects_and_suggests(repo: Repo) -> None:
    """--flow keeps one flow; an unknown name is an error with a did-you-mean."""
    data = repo.diff_json("v2", "v3", "--flow", "returns")
    assert list(data["flows"]) == ["returns"]
    bad = repo.penstock("diff", "v2", "v3", "--flow", "retruns")
    assert bad.returncode == 2
    assert "flow 'retruns' is in neither" in bad.stderr
    assert "did you mean 'returns'" in bad.stderr


def test_broken_revision_names_revision_module_and_line(repo: Repo) -> None:
    """A revision whose module fails to import: the revision, the module and file:line."""
    before = repo.state()
    out = repo.penstock("diff", "broken", "v4")
    assert out.returncode == 2
    assert "revision 'broken' (" in out.stderr
    assert "could not import module 'shop.billing' (shop/billing.py:4)" in out.stderr
    assert "RuntimeError: billing is broken" in out.stderr
    # As NEW, and with OLD broken too: OLD's error comes first, and nothing is left behind.
    as_new = repo.penstock("diff", "v4", "broken")
    assert as_new.returncode == 2
    assert "revision 'broken' (" in as_new.stderr
    both = repo.penstock("diff", "broken", "broken~0")
    assert both.stderr.startswith("penstock diff: revision 'broken' (")
    assert repo.state() == before


def test_syntax_error_in_a_revision_names_the_line(repo: Repo) -> None:
    """A revision with a syntax error: the module, file:line and the SyntaxError."""
    out = repo.penstock("diff", "syntax", "v4")
    assert out.returncode == 2
    assert "revision 'syntax' (" in out.stderr
    assert "could not import module 'shop.billing' (shop/billing.py:4)" in out.stderr
    assert "SyntaxError" in out.stderr


def test_unknown_revision_suggests(repo: Repo) -> None:
    """An unknown revision is an error with a did-you-mean among branches and tags."""
    out = repo.penstock("diff", "v22")
    assert out.returncode == 2
    assert "'v22' is neither a file nor a revision" in out.stderr
    assert "did you mean 'v2'?" in out.stderr


def test_outside_git_a_revision_is_an_error(tmp_path: Path) -> None:
    """Outside a repository, a name that is not a file cannot be a revision."""
    out = subprocess.run(
        [sys.executable, "-m", "penstock", "diff", "HEAD~1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)},
        timeout=60,
    )
    assert out.returncode == 2
    assert "is not a file, and" in out.stderr
    assert "not inside a git repository" in out.stderr


def test_modules_given_override_each_revisions_configuration(repo: Repo) -> None:
    """-m picks the modules for both sides instead of their [tool.penstock]."""
    data = repo.diff_json("v2", "v3", "-m", "shop.orders")
    # No returns flow (its module is not imported), and billing holds only what orders.py adds.
    assert sorted(data["flows"]) == ["billing", "orders"]
    billing = data["flows"]["billing"]
    assert billing["status"] == "added"
    assert billing["steps"]["added"] == ["reserve"]
    assert billing["steps"]["moved_in"] == [["reserve", "orders"]]


def test_dump_files_compare_like_revisions(repo: Repo, tmp_path: Path) -> None:
    """Dumps written at two revisions compare exactly as the revisions themselves do."""
    dumps = {}
    for tag in ("v1", "v2", "v3"):
        tree = tmp_path / tag
        tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", tag], cwd=repo.path, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        out = repo.penstock("dump", "-o", str(tmp_path / f"{tag}.json"), cwd=tree)
        assert out.returncode == 0, out.stderr
        dumps[tag] = str(tmp_path / f"{tag}.json")
    for old, new in (("v1", "v2"), ("v2", "v3")):
        from_files = repo.diff_json(dumps[old], dumps[new])
        from_git = repo.diff_json(old, new)
        assert from_files["flows"] == from_git["flows"]
        assert from_files["old"] == dumps[old]
    # A dump file and a revision mix.
    mixed = repo.diff_json(dumps["v1"], "v2")
    assert mixed["flows"] == repo.diff_json("v1", "v2")["flows"]


def test_a_dump_of_a_revision_equals_the_dump_of_its_checkout(repo: Repo, tmp_path: Path) -> None:
    """`penstock dump` in two different checkouts of one revision gives the same bytes."""
    texts = []
    for name in ("a", "b"):
        tree = tmp_path / name
        tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", "v3"], cwd=repo.path, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        out = repo.penstock("dump", cwd=tree)
        assert out.returncode == 0, out.stderr
        texts.append(out.stdout)
    assert texts[0] == texts[1]
    data = json.loads(texts[0])
    assert [f["flow"] for f in data["flows"]] == ["billing", "orders", "returns"]
    files = {s["file"] for f in data["flows"] for s in f["steps"]}
    assert files == {"shop/billing.py", "shop/orders.py", "shop/returns.py"}


@pytest.mark.parametrize("content", ["not json", '{"schema": "penstock.flows", "version": 9}'])
def test_a_bad_dump_file_is_named(repo: Repo, tmp_path: Path, content: str) -> None:
    """A file that is not a dump of a known version is an error naming the file."""
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = repo.penstock("diff", str(bad), "v1")
    assert out.returncode == 2
    assert f"{bad} is not a" in out.stderr


def test_shallow_clone_says_how_to_fetch(repo: Repo, tmp_path: Path) -> None:
    """In a shallow clone, a missing revision's error says how to fetch it."""
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    out = repo.penstock("diff", "v1", cwd=clone)
    assert out.returncode == 2
    assert "shallow clone" in out.stderr
    assert "fetch-depth: 0" in out.stderr


def test_a_folder_missing_at_the_revision_is_named(repo: Repo, tmp_path: Path) -> None:
    """Run from a folder the old revision does not have: the error names the folder."""
    sub = repo.path / "later"
    sub.mkdir(exist_ok=True)
    try:
        out = repo.penstock("diff", "v1", cwd=sub)
    finally:
        sub.rmdir()
    assert out.returncode == 2
    assert "revision 'v1' has no folder 'later' to run in" in out.stderr
