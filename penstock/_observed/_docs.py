"""Recorded runs for the docs extensions: read the files a directive names, draw, warn."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from penstock._graph import FlowGraph
from penstock._observed._drawing import (
    drift_messages,
    observed_overlay,
    replay_overlay,
)
from penstock._observed._files import expand
from penstock._observed._replay import replay_run
from penstock._observed._tally import observe
from penstock._overlay import Overlay

__all__ = ["observed_drawing"]


def observed_drawing(
    graph: FlowGraph, patterns: str | Sequence[str], base: str | None, run: str | None
) -> tuple[FlowGraph, Overlay, tuple[str, ...], tuple[str, ...]]:
    """The graph and overlay to draw, the files read (dependencies) and drift warnings.

    Raises:
        ObservedError: no file matches, or the run is not in the files.
    """
    files = expand([patterns] if isinstance(patterns, str) else patterns, base)
    read = tuple(str(Path(f).resolve()) for f in files)
    if run:
        drawn, overlay = replay_overlay(graph, replay_run(graph, files, run))
        return drawn, overlay, read, ()
    observed = observe(graph, files)
    drawn, overlay = observed_overlay(graph, observed)
    return drawn, overlay, read, tuple(drift_messages(graph, observed))
