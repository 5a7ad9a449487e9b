"""Recorded runs drawn over the declared flow: the marks, and the drift warnings to log.

Builds on the overlay: observed edges carry their count as a label and a weight, declared
edges never observed are dead (dashed grey), undeclared transitions are added to a copy of the
graph and drawn in the drift style, and each step's box shows its calls, error rate and p95
(greyed when never called). One run replayed numbers the calls along its path.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from penstock._graph.model import Edge, FlowGraph, StepNode
from penstock._observed.files import expand
from penstock._observed.record import DUPLICATE, NOT_RECORDS
from penstock._observed.replay import RunReplay, replay_run
from penstock._observed.report import nothing_text
from penstock._observed.store_url import is_store
from penstock._observed.tally import ObservedFlow, ObservedStep, observe
from penstock._render.overlay import EdgeMark, NodeMark, Overlay
from penstock._text import shown

__all__ = [
    "drift_messages",
    "observed_drawing",
    "observed_overlay",
    "overlay_for",
    "replay_overlay",
    "with_observed",
]


def with_observed(graph: FlowGraph, edges: Iterable[tuple[str, str]]) -> FlowGraph:
    """A copy of ``graph`` with the undeclared ``edges`` (and steps they name) added."""
    known = {(e.source, e.target) for e in graph.edges}
    extra = [Edge(s, t) for s, t in dict.fromkeys(edges) if (s, t) not in known]
    if not extra:
        return graph
    steps = list(graph.steps)
    for name in dict.fromkeys(n for e in extra for n in (e.source, e.target)):
        if name not in graph:
            steps.append(StepNode(name, "step", "", name, "", 0))
    return dataclasses.replace(graph, steps=tuple(steps), edges=(*graph.edges, *extra))


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.3g} ms" if value < 100 else f"{value:,.0f} ms"


def _times(count: int) -> str:
    return f"{count:,}\u00d7"  # the multiplication sign, as in 1,204 times


def _with_steps(graph: FlowGraph, names: Iterable[str]) -> FlowGraph:
    """A copy of ``graph`` with the steps ``names`` added (steps the records name only)."""
    extra = [n for n in dict.fromkeys(names) if n not in graph]
    if not extra:
        return graph
    steps = (*graph.steps, *(StepNode(n, "step", "", n, "", 0) for n in extra))
    return dataclasses.replace(graph, steps=steps)


def observed_overlay(graph: FlowGraph, observed: ObservedFlow) -> tuple[FlowGraph, Overlay]:
    """The graph to draw (with undeclared transitions added) and its marks.

    A step the records name that the flow no longer declares (renamed or removed since) is
    drawn as a ghost: a dashed box saying "not in the code", with the edges runs took to it.
    """
    drawn = with_observed(graph, ((e.source, e.target) for e in observed.edges if not e.declared))
    drawn = _with_steps(drawn, (s.name for s in observed.steps if not s.declared))
    top = max((e.count for e in observed.edges), default=0)
    nodes: dict[str, NodeMark] = {}
    for s in observed.steps:
        if not s.declared:
            nodes[s.name] = NodeMark("ghost", f"not in the code · {s.calls:,} calls")
            continue
        if not s.calls:
            nodes[s.name] = NodeMark("dead", "never called")
            continue
        note = f"{s.calls:,} calls · {s.error_rate:.0%} errors · p95 {_ms(s.p95_ms)}"
        style = "failing" if s.errors else "observed"
        nodes[s.name] = NodeMark(style, note)
    for e in observed.edges:  # an edge from a step that is in no record's step field
        for name in (e.source, e.target):
            if name not in graph and name not in nodes:
                nodes[name] = NodeMark("ghost", "not in the code")
    edges: dict[tuple[str, str], EdgeMark] = {}
    for e in observed.edges:
        if not e.count:
            edges[(e.source, e.target)] = EdgeMark("dead")
            continue
        if e.declared:
            edges[(e.source, e.target)] = EdgeMark("observed", _times(e.count), e.count / top)
        else:  # drawn at the warning style's width, however rare
            edges[(e.source, e.target)] = EdgeMark("drift", _times(e.count))
    # Lines that are no step record (the application's own) are not lost data: not noted.
    skipped = sum(n for r, n in observed.skipped.items() if r not in NOT_RECORDS and r != DUPLICATE)
    if observed.runs:
        notes = [f"{observed.runs:,} runs; edge labels: times taken, width grows with the count"]
    else:
        notes = [nothing_text(observed)]
    if skipped:
        notes.append(
            f"{skipped:,} damaged or unreadable input record(s) left out (see penstock observe)"
        )
    overlay = Overlay(
        nodes=nodes,
        edges=edges,
        descriptions={
            "observed": "observed in the runs",
            "dead": "declared, never observed",
            "drift": "observed, not declared",
            "failing": "had errors",
            "ghost": "in the records, not in the code (renamed or removed?)",
        },
        notes=tuple(notes),
    )
    return drawn, overlay


def replay_overlay(graph: FlowGraph, run: RunReplay) -> tuple[FlowGraph, Overlay]:
    """The graph to draw and the marks of one run's path (numbered in start order)."""
    drawn = with_observed(graph, (s.edge for s in run.steps if s.edge and not s.declared))
    calls: dict[str, list[str]] = {}
    failed: set[str] = set()
    for s in run.steps:
        text = f"#{s.index} {_ms(s.duration_ms)} {s.status}"
        if s.failed_here:
            text += ", failed here"
            failed.add(s.name)
        calls.setdefault(s.name, []).append(text)
    nodes: dict[str, NodeMark] = {}
    for node in drawn.steps:
        if node.name in calls:
            style = "failing" if node.name in failed else "observed"
            nodes[node.name] = NodeMark(style, " · ".join(calls[node.name]))
        else:
            nodes[node.name] = NodeMark("dead", None)
    taken: dict[tuple[str, str], list[str]] = {}
    for s in run.steps:
        if s.edge is not None:
            taken.setdefault(s.edge, []).append(f"#{s.index}")
    declared = {(e.source, e.target) for e in graph.edges}
    edges: dict[tuple[str, str], EdgeMark] = {}
    for e in drawn.edges:
        key = (e.source, e.target)
        if key in taken:
            style = "observed" if key in declared else "drift"
            edges[key] = EdgeMark(style, " ".join(taken[key]))
        else:
            edges[key] = EdgeMark("dead")
    status = "failed" if run.failed_at is not None else "ok"
    overlay = Overlay(
        nodes=nodes,
        edges=edges,
        descriptions={
            "observed": "taken by this run",
            "dead": "not taken by this run",
            "drift": "taken, not declared",
            "failing": "where the run failed",
        },
        notes=(f"run {run.correlation_id} ({status}); #n: call order, with duration and status",),
    )
    return drawn, overlay


def drift_messages(graph: FlowGraph, observed: ObservedFlow) -> list[str]:
    """One message per undeclared transition, naming both functions' ``file:line``.

    A step the records name that the flow does not declare now gets one message of its own
    (its edges are not advice to declare anything).
    """
    out = []
    ghosts = [s for s in observed.steps if not s.declared]
    ghost_names = {s.name for s in ghosts}
    for e in observed.edges:
        for name in (e.source, e.target):
            if name not in graph and name not in ghost_names:
                ghost_names.add(name)
                ghosts.append(ObservedStep(name, 0, 0, None, None, declared=False))
    for s in ghosts:
        seen = [e.seen_at for e in observed.edges if s.name in (e.source, e.target) and e.seen_at]
        where = f"; first seen at {seen[0]}" if seen else ""
        calls = f" ({s.calls:,} call(s))" if s.calls else ""
        out.append(
            f"flow {graph.name!r}: recorded runs name step {shown(s.name)!r}{calls}, which is "
            f"not a step of the flow now: renamed or removed?{where}"
        )
    for e in observed.edges:
        if e.declared or e.ghost:
            continue
        src = graph.step(e.source).location if e.source in graph else "?"
        dst_node = graph.step(e.target) if e.target in graph else None
        dst = dst_node.location if dst_node is not None else "not declared in the code"
        after = sorted(graph.predecessors(e.target)) if dst_node is not None else []
        expected = f"it declares after={after!r}" if after else "it declares no predecessor"
        out.append(
            f"flow {graph.name!r}: recorded runs went {e.source!r} ({src}) -> {e.target!r} "
            f"({dst}) {e.count:,} time(s), but {expected}; first seen at {e.seen_at}; "
            f"add {e.source!r} to its after= or update the code"
        )
    return out


def overlay_for(graph: FlowGraph, observed: ObservedFlow | RunReplay) -> tuple[FlowGraph, Overlay]:
    """`observed_overlay` or `replay_overlay`, whichever ``observed`` calls for."""
    if isinstance(observed, RunReplay):
        return replay_overlay(graph, observed)
    return observed_overlay(graph, observed)


def observed_drawing(
    graph: FlowGraph, patterns: str | Sequence[str], base: str | None, run: str | None
) -> tuple[FlowGraph, Overlay, tuple[str, ...], tuple[str, ...]]:
    """The graph and overlay to draw, the files read (dependencies) and drift warnings.

    Files unchanged since the last call (same size and modification time) are not read again:
    docs builds draw the same diagram on every rebuild and staleness check.

    Raises:
        ObservedError: no file matches, or the run is not in the files; a trace store
            (``clickhouse://...``, ``chdb:PATH``) that cannot be asked.
    """
    if isinstance(patterns, str) and is_store(patterns):
        drawn, overlay, warnings = _store_drawing(graph, _anchored(patterns, base), run or None)
        return drawn, overlay, (), warnings
    files = expand([patterns] if isinstance(patterns, str) else patterns, base)
    read = tuple(str(Path(f).resolve()) for f in files)
    stats = []
    for name in read:
        st = os.stat(name)
        stats.append((name, st.st_size, st.st_mtime_ns))
    drawn, overlay, warnings = _drawing(graph, tuple(stats), run or None)
    return drawn, overlay, read, warnings


@functools.lru_cache(maxsize=32)
def _drawing(
    graph: FlowGraph, files: tuple[tuple[str, int, int], ...], run: str | None
) -> tuple[FlowGraph, Overlay, tuple[str, ...]]:
    paths = [name for name, _, _ in files]
    if run:
        drawn, overlay = replay_overlay(graph, replay_run(graph, paths, run))
        return drawn, overlay, ()
    observed = observe(graph, paths)
    drawn, overlay = observed_overlay(graph, observed)
    return drawn, overlay, tuple(drift_messages(graph, observed))


def _anchored(source: str, base: str | None) -> str:
    """A ``chdb:`` folder relative to ``base`` (the site's folder), as files are."""
    if base is None or not source.lower().startswith("chdb:"):
        return source
    rest = source[5:]
    path, sep, query = rest.partition("?")
    if not path or Path(path).is_absolute():
        return source
    return f"chdb:{Path(base) / path}{sep}{query}"


#: Store answers by (graph, source, run): a docs build draws a diagram several times (pages,
#: staleness checks), and a served site rebuilds often; the store is asked again after this.
_STORE_TTL_S = 60.0
_store_answers: dict[
    tuple[FlowGraph, str, str | None], tuple[float, tuple[FlowGraph, Overlay, tuple[str, ...]]]
] = {}


def _store_drawing(
    graph: FlowGraph, source: str, run: str | None
) -> tuple[FlowGraph, Overlay, tuple[str, ...]]:
    key = (graph, source, run)
    now = time.monotonic()
    cached = _store_answers.get(key)
    if cached is not None and now - cached[0] < _STORE_TTL_S:
        return cached[1]
    if run:
        drawn, overlay = replay_overlay(graph, replay_run(graph, [source], run))
        answer: tuple[FlowGraph, Overlay, tuple[str, ...]] = (drawn, overlay, ())
    else:
        observed = observe(graph, [source])
        drawn, overlay = observed_overlay(graph, observed)
        answer = (drawn, overlay, tuple(drift_messages(graph, observed)))
    if len(_store_answers) >= 32:
        _store_answers.clear()
    _store_answers[key] = (now, answer)
    return answer
