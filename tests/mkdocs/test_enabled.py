"""``enabled: false``: the plugin does nothing, and each directive leaves a short note."""

from __future__ import annotations

from pathlib import Path

from tests.mkdocs.conftest import run, write_site

PAGE = """
# Orders

::: penstock-flow orders
    direction: LR

!!! note "In an admonition"

    ::: penstock-map

```md
::: penstock-flow orders
```
"""


def test_disabled_plugin_imports_nothing_adds_nothing_and_leaves_notes(tmp_path: Path) -> None:
    """A strict build passes although the configured module does not exist: nothing is imported;
    no Mermaid, script or stylesheet is added; examples in fences stay as written."""
    site = write_site(
        tmp_path / "site",
        {"index.md": PAGE},
        plugin={"enabled": False, "modules": ["no_such_module_at_all"]},
    )

    build = run("mkdocs", site, "--strict")

    assert build.returncode == 0, build.output
    page = build.page()
    assert "penstock" not in build.output
    assert build.diagrams() == []
    assert page.count('class="penstock-disabled"') == 2
    assert "diagram of flow <code>orders</code>: not drawn" in page
    assert "map of flows: not drawn" in page
    assert "direction: LR" not in page  # the option lines went with the directive
    assert "::: penstock-flow orders" in page  # the example inside the fence
    assert not (site / "site" / "assets" / "javascripts" / "penstock").exists()
    assert "penstock.css" not in page


def test_enabled_is_the_default(tmp_path: Path) -> None:
    """Without the option, the same page draws its diagram (the notes are only for false)."""
    site = write_site(tmp_path / "site", {"index.md": PAGE.replace("::: penstock-map", "")})

    build = run("mkdocs", site, "--strict")

    assert build.returncode == 0, build.output
    assert len(build.diagrams()) == 1
    assert "penstock-disabled" not in build.page()
