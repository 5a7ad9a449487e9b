"""Docs builds with one fault each, in real MkDocs and Sphinx builds: an unknown flow, a cyclic
flow, bad directive options, a module that raises on import, a module with a syntax error.

Each fault gives one located warning (page:line, or the module's file:line), a strict build
(``mkdocs build --strict``, ``sphinx-build -W``) fails, and the rest of the site is unharmed:
the other pages' diagrams are exactly what penstock draws for their flows.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.mkdocs.conftest import ORDERS, expected, run, write_modules, write_site
from tests.sphinx.html import mermaid_blocks

LOOP = '''
from penstock import entrypoint, flow, step


@flow("loop")
@entrypoint
def begin():
    """Begin."""


@flow("loop")
@step(after=["begin", "second"])
def first():
    """Runs after begin, and again after second."""


@flow("loop")
@step(after="first")
def second():
    """Runs after first: a cycle."""
'''

RAISING = '''
from penstock import entrypoint, flow


@flow("rates")
@entrypoint
def convert():
    """Convert."""


RATES = {}["EUR"]
'''

SYNTAX = '''
from penstock import entrypoint, flow


@flow("rates")
@entrypoint
def convert(:
    """Convert."""
'''


@dataclass(frozen=True)
class PageFault:
    """A page whose directive cannot be drawn: how MkDocs and Sphinx pages write it."""

    markdown: str
    rst: str
    #: What the one warning says after the location.
    says: str


PAGE_FAULTS = {
    "unknown-flow": PageFault(
        "::: penstock-flow ordrs",
        ".. penstock-flow:: ordrs",
        "unknown flow 'ordrs'; did you mean 'orders'?",
    ),
    "cyclic-flow": PageFault(
        "::: penstock-flow loop",
        ".. penstock-flow:: loop",
        "flow 'loop' has 1 problem(s):",
    ),
    "bad-options": PageFault(
        "::: penstock-flow orders\n    directoin: LR",
        ".. penstock-flow:: orders\n   :directoin: LR",
        "unknown penstock-flow option 'directoin'",
    ),
}

#: A module that fails to import: its source, and the line the error must point at.
MODULE_FAULTS = {"raises-on-import": (RAISING, 11), "syntax-error": (SYNTAX, 7)}

MODULES = {"shop/orders.py": ORDERS, "shop/loop.py": LOOP}


# --- MkDocs ---------------------------------------------------------------------------------


def _mkdocs_site(root: Path, fault_page: str | None, modules: dict[str, str]) -> Path:
    pages = {
        "index.md": "# Orders\n\n::: penstock-flow orders\n",
        "plain.md": "# Plain\n\nNo diagram on this page.\n",
    }
    if fault_page is not None:
        # Front matter and text before the directive: the warning must count both.
        pages["fault.md"] = f"---\ntitle: Fault\n---\n# Fault\n\nSome text.\n\n{fault_page}\n"
    names = [rel[:-3].replace("/", ".") for rel in modules]
    return write_site(root, pages, plugin={"modules": names}, modules=modules)


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if "WARNING" in line]


@pytest.fixture(scope="module")
def orders_mermaid(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What penstock draws for the flow ``orders`` (the unharmed pages' diagram)."""
    src = tmp_path_factory.mktemp("expected")
    write_modules(src, {"shop/orders.py": ORDERS})
    return expected(["shop.orders"], src, "orders")


@pytest.mark.parametrize("fault", sorted(PAGE_FAULTS))
def test_mkdocs_page_fault(fault: str, tmp_path: Path, orders_mermaid: str) -> None:
    """One warning at fault.md:8, other pages intact, --strict fails."""
    site = _mkdocs_site(tmp_path, PAGE_FAULTS[fault].markdown, MODULES)
    build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    [warning] = _warnings(build.output)
    assert "fault.md:8:" in warning
    assert PAGE_FAULTS[fault].says in warning
    assert build.diagrams("index") == [orders_mermaid]
    assert "No diagram on this page." in build.page("plain")
    assert build.page("fault").count("penstock-error") == 1
    strict = run("mkdocs", site, "--strict")
    assert strict.returncode == 1
    assert "Aborted with 1 warnings in strict mode" in strict.output


@pytest.mark.parametrize("fault", sorted(MODULE_FAULTS))
def test_mkdocs_module_fault(fault: str, tmp_path: Path) -> None:
    """Warnings name the module and culprit file:line; plain pages build; --strict fails."""
    source, line = MODULE_FAULTS[fault]
    site = _mkdocs_site(tmp_path, None, {**MODULES, "shop/rates.py": source})
    build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    warnings = _warnings(build.output)
    assert warnings
    assert all("could not import module 'shop.rates'" in w for w in warnings)
    assert re.search(rf'rates\.py", line {line}\b', build.output)
    assert "No diagram on this page." in build.page("plain")
    strict = run("mkdocs", site, "--strict")
    assert strict.returncode == 1
    assert "could not import module 'shop.rates'" in strict.output


def test_mkdocs_module_fault_leaves_other_flows_drawn(tmp_path: Path, orders_mermaid: str) -> None:
    """A module that fails to import is reported once; flows of the other modules are drawn."""
    site = _mkdocs_site(tmp_path, None, {**MODULES, "shop/rates.py": RAISING})
    build = run("mkdocs", site)
    assert len(_warnings(build.output)) == 1
    assert build.diagrams("index") == [orders_mermaid]


# --- Sphinx ---------------------------------------------------------------------------------


def _sphinx_site(root: Path, fault_page: str | None, modules: dict[str, str]) -> Path:
    names = [rel[:-3].replace("/", ".") for rel in modules]
    write_modules(root, modules)
    (root / "conf.py").write_text(
        textwrap.dedent(
            f"""\
            project = "shop"
            extensions = ["penstock_sphinx"]
            penstock_modules = {names!r}
            penstock_paths = ["."]
            """
        )
    )
    toc = ["orders", "plain"] + (["fault"] if fault_page is not None else [])
    entries = "".join(f"   {page}\n" for page in toc)
    (root / "index.rst").write_text(f"Shop\n====\n\n.. toctree::\n\n{entries}")
    (root / "orders.rst").write_text("Orders\n======\n\n.. penstock-flow:: orders\n")
    (root / "plain.rst").write_text("Plain\n=====\n\nNo diagram on this page.\n")
    if fault_page is not None:
        (root / "fault.rst").write_text(f"Fault\n=====\n\nSome text.\n\n{fault_page}\n")
    return root


def _sphinx_build(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-q",
            "--no-color",
            *args,
            str(src),
            str(src / "_out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=src,
    )


@pytest.mark.parametrize("fault", sorted(PAGE_FAULTS))
def test_sphinx_page_fault(fault: str, tmp_path: Path, orders_mermaid: str) -> None:
    """One located, typed warning at fault.rst:6; the other pages are intact; -W fails on it."""
    src = _sphinx_site(tmp_path / "src", PAGE_FAULTS[fault].rst, MODULES)
    build = _sphinx_build(src)
    assert build.returncode == 0, build.stderr
    [warning] = re.findall(r"^.*WARNING: .*$", build.stderr, re.M)
    assert "fault.rst:6: WARNING: penstock-flow" in warning
    assert PAGE_FAULTS[fault].says in build.stderr
    assert re.search(r"\[penstock\.[a-z-]+\]$", build.stderr.strip())
    assert mermaid_blocks(src / "_out" / "orders.html") == [orders_mermaid.strip()]
    assert "No diagram on this page." in (src / "_out" / "plain.html").read_text()
    assert "penstock could not draw flow" in (src / "_out" / "fault.html").read_text()
    strict = _sphinx_build(src, "-W", "-E")
    assert strict.returncode == 1
    assert "fault.rst:6: WARNING: penstock-flow" in strict.stderr


@pytest.mark.parametrize("fault", sorted(MODULE_FAULTS))
def test_sphinx_module_fault(fault: str, tmp_path: Path) -> None:
    """A -W build fails with one error naming the module and the culprit file:line."""
    source, line = MODULE_FAULTS[fault]
    src = _sphinx_site(tmp_path / "src", None, {**MODULES, "shop/rates.py": source})
    strict = _sphinx_build(src, "-W")
    assert strict.returncode != 0
    assert strict.stderr.count("could not import module 'shop.rates'") == 1
    assert re.search(rf'rates\.py", line {line}\b', strict.stderr)


def test_sphinx_module_fault_leaves_other_flows_drawn(tmp_path: Path, orders_mermaid: str) -> None:
    """A module that fails to import is one warning; the other pages are built and drawn."""
    src = _sphinx_site(tmp_path / "src", None, {**MODULES, "shop/rates.py": RAISING})
    build = _sphinx_build(src)
    assert build.returncode == 0, build.stderr
    assert len(re.findall(r"WARNING: ", build.stderr)) == 1
    assert mermaid_blocks(src / "_out" / "orders.html") == [orders_mermaid.strip()]
