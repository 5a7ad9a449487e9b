"""MkDocs and Sphinx projects that draw the ``shop`` flow over recorded runs."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

from tests.observed import shop

SHOP_SOURCE = Path(shop.__file__).read_text(encoding="utf-8")


def write_shop_package(src: Path) -> None:
    """``shopsite.declared`` declares the shop flow (a copy of the tests' module)."""
    pkg = src / "shopsite"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "shop.py").write_text(SHOP_SOURCE)
    (pkg / "declared.py").write_text("from shopsite import shop\n\nshop.declare()\n")


def failed_run(log: Path) -> str:
    """The correlation ID of a run that failed, from a JSON log."""
    for line in log.read_text().splitlines():
        if '"status": "error"' in line:
            return str(json.loads(line)["correlation_id"])
    raise AssertionError("no failed run")


def mkdocs_site(
    root: Path, log: Path, *, missing: bool = True, extra: dict[str, Any] | None = None
) -> Path:
    """A Material site: the overlay on one page, one run replayed on another, a missing file."""
    from tests.mkdocs.conftest import write_site

    runs = root / "runs"
    runs.mkdir(parents=True)
    shutil.copy(log, runs / "app.log")
    run = failed_run(log)
    pages = {
        "index.md": "# Shop\n\n::: penstock-flow shop\n    observed: runs/*.log\n",
        "run.md": f"# One run\n\n::: penstock-flow shop\n    observed: runs/app.log\n"
        f"    run: '{run[:12]}'\n",
    }
    if missing:
        pages["missing.md"] = "# Missing\n\n::: penstock-flow shop\n    observed: old/*.log\n"
    site = write_site(
        root, pages, plugin={"modules": ["shopsite.declared"]}, modules={}, extra=extra
    )
    write_shop_package(site / "src")
    return site


def sphinx_project(root: Path, log: Path, *, conf_extra: str = "") -> Path:
    """A Sphinx project (sphinxcontrib-mermaid) with the same three pages, in reST."""
    root.mkdir(parents=True, exist_ok=True)
    write_shop_package(root)
    (root / "runs").mkdir()
    shutil.copy(log, root / "runs" / "app.log")
    run = failed_run(log)
    (root / "conf.py").write_text(
        textwrap.dedent(
            """
            project = "shop"
            extensions = ["penstock_sphinx"]
            penstock_modules = ["shopsite.declared"]
            penstock_paths = ["."]
            penstock_observed = "runs/*.log"
            """
        )
        + conf_extra
    )
    (root / "index.rst").write_text(
        "Shop\n====\n\n.. penstock-flow:: shop\n\n.. toctree::\n\n   run\n   missing\n"
    )
    (root / "run.rst").write_text(
        f"One run\n=======\n\n.. penstock-flow:: shop\n   :run: {run[:12]}\n"
    )
    (root / "missing.rst").write_text(
        "Missing\n=======\n\n.. penstock-flow:: shop\n   :observed: old/*.log\n"
    )
    return root
