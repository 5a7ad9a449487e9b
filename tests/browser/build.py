"""Building real docs sites in temporary folders, as users build theirs (a subprocess each).

A subprocess keeps the imported user modules and their registered flows out of the test
process, and runs the same command line a user types.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.system import ROOT, require_node_package

EXAMPLES = ROOT / "examples"
#: The steps of the example's bom_sync flow declared in the modules the test sites import.
BOM_SYNC = frozenset(
    {
        "handle_kafka_message",
        "sync_reference",
        "upsert_to_db",
        "publish_change_events",
        "update_ebom",
        "enqueue_changelog",
    }
)
#: The folder of the hostile flows module (``hostile_flows``).
APP = Path(__file__).resolve().parent / "app"
#: npm package under tools/node_modules for each Mermaid major version tested.
MERMAID_PACKAGES = {"12": "mermaid", "11": "mermaid11"}

_MERMAID_ELEMENT = re.compile(r"<(?:pre|div)\b[^>]*\bclass=\"(?:[^\"]*\s)?mermaid[\s\"]")


def mermaid_dist(version: str) -> Path:
    """The ``dist`` folder of Mermaid ``version`` ("12" or "11"); skips/fails when missing."""
    return require_node_package(MERMAID_PACKAGES[version]) / "dist"


def run_build(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a docs build command; fail the test with its output when it does not succeed."""
    env = dict(os.environ)
    # Material prints a banner about MkDocs 2 on every build; it is noise here.
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (
        f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done


def copy_mermaid_esm(version: str, static: Path) -> str:
    """Copy Mermaid's ES module build (and its chunks) under ``static``; return its path there.

    sphinxcontrib-mermaid imports Mermaid as an ES module, which loads its chunks relative to
    itself, so both must sit side by side.
    """
    dist = mermaid_dist(version)
    target = static / f"mermaid{version}"
    (target / "chunks").mkdir(parents=True, exist_ok=True)
    shutil.copy2(dist / "mermaid.esm.min.mjs", target / "mermaid.esm.min.mjs")
    shutil.copytree(
        dist / "chunks" / "mermaid.esm.min",
        target / "chunks" / "mermaid.esm.min",
        ignore=shutil.ignore_patterns("*.map"),
    )
    return f"mermaid{version}/mermaid.esm.min.mjs"


def html_pages_with_diagrams(site: Path) -> list[str]:
    """Paths (relative to ``site``) of the built pages that contain a Mermaid block."""
    found = []
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        # A real element, not the words `class="mermaid"` shown as code on a docs page.
        if _MERMAID_ELEMENT.search(text):
            found.append(page.relative_to(site).as_posix())
    return found
