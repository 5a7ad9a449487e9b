"""Docs builds with one fault each, in real MkDocs and Sphinx builds: an unknown flow, a cyclic
flow, bad directive options, a module that raises on import, a module with a syntax error.

Each fault gives one located warning (page:line, or the module's file:line), a strict build
(``mkdocs build --strict``, ``sphinx-build -W``) fails, and the rest of the site is unharmed:
the other pages' diagrams are exactly what penstock draws for their flows.

The builds are independent, so the ``builds`` fixture writes every site and starts every build
at once (a strict build gets its own copy of the site); each test waits for its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.mkdocs.conftest import ORDERS, Build, expected, run, write_modules, write_site
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


Builds = dict[str, "Future[Any]"]


def _sphinx_job(src: Path, *args: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return src, _sphinx_build(src, *args)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, build_pool: ThreadPoolExecutor) -> Builds:
    """Every build of this module, started at once, by the name its test asks for.

    A strict build gets its own copy of the site, so that it never writes over the output the
    lenient build's test reads.
    """
    jobs: Builds = {}

    def mkdocs(key: str, fault_page: str | None, modules: dict[str, str], *args: str) -> None:
        site = _mkdocs_site(tmp_path_factory.mktemp(key), fault_page, modules)
        jobs[key] = build_pool.submit(run, "mkdocs", site, *args)

    def sphinx(key: str, fault_page: str | None, modules: dict[str, str], *args: str) -> None:
        src = _sphinx_site(tmp_path_factory.mktemp(key) / "src", fault_page, modules)
        jobs[key] = build_pool.submit(_sphinx_job, src, *args)

    # Submitted in the order the tests ask for them, so the first test waits least.
    for fault in sorted(PAGE_FAULTS):
        mkdocs(f"mkdocs-page-{fault}", PAGE_FAULTS[fault].markdown, MODULES)
        mkdocs(f"mkdocs-page-{fault}-strict", PAGE_FAULTS[fault].markdown, MODULES, "--strict")
    for fault in sorted(MODULE_FAULTS):
        broken = {**MODULES, "shop/rates.py": MODULE_FAULTS[fault][0]}
        mkdocs(f"mkdocs-module-{fault}", None, broken)
        mkdocs(f"mkdocs-module-{fault}-strict", None, broken, "--strict")
    # The same site as raises-on-import's lenient build: built once, read by two tests.
    assert MODULE_FAULTS["raises-on-import"][0] == RAISING
    jobs["mkdocs-module-raising"] = jobs["mkdocs-module-raises-on-import"]
    for fault in sorted(PAGE_FAULTS):
        sphinx(f"sphinx-page-{fault}", PAGE_FAULTS[fault].rst, MODULES)
        sphinx(f"sphinx-page-{fault}-strict", PAGE_FAULTS[fault].rst, MODULES, "-W", "-E")
    for fault in sorted(MODULE_FAULTS):
        broken = {**MODULES, "shop/rates.py": MODULE_FAULTS[fault][0]}
        sphinx(f"sphinx-module-{fault}-strict", None, broken, "-W")
    sphinx("sphinx-module-raising", None, {**MODULES, "shop/rates.py": RAISING})
    return jobs


@pytest.fixture(scope="module")
def orders_mermaid(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What penstock draws for the flow ``orders`` (the unharmed pages' diagram)."""
    src = tmp_path_factory.mktemp("expected")
    write_modules(src, {"shop/orders.py": ORDERS})
    return expected(["shop.orders"], src, "orders")


@pytest.mark.parametrize("fault", sorted(PAGE_FAULTS))
def test_mkdocs_page_fault(fault: str, builds: Builds, orders_mermaid: str) -> None:
    """One warning at fault.md:8, other pages intact, --strict fails."""
    build: Build = builds[f"mkdocs-page-{fault}"].result()
    assert build.returncode == 0, build.output
    [warning] = _warnings(build.output)
    assert "fault.md:8:" in warning
    assert PAGE_FAULTS[fault].says in warning
    assert build.diagrams("index") == [orders_mermaid]
    assert "No diagram on this page." in build.page("plain")
    assert build.page("fault").count("penstock-error") == 1
    strict: Build = builds[f"mkdocs-page-{fault}-strict"].result()
    assert strict.returncode == 1
    assert "Aborted with 1 warnings in strict mode" in strict.output


@pytest.mark.parametrize("fault", sorted(MODULE_FAULTS))
def test_mkdocs_module_fault(fault: str, builds: Builds) -> None:
    """Warnings name the module and culprit file:line; plain pages build; --strict fails."""
    _, line = MODULE_FAULTS[fault]
    build: Build = builds[f"mkdocs-module-{fault}"].result()
    assert build.returncode == 0, build.output
    warnings = _warnings(build.output)
    assert warnings
    assert all("could not import module 'shop.rates'" in w for w in warnings)
    assert re.search(rf'rates\.py", line {line}\b', build.output)
    assert "No diagram on this page." in build.page("plain")
    strict: Build = builds[f"mkdocs-module-{fault}-strict"].result()
    assert strict.returncode == 1
    assert "could not import module 'shop.rates'" in strict.output


def test_mkdocs_module_fault_leaves_other_flows_drawn(builds: Builds, orders_mermaid: str) -> None:
    """A module that fails to import is reported once; flows of the other modules are drawn."""
    build: Build = builds["mkdocs-module-raising"].result()
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
def test_sphinx_page_fault(fault: str, builds: Builds, orders_mermaid: str) -> None:
    """One located, typed warning at fault.rst:6; the other pages are intact; -W fails on it."""
    src, build = builds[f"sphinx-page-{fault}"].result()
    assert build.returncode == 0, build.stderr
    [warning] = re.findall(r"^.*WARNING: .*$", build.stderr, re.M)
    assert "fault.rst:6: WARNING: penstock-flow" in warning
    assert PAGE_FAULTS[fault].says in build.stderr
    assert re.search(r"\[penstock\.[a-z-]+\]$", build.stderr.strip())
    assert mermaid_blocks(src / "_out" / "orders.html") == [orders_mermaid.strip()]
    assert "No diagram on this page." in (src / "_out" / "plain.html").read_text()
    assert "penstock could not draw flow" in (src / "_out" / "fault.html").read_text()
    _, strict = builds[f"sphinx-page-{fault}-strict"].result()
    assert strict.returncode == 1
    assert "fault.rst:6: WARNING: penstock-flow" in strict.stderr


@pytest.mark.parametrize("fault", sorted(MODULE_FAULTS))
def test_sphinx_module_fault(fault: str, builds: Builds) -> None:
    """A -W build fails with one error naming the module and the culprit file:line."""
    _, line = MODULE_FAULTS[fault]
    _, strict = builds[f"sphinx-module-{fault}-strict"].result()
    assert strict.returncode != 0
    assert strict.stderr.count("could not import module 'shop.rates'") == 1
    assert re.search(rf'rates\.py", line {line}\b', strict.stderr)


def test_sphinx_module_fault_leaves_other_flows_drawn(builds: Builds, orders_mermaid: str) -> None:
    """A module that fails to import is one warning; the other pages are built and drawn."""
    src, build = builds["sphinx-module-raising"].result()
    assert build.returncode == 0, build.stderr
    assert len(re.findall(r"WARNING: ", build.stderr)) == 1
    assert mermaid_blocks(src / "_out" / "orders.html") == [orders_mermaid.strip()]
