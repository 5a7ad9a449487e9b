"""penstock.docs: what both docs extensions rely on."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

import penstock
from penstock import docs
from penstock._declared.registry import REGISTRY
from tests.core.conftest import ModuleMaker

SOURCE = """
from penstock import entrypoint, flow, step

@flow("served")
@entrypoint
def receive(): ...

@flow("served")
@step(after="receive")
def {name}(): ...
"""


def test_flow_diagram_renders_and_lists_sources() -> None:
    """A known flow gives its Mermaid text and the files it comes from."""
    d = docs.flow_diagram("bom_sync", docs.DiagramOptions(direction="lr"))
    # Drawn at its natural size in a docs page (a wide flow scrolls instead of shrinking).
    assert d.mermaid.startswith(
        '---\nconfig: {"flowchart": {"useMaxWidth": false}}\n---\ngraph LR\n'
    )
    assert [Path(f).name for f in d.source_files] == ["consumer.py", "sync.py"]


def test_unknown_flow_has_suggestions() -> None:
    """An unknown flow raises UnknownFlowError with a did-you-mean."""
    with pytest.raises(docs.UnknownFlowError, match="did you mean 'bom_sync'") as info:
        docs.flow_diagram("bom-sync")
    assert info.value.suggestions == ["bom_sync"]


def test_flow_with_problems_is_refused_unless_allowed(make_module: ModuleMaker) -> None:
    """A cyclic flow raises FlowProblemsError naming the cycle; allow_problems draws it."""
    make_module(
        "cyclic",
        """
from penstock import entrypoint, flow, step

@flow("loop")
@entrypoint(after="b")
def a(): ...

@flow("loop")
@step(after="a")
def b(): ...
""",
    )
    with pytest.raises(docs.FlowProblemsError, match="a -> b -> a"):
        docs.flow_diagram("loop")
    d = docs.flow_diagram("loop", docs.DiagramOptions(allow_problems=True))
    assert "a --> b" in d.mermaid
    assert "b --> a" in d.mermaid


def test_options_are_validated_with_suggestions() -> None:
    """Unknown options and bad values are OptionErrors that say what is allowed."""
    base = docs.DiagramOptions()
    with pytest.raises(docs.OptionError, match="did you mean 'direction'"):
        base.merged({"directon": "LR"}, where="page.md:3")
    with pytest.raises(docs.OptionError, match="page.md:3: direction 'up'"):
        base.merged({"direction": "up"}, where="page.md:3")
    with pytest.raises(docs.OptionError, match="show_docs"):
        base.merged({"show_docs": "yes"})
    assert base.merged({"direction": "rl", "title": 5}).title == "5"


def test_source_links(tmp_path: Path) -> None:
    """link_source turns nodes into links built from the template."""
    root = Path(penstock.get_flow("bom_sync").step("sync_reference").file).parents[2]
    opts = docs.DiagramOptions(
        link_source=True,
        source_url="https://git.example/app/blob/main/{path}#L{line}",
        source_root=str(root),
    )
    text = docs.flow_diagram("bom_sync", opts).mermaid
    line = penstock.get_flow("bom_sync").step("sync_reference").line
    assert (
        f'    click sync_reference href "https://git.example/app/blob/main/'
        f'examples/bom_sync/sync.py#L{line}" "bom_sync.sync.sync_reference"\n'
    ) in text
    assert str(root) not in text  # no build-machine paths in a published diagram


def test_oversized_flow_is_refused(make_module: ModuleMaker) -> None:
    """More than 500 edges raises a DocsError of kind diagram-too-large, with guidance."""
    lines = ["from penstock import entrypoint, flow, step", "", "@flow('huge')", "@entrypoint",
             "def s0(): ..."]  # fmt: skip
    for i in range(1, 503):
        lines += ["@flow('huge')", f"@step(after='s{i - 1}')", f"def s{i}(): ..."]
    make_module("hugeflow", "\n".join(lines) + "\n")
    with pytest.raises(penstock.DocsError, match="maxEdges") as caught:
        docs.flow_diagram("huge")
    assert caught.value.kind == "diagram-too-large"


def test_load_modules_reports_import_errors(tmp_path: Path) -> None:
    """A module that raises is reported by name with the original traceback."""
    (tmp_path / "brokenmod.py").write_text("import does_not_exist_anywhere\n")
    with pytest.raises(docs.ModuleImportError) as info:
        docs.load_modules(["brokenmod"], [tmp_path])
    assert info.value.module == "brokenmod"
    assert "No module named 'does_not_exist_anywhere'" in info.value.details
    sys.path.remove(str(tmp_path))


def test_fresh_load_sees_edits_without_growing(tmp_path: Path) -> None:
    """Re-importing fresh after an edit shows the new step and keeps the registry size."""
    mod = tmp_path / "servedmod.py"
    mod.write_text(SOURCE.format(name="first"))
    try:
        files = docs.load_modules(["servedmod"], [tmp_path], fresh=True)
        assert str(mod) in files
        size = len(REGISTRY)
        for i in range(5):
            mod.write_text(SOURCE.format(name=f"edit{i}"))
            # Same size, same second: stale bytecode must not win.
            os.utime(mod, (time.time(), time.time()))
            docs.load_modules(["servedmod"], [tmp_path], fresh=True)
            assert [s.name for s in penstock.get_flow("served").steps] == ["receive", f"edit{i}"]
            assert len(REGISTRY) == size
    finally:
        sys.modules.pop("servedmod", None)
        sys.path.remove(str(tmp_path))


def test_fresh_load_keeps_installed_packages_under_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A virtualenv inside a project folder is not re-imported: only the project's code is.

    Re-importing Markdown under a running MkDocs made its extension classes differ from the
    ones MkDocs checks against ("must be of type markdown.extensions.Extension").
    """
    from penstock._project import modules

    packages = tmp_path / ".venv" / "lib" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "installedmod.py").write_text("VALUE = 1\n")
    (tmp_path / "projectmod.py").write_text(SOURCE.format(name="first"))
    monkeypatch.setattr(modules, "installed_dirs", lambda: (str(packages),))
    monkeypatch.syspath_prepend(str(packages))
    try:
        import installedmod  # type: ignore[import-not-found]

        main = sys.modules["__main__"]
        docs.load_modules(["projectmod"], [tmp_path], fresh=True)
        first = sys.modules["projectmod"]
        docs.load_modules(["projectmod"], [tmp_path], fresh=True)
        assert sys.modules["projectmod"] is not first
        assert sys.modules["installedmod"] is installedmod
        assert sys.modules["__main__"] is main
    finally:
        for name in ("projectmod", "installedmod"):
            sys.modules.pop(name, None)
        sys.path.remove(str(tmp_path))


def test_installed_dirs_hold_this_interpreters_packages() -> None:
    """The real list covers where MkDocs' own dependencies are installed."""
    import markdown

    from penstock._project.modules import installed_dirs

    assert any(os.path.abspath(markdown.__file__).startswith(d + os.sep) for d in installed_dirs())
    assert any(os.path.abspath(os.__file__).startswith(d + os.sep) for d in installed_dirs())
