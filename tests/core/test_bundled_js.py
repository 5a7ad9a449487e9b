"""The browser files penstock ships: present, pinned as declared, licensed, inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from penstock import docs
from penstock._project import site_assets
from tests.support.system import ROOT, missing


def test_shipped_files_match_the_declared_versions() -> None:
    """mermaid.min.js and d3.min.js are the versions penstock.docs names, with their licences."""
    assets = docs.ASSETS
    mermaid = (assets.folder / assets.mermaid_js).read_text(encoding="utf-8")
    assert f'"{site_assets.MERMAID_VERSION}"' in mermaid
    d3 = (assets.folder / assets.d3_js).read_text(encoding="utf-8")
    assert d3.startswith(f"// https://d3js.org v{site_assets.D3_VERSION} ")
    mit, isc = (assets.folder / name for name in assets.licenses)
    assert "The MIT License" in mit.read_text(encoding="utf-8")
    assert "Permission to use, copy, modify" in isc.read_text(encoding="utf-8")
    for name in (assets.mermaid_esm, assets.mermaid_init, assets.diagrams_js, assets.diagram_css):
        assert (assets.folder / name).is_file()


def test_the_wheel_carries_the_shipped_files(tmp_path: Path) -> None:
    """A wheel built from the source tree contains every file under penstock/_static."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wheels = list(tmp_path.glob("penstock_flows-*.whl"))
    if done.returncode != 0 or not wheels:
        missing(
            "a wheel build (pip wheel needs hatchling from a package index)", done.stderr[-500:]
        )
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    shipped = {p.relative_to(ROOT).as_posix() for p in docs.ASSETS.folder.rglob("*") if p.is_file()}
    # Mermaid, d3 and their licences; penstock's own stylesheet and three scripts.
    assert len(shipped) == 8
    assert shipped <= names
