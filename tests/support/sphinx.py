"""A real ``sphinx-build`` in a subprocess, as users run it (no colour: Sphinx colours its
output when ``CI=true``, and tests read it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_sphinx(
    srcdir: Path,
    outdir: Path | None = None,
    *args: str,
    builder: str = "html",
    quiet: bool = True,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """``python -m sphinx -b BUILDER [-q] ARGS SRCDIR OUTDIR`` (default out: ``_build/BUILDER``)."""
    out = outdir if outdir is not None else srcdir / "_build" / builder
    command = [sys.executable, "-m", "sphinx", "--no-color", "-b", builder]
    if quiet:
        command.append("-q")
    return subprocess.run(
        [*command, *args, str(srcdir), str(out)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
