"""Runs one docs page's examples in order, in the folder the page's files were written to.

Started by ``test_examples.py`` as ``python page_runner.py STEPS.json RESULTS.json`` with the
page's folder as the current directory: one process per page, so the pages do not see each
other's modules, flows or backend. Each step is one of:

- ``python``: a block run in a namespace of its own (a reader pastes it on its own), unless it
  ``continues`` the block before it; the modules the folder holds are imported afresh for it,
  and the flows earlier blocks declared are forgotten. ``test_*`` functions it defines are
  called (``penstock_recorder`` gets a recording backend).
- ``console``: each ``$`` command of the block, run in a shell in the folder, standard output
  and error together as a terminal shows them.

The results, one per step (its output, or the traceback that stopped it), go to RESULTS.json.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any


def _forget_user_code(folder: Path) -> None:
    """Drop the modules under ``folder`` and every flow declared so far; reset penstock."""
    import penstock
    from penstock.docs import load_modules

    # fresh=True drops the modules under the folders and every module that declared steps
    # (earlier blocks included), with their steps, before importing (here: nothing).
    load_modules([], [str(folder)], fresh=True)
    penstock.reset()


def _call_test(func: Any) -> None:
    from penstock.testing import recording

    params = list(inspect.signature(func).parameters)
    if params == ["penstock_recorder"]:
        with recording() as recorder:
            func(recorder)
    else:
        assert not params, f"{func.__name__}: unsupported fixtures {params}"
        func()


def _run_python(step: dict[str, Any], namespace: dict[str, Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        before = set(namespace)
        exec(compile(step["text"], step["where"], "exec"), namespace)
        for name in sorted(set(namespace) - before):
            func = namespace[name]
            if name.startswith("test_") and inspect.isfunction(func):
                _call_test(func)
    return out.getvalue()


def _run_console(command: str, env: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(
        command,
        shell=True,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout, done.returncode


def main(steps_file: str, results_file: str) -> None:
    folder = Path.cwd()
    spec = json.loads(Path(steps_file).read_text(encoding="utf-8"))
    # The folder (and, for pages that only use the example service, examples/) importable,
    # as `python -c` from this folder would have it; not this script's own folder.
    sys.path[0:1] = [str(Path(p)) for p in spec["sys_path"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(spec["sys_path"])}
    env["PYTHONUNBUFFERED"] = "1"  # interleaved as on a terminal
    env.pop("PENSTOCK_OUTPUT", None)
    # Material's notice about its own end of life, printed by every build: not penstock's
    # output, and it would change with Material's releases.
    env["NO_MKDOCS_2_WARNING"] = "1"
    results: list[dict[str, Any]] = []
    namespace: dict[str, Any] = {}
    for k, step in enumerate(spec["steps"]):
        result: dict[str, Any] = {"where": step["where"], "output": "", "error": None}
        try:
            if step["kind"] == "python":
                if not step["continues"] or not namespace:
                    _forget_user_code(folder)
                    namespace = {"__name__": f"docs_block_{k}"}
                result["output"] = _run_python(step, namespace)
            else:
                output, code = _run_console(step["command"], env)
                result["output"], result["exit"] = output, code
        except BaseException:
            result["error"] = traceback.format_exc()
        results.append(result)
    Path(results_file).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
