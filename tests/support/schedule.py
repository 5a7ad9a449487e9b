"""How the test files are handed to pytest-xdist workers: together, and the longest first.

``make test`` runs the suite on several workers with ``--dist loadfile``: a file's tests stay on
one worker, so its module-scoped sites and servers are built once. Two refinements:

* `GROUPS`: files that read the same expensive thing (a site each page of which is loaded once
  in Chromium for all their checks) go to one worker together.
* ``--no-loadscope-reorder`` hands the files out in collection order, and on the workers the
  files below (measured with ``pytest --durations=0``) are collected first, longest first:
  a long file handed out last would keep one worker busy while the others idle. Every other
  file follows in its usual order. The figures only rank the files: a stale one costs some
  idle time, never a test.
"""

from __future__ import annotations

from typing import Any

import pytest

#: Seconds each long file took (setup, calls and teardown) in one serial run under load.
SECONDS = {
    "reliability/test_step_endurance.py": 170,
    "browser/test_own_docs.py": 152,
    "coverage/test_pytest_plugin.py": 146,
    "browser/test_own_docs_layout.py": 95,
    "reliability/test_concurrency.py": 80,
    "reliability/test_docs_faults.py": 67,
    "install/test_wheel.py": 62,
    "render/test_links_render.py": 61,
    "mkdocs/test_serve.py": 50,
    "browser/test_links_site.py": 48,
    "reliability/test_hostile_recordings.py": 46,
    "browser/test_observed_sites.py": 43,
    "sphinx/test_links_map.py": 40,
    "render/test_mermaid_real.py": 39,
    "diff/test_git.py": 38,
    "diff/test_docs_since.py": 36,
    "docs/test_examples.py": 36,
    "render/test_dot_real.py": 34,
    "sphinx/test_cli_build.py": 30,
    "browser/test_fit_column.py": 30,
    "browser/test_diff_since.py": 29,
    "browser/test_diagram_size.py": 29,
    "diff/test_gate.py": 28,
    "browser/test_sphinx_site.py": 27,
    "browser/test_offline_default.py": 27,
    "observed/test_drawing.py": 25,
    "mkdocs/test_mkdocs_build.py": 24,
    "mkdocs/test_project_config.py": 23,
    "browser/test_mkdocs_site.py": 23,
    "observed/test_docs.py": 22,
    "reliability/test_reload_endurance.py": 22,
    "diff/test_markdown.py": 21,
    "contrib/test_celery_worker.py": 20,
}


#: Files that share a per-worker cache, by the name of the unit of work they form.
GROUPS = {
    "browser/test_own_docs.py": "own-docs",
    "browser/test_own_docs_layout.py": "own-docs",
}


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].removeprefix("tests/")


def _seconds(item: pytest.Item) -> int:
    path = _file(item.nodeid)
    group = GROUPS.get(path)
    if group is None:
        return SECONDS.get(path, 0)
    return sum(SECONDS.get(other, 0) for other, name in GROUPS.items() if name == group)


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, with the files of one of `GROUPS` forming one unit of work."""
    from xdist.scheduler import LoadFileScheduling

    class GroupedFiles(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return GROUPS.get(_file(nodeid), path)

    return GroupedFiles(config, log)


def longest_files_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place on xdist workers: long files first, each file kept whole.

    A serial run keeps pytest's own order. The sort is stable, so tests keep their order
    inside a file and files of equal weight keep theirs.
    """
    if not hasattr(config, "workerinput"):
        return
    items.sort(key=lambda item: -_seconds(item))
