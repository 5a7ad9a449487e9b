"""Build hook: compile the scanner of `penstock observe` (penstock/_observed/_scan.c).

The scanner is optional. Where no C compiler or Python headers are at hand, or with
``PENSTOCK_PURE=1`` set, the wheel is pure Python and `penstock observe` reads the same
files with msgspec alone, more slowly (docs/observed.md gives the figures).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "penstock/_observed/_scan.c"


class ScannerBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled scanner to the wheel (or, editable, next to its source)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the scanner; leave the wheel pure Python when that fails."""
        if self.target_name != "wheel" or os.environ.get("PENSTOCK_PURE") == "1":
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        name = f"penstock/_observed/_scan{suffix}"
        # An editable install imports from the checkout: the module goes next to its source.
        if version == "editable":
            target = Path(self.root, name)
        else:
            target = Path(tempfile.mkdtemp(prefix="penstock-build-"), Path(name).name)
        problem = _compile(Path(self.root, SOURCE), target)
        if problem is not None:
            self.app.display_warning(
                f"penstock: the compiled scanner was not built ({problem}); "
                "`penstock observe` reads with msgspec alone"
            )
            return
        if version != "editable":
            build_data["force_include"][str(target)] = name
            self._made = target.parent
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the folder the module was compiled in, now that it is in the wheel."""
        made = getattr(self, "_made", None)
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _compile(source: Path, target: Path) -> str | None:
    """Compile ``source`` into the extension module ``target``; the problem, or ``None``."""
    ldshared = sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths().get("include")
    if not ldshared or not include or not Path(include, "Python.h").exists():
        return "no Python headers or no C toolchain known to this Python"
    command = shlex.split(os.environ.get("LDSHARED", ldshared))
    command += shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    command += ["-O2", f"-I{include}", str(source), "-o", str(target)]
    if sys.platform == "darwin":
        command += ["-undefined", "dynamic_lookup"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except OSError as exc:
        return f"{command[0]}: {exc.strerror}"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["the compiler failed"])[-1]
    return None
