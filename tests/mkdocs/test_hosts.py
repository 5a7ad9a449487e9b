"""The same extension under ProperDocs (through the plugin) and Zensical (configured directly)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.mkdocs.conftest import ORDERS, Build, expected, run, write_modules, write_site

PAGE = """
---
title: Flows
---
# Flows

::: penstock-flow orders
    direction: LR

```md
::: penstock-flow orders
```

::: penstock-flow ordres
"""


@pytest.fixture(scope="module")
def properdocs(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return run("properdocs", write_site(tmp_path_factory.mktemp("proper"), {"index.md": PAGE}))


def test_properdocs_draws_through_the_mkdocs_plugin(properdocs: Build) -> None:
    """ProperDocs loads the `penstock` plugin from mkdocs.yml and draws the flow."""
    assert properdocs.returncode == 0, properdocs.output
    assert properdocs.diagrams() == [
        expected(["shop.orders"], properdocs.site / "src", "orders", direction="LR")
    ]
    assert "<code>::: penstock-flow orders\n</code>" in properdocs.page()


def test_properdocs_warns_with_page_line(properdocs: Build) -> None:
    """Under ProperDocs the warning names page:line and suggests the right flow."""
    assert "index.md:13: penstock-flow 'ordres': unknown flow 'ordres'" in properdocs.output
    assert "did you mean 'orders'?" in properdocs.output
    assert "penstock-error" in properdocs.page()


def test_properdocs_strict_fails(tmp_path: Path) -> None:
    """`properdocs build --strict` counts the plugin's warnings and fails."""
    build = run("properdocs", write_site(tmp_path, {"index.md": PAGE}), "--strict")
    assert build.returncode == 1
    assert "index.md:13: penstock-flow 'ordres'" in build.output


ZENSICAL_YML = """
site_name: test
markdown_extensions:
  - admonition
  - penstock_mkdocs:
      modules: [shop.orders]
      paths: [src]
      direction: LR
{extra}
"""

ZENSICAL_TOML = """
[project]
site_name = "test"

[project.markdown_extensions.admonition]

[project.markdown_extensions.penstock_mkdocs]
modules = ["shop.orders"]
paths = ["src"]
show_docs = true
{extra}
"""


def zensical_site(root: Path, config: str, name: str, extra: str = "") -> Path:
    """A Zensical project: its config file, one page, the flow package under src/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(textwrap.dedent(config).format(extra=extra))
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(textwrap.dedent(PAGE).lstrip("\n"))
    write_modules(root / "src", {"shop/orders.py": ORDERS})
    return root


@pytest.fixture(scope="module")
def zensical(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = zensical_site(tmp_path_factory.mktemp("zensical"), ZENSICAL_YML, "mkdocs.yml")
    return run("zensical", root, "--clean")


def test_zensical_runs_the_extension_from_mkdocs_yml(zensical: Build) -> None:
    """Zensical (no plugins) draws the flow with the extension's own options."""
    assert zensical.returncode == 0, zensical.output
    assert zensical.diagrams() == [
        expected(["shop.orders"], zensical.site / "src", "orders", direction="LR")
    ]
    assert "<code>::: penstock-flow orders\n</code>" in zensical.page()


def test_zensical_reports_page_line_past_front_matter(zensical: Build) -> None:
    """Zensical strips front matter; the message still gives the line in the source file."""
    assert "index.md:13: penstock-flow 'ordres': unknown flow 'ordres'" in zensical.output
    assert "penstock-error" in zensical.page()


def test_zensical_reads_zensical_toml(tmp_path: Path) -> None:
    """The extension is configured from zensical.toml, paths relative to the project."""
    root = zensical_site(tmp_path / "proj", ZENSICAL_TOML, "zensical.toml")
    build = run("zensical", root, "--clean", "-f", str(root / "zensical.toml"))
    assert build.returncode == 0, build.output
    assert build.diagrams() == [
        expected(["shop.orders"], root / "src", "orders", direction="LR", show_docs=True)
    ]


def test_zensical_strict_option_fails_the_build(tmp_path: Path) -> None:
    """Zensical ignores logged warnings; the extension's strict option makes them fatal."""
    root = zensical_site(tmp_path, ZENSICAL_YML, "mkdocs.yml", extra="      strict: true")
    build = run("zensical", root, "--clean", "--strict")
    assert build.returncode != 0
    assert "DiagramFailure: index.md:13: penstock-flow 'ordres'" in build.output
