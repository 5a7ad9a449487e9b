"""Build hook: compile penstock's two optional C modules.

``penstock/_observed/_scan.c`` counts log lines for `penstock observe`;
``penstock/propagation/_wire.c`` reads penstock's headers on a gRPC server. Where no C
compiler or Python headers are at hand, or with ``PENSTOCK_PURE=1`` set, the wheel is pure
Python and the same code paths run in Python, with the same results, more slowly.
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

SOURCES = ("penstock/_observed/_scan.c", "penstock/propagation/_wire.c")


class CModulesBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled modules to the wheel (or, editable, next to their sources)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the modules; leave the wheel pure Python when one fails."""
        if self.target_name != "wheel" or os.environ.get("PENSTOCK_PURE") == "1":
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        # An editable install imports from the checkout: the modules go next to their source.
        folder = None if version == "editable" else Path(tempfile.mkdtemp(prefix="penstock-"))
        built = {}
        for source in SOURCES:
            name = source.removesuffix(".c") + suffix
            target = Path(self.root, name) if folder is None else folder / Path(name).name
            problem = _compile(Path(self.root, source), target)
            if problem is not None:
                self.app.display_warning(
                    f"penstock: {source} was not compiled ({problem}); "
                    "its Python counterpart runs instead"
                )
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
                return
            built[str(target)] = name
        if folder is not None:
            build_data["force_include"].update(built)
            self._made = folder
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the folder the modules were compiled in, now that they are in the wheel."""
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
