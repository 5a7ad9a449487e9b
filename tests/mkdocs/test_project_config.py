"""MkDocs, the Markdown extension (Zensical) and Sphinx read [tool.penstock] given no modules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from shutil import copytree

import markdown

from penstock_mkdocs import PenstockExtension
from tests.mkdocs.conftest import ORDERS, expected, run, write_modules, write_site
from tests.support.sphinx import run_sphinx

PYPROJECT = '[project]\nname = "shop"\n\n[tool.penstock]\nmodules = ["shop"]\n'

FLAWED = """
from penstock import entrypoint, flow, step


@flow("flawed")
@entrypoint
def begin(): ...


@flow("flawed")
@step(after="begn")
def then(): ...
"""


def test_mkdocs_plugin_without_modules_uses_the_table(tmp_path: Path) -> None:
    """No modules/paths in mkdocs.yml: the package in [tool.penstock] (src layout) is drawn."""
    root = write_site(
        tmp_path / "proj",
        {"index.md": "# Flows\n\n::: penstock-flow orders\n"},
        plugin={"modules": [], "paths": []},
    )
    (root / "pyproject.toml").write_text(PYPROJECT)
    build = run("mkdocs", root, "--strict")
    assert build.returncode == 0, build.output
    assert build.diagrams() == [expected(["shop.orders"], root / "src", "orders")]


def test_mkdocs_plugin_modules_find_the_src_layout_without_paths(tmp_path: Path) -> None:
    """The plugin's own modules with no paths: the project folder and src/ are on sys.path."""
    root = write_site(
        tmp_path / "proj",
        {"index.md": "# Flows\n\n::: penstock-flow orders\n"},
        plugin={"modules": ["shop.orders"], "paths": []},
    )
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    build = run("mkdocs", root, "--strict")
    assert build.returncode == 0, build.output


def test_mkdocs_module_not_found_names_the_folders_and_the_setting(tmp_path: Path) -> None:
    """A package off sys.path: one message naming the folders added and the setting to change."""
    root = write_site(
        tmp_path / "proj",
        {"index.md": "# Flows\n\n::: penstock-flow orders\n"},
        plugin={"modules": ["shop.orders"], "paths": []},
        modules={},
    )
    write_modules(root / "lib", {"shop/orders.py": ORDERS})
    build = run("mkdocs", root, "--strict")
    assert build.returncode != 0
    out = build.output
    assert "could not import module 'shop.orders'" in out
    assert "no module named 'shop' was found on sys.path." in out
    assert f"Folders penstock put on sys.path:\n    {root.resolve()}\n" in out
    assert "add the folder that holds 'shop' with paths of the penstock plugin in mkdocs.yml" in out
    assert "importlib" not in out


def test_no_build_machine_paths_on_a_page(tmp_path: Path) -> None:
    """A non-strict build's failure box shows file:line relative to the project."""
    root = write_site(
        tmp_path / "proj",
        {"index.md": "# Flows\n\n::: penstock-flow flawed\n"},
        plugin={"modules": ["shop.flawed"]},
        modules={"shop/flawed.py": FLAWED},
    )
    build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    page = build.page()
    assert "penstock-error" in page
    assert "src/shop/flawed.py:" in page
    assert str(tmp_path) not in page
    assert str(tmp_path.resolve()) not in page


def test_markdown_extension_without_modules_uses_the_table(tmp_path: Path) -> None:
    """The extension alone (as Zensical runs it) finds pyproject.toml from its base_dir."""
    root = tmp_path / "proj"
    write_modules(root / "src", {"shop/orders.py": ORDERS})
    (root / "pyproject.toml").write_text(PYPROJECT)
    try:
        md = markdown.Markdown(extensions=[PenstockExtension(base_dir=str(root))])
        out = md.convert("::: penstock-flow orders\n")
        assert '<pre class="mermaid"><code>---' in out
        assert "\ngraph TD\n    receive_order" in out
    finally:
        from tests.mkdocs.conftest import forget

        forget(root / "src")


def test_zensical_without_modules_uses_the_table(tmp_path: Path) -> None:
    """A real Zensical build with the extension listed bare draws the project's flows."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mkdocs.yml").write_text(
        "site_name: test\nmarkdown_extensions:\n  - admonition\n  - penstock_mkdocs\n"
    )
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# Flows\n\n::: penstock-flow orders\n")
    write_modules(root / "src", {"shop/orders.py": ORDERS})
    (root / "pyproject.toml").write_text(PYPROJECT)
    build = run("zensical", root, "--clean")
    assert build.returncode == 0, build.output
    assert build.diagrams() == [expected(["shop.orders"], root / "src", "orders")]


def test_sphinx_without_penstock_modules_uses_the_table(tmp_path: Path) -> None:
    """conf.py with neither penstock_modules nor penstock_paths: pyproject.toml above it."""
    project = tmp_path / "proj"
    docs = project / "docs"
    copytree(Path(__file__).parents[1] / "sphinx" / "roots" / "test-basic", docs)
    (project / "src").mkdir()
    (docs / "shop").rename(project / "src" / "shop")
    (docs / "conf.py").write_text(
        textwrap.dedent(
            """
            project = "shop"
            extensions = ["penstock_sphinx"]
            numfig = True
            """
        )
    )
    (project / "pyproject.toml").write_text(PYPROJECT)
    result = run_sphinx(docs, docs / "_b", "-W", timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'class="mermaid"' in (docs / "_b" / "orders.html").read_text()


CHECKOUT = """
from penstock import entrypoint, flow, step


@flow("checkout")
@entrypoint
def start_checkout(): ...


@flow("checkout")
@step(after=start_checkout)
def reserve_stock(): ...
"""

PAYMENT = """
from penstock import flow, step


@flow("checkout")
@step(after="reserve_stock")
def charge_payment(): ...
"""


def test_mkdocs_names_the_module_left_out(tmp_path: Path) -> None:
    """A flow broken only because a module was not imported: the warning names the module."""
    root = write_site(
        tmp_path / "proj",
        {"index.md": "# Flows\n\n::: penstock-flow checkout\n"},
        plugin={"modules": ["shop.payment"], "paths": []},
        modules={"shop/checkout.py": CHECKOUT, "shop/payment.py": PAYMENT},
    )
    (root / "pyproject.toml").write_text(PYPROJECT)
    build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    assert (
        "hint: 'reserve_stock' is defined in src/shop/checkout.py, module 'shop.checkout' "
        "('shop' is in [tool.penstock] modules; modules of the penstock plugin in mkdocs.yml "
        "replaced them), which was not imported: add 'shop.checkout' to modules of the penstock "
        "plugin in mkdocs.yml"
    ) in build.output


def test_sphinx_names_the_module_left_out(tmp_path: Path) -> None:
    """The same in Sphinx: the flow-problems warning carries the hint."""
    project = tmp_path / "proj"
    docs = project / "docs"
    docs.mkdir(parents=True)
    write_modules(project / "src", {"shop/checkout.py": CHECKOUT, "shop/payment.py": PAYMENT})
    (project / "pyproject.toml").write_text(PYPROJECT)
    (docs / "conf.py").write_text(
        'extensions = ["penstock_sphinx"]\npenstock_modules = ["shop.payment"]\n'
    )
    (docs / "index.rst").write_text("Flows\n=====\n\n.. penstock-flow:: checkout\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "--no-color",
            "-b",
            "html",
            "-q",
            str(docs),
            str(docs / "_b"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "module 'shop.checkout'" in result.stderr
    assert "add 'shop.checkout' to penstock_modules in conf.py" in result.stderr
