"""What changed in a flow since a revision, as an overlay for a docs diagram (``since: REV``).

The revision (or a dump file) is loaded once per process and configuration: a docs build
draws many diagrams against the same release.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from pathlib import Path

from penstock._graph.compare import compare
from penstock._graph.model import FlowGraph
from penstock._observed.files import expand
from penstock._observed.traffic import diff_traffic, file_tally
from penstock._render.diff import diff_diagram
from penstock._render.overlay import Overlay
from penstock._versions.revisions import (
    DEFAULT_TIMEOUT,
    Interrupted,
    LoadedVersion,
    load_version,
    resolve_commit,
)

__all__ = ["clear_cache", "since_overlay"]

_Key = tuple[str, tuple[str, ...], tuple[str, ...], str]
_CACHE: dict[_Key, dict[str, FlowGraph]] = {}
_LOCK = threading.Lock()


def since_overlay(
    graph: FlowGraph,
    revision: str,
    *,
    modules: Sequence[str],
    paths: Sequence[str],
    root: str | None,
    observed: str | None = None,
    observed_base: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> tuple[FlowGraph, Overlay, tuple[str, ...]]:
    """``graph`` with what was removed since ``revision`` added back, and the marks to draw.

    Args:
        graph: the flow as it is now.
        revision: a git revision of the repository around ``root``, or a dump file.
        modules: the modules to import at that revision (the docs configuration's).
        paths: their folders (absolute, or relative to ``root``).
        root: the folder the docs build runs from (default: the current directory).
        observed: recorded runs (a file or glob): removed steps and edges then show the calls
            the old flow had on them, as ``penstock diff --observed`` does.
        observed_base: the folder ``observed`` is relative to.
        timeout: seconds the revision may take to load (``None``: no limit).

    Returns:
        The graph to draw, its marks, and the recorded-run files read (build dependencies).

    Raises:
        DiffError: not a git checkout, unknown revision, an invalid dump, or the revision's
            modules fail to import (a `RevisionError` then, naming the module and line).
        ObservedError: the recorded runs cannot be read.
    """
    old = _flows_at(revision, tuple(modules), tuple(paths), root or str(Path.cwd()), timeout)
    diff = compare({graph.name: old[graph.name]} if graph.name in old else {}, {graph.name: graph})
    traffic = None
    read: tuple[str, ...] = ()
    if observed:
        files = expand([observed], observed_base)
        read = tuple(str(f.resolve()) for f in files)
        tally = diff_traffic(diff, file_tally(read))
        traffic = tally.flow(graph.name)
    drawn, overlay = diff_diagram(diff.flows[graph.name], since=revision, traffic=traffic)
    return drawn, overlay, read


def _flows_at(
    revision: str,
    modules: tuple[str, ...],
    paths: tuple[str, ...],
    root: str,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> dict[str, FlowGraph]:
    if Path(root, revision).is_file():
        # A dump file is cheap to read and may be rewritten between builds: never cached.
        return _load(revision, modules, paths, root, timeout).flows
    # Keyed by commit, not by name: HEAD~1 is another commit once a new one is made.
    key = (resolve_commit(revision, root), modules, paths, root)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    flows = _load(revision, modules, paths, root, timeout).flows
    with _LOCK:
        _CACHE[key] = flows
    return flows


def _load(
    revision: str,
    modules: tuple[str, ...],
    paths: tuple[str, ...],
    root: str,
    timeout: float | None,
) -> LoadedVersion:
    try:
        return load_version(revision, modules=modules, paths=paths, cwd=root, timeout=timeout)
    except Interrupted as exc:
        # The checkout and the loader are gone; the docs tool (mkdocs, sphinx-build) gets the
        # signal it would have had, and stops as it always does.
        signal.raise_signal(exc.signum)
        raise


def clear_cache() -> None:
    """Forget every loaded revision (tests; a docs server may call it on demand)."""
    with _LOCK:
        _CACHE.clear()
