"""The traffic recorded runs put on what a change removes or changes: traffic-aware review.

For each flow a diff touches, the recorded runs are tallied against the *old* version of the
flow (the one production runs), and each removed or changed step and edge gets its calls and
when it was last seen. Added steps and edges have none yet. A removal that recorded runs took
in the window is *live*: `penstock diff --fail-on-live-removal` refuses it.

Where the records come from is the caller's choice (a `FlowTally`): files through the same
readers as ``penstock observe``, or any other source that can tally a flow.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from penstock._graph.compare import FlowDiff, FlowsDiff
from penstock._graph.model import FlowGraph
from penstock._observed.files import expand
from penstock._observed.store_url import store_of
from penstock._observed.tally import ObservedFlow, observe, tally_files, to_epoch

__all__ = [
    "DiffTraffic",
    "FlowTally",
    "FlowTraffic",
    "LiveRemoval",
    "Traffic",
    "Watched",
    "diff_traffic",
    "file_tally",
    "traffic_words",
]

#: The steps and the edges (old names) of a flow whose distinct runs a tally is asked for.
Watched = tuple[frozenset[str], frozenset[tuple[str, str]]]

#: Tallies the recorded runs of one flow (its old version); a source that can count distinct
#: runs per step and edge does so for the watched ones (`ObservedStep.runs`).
FlowTally = Callable[[FlowGraph, Watched], ObservedFlow]


@dataclass(frozen=True)
class Traffic:
    """What recorded runs did on one step or edge.

    Attributes:
        calls: calls of the step, or calls that took the edge, in the window.
        last_seen: when the latest of them started (seconds since the epoch), or ``None``.
        runs: how many distinct runs made those calls, or ``None`` when the source cannot
            say (a trace store).
    """

    calls: int
    last_seen: float | None = None
    runs: int | None = None

    @property
    def last_seen_text(self) -> str | None:
        """``last_seen`` as an ISO time in UTC (``2026-12-06T23:10:00Z``), or ``None``."""
        if self.last_seen is None:
            return None
        when = dt.datetime.fromtimestamp(self.last_seen, tz=dt.timezone.utc)
        return when.isoformat(timespec="seconds").replace("+00:00", "Z")

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "runs": self.runs, "last_seen": self.last_seen_text}


NO_TRAFFIC = Traffic(0, runs=0)


@dataclass(frozen=True)
class FlowTraffic:
    """Traffic on the old version of one flow.

    Attributes:
        flow: the flow's name.
        runs: runs of the flow the records hold in the window.
        steps: by old step name.
        edges: by ``(from, to)`` in old step names.
    """

    flow: str
    runs: int
    steps: dict[str, Traffic] = field(default_factory=dict)
    edges: dict[tuple[str, str], Traffic] = field(default_factory=dict)

    def step(self, name: str) -> Traffic:
        """The step's traffic (none when the records never name it)."""
        return self.steps.get(name, NO_TRAFFIC)

    def edge(self, source: str, target: str) -> Traffic:
        """The edge's traffic, by old step names."""
        return self.edges.get((source, target), NO_TRAFFIC)


@dataclass(frozen=True)
class LiveRemoval:
    """A removed step or edge that recorded runs took in the window."""

    flow: str
    what: str  # "step" or "edge"
    name: str  # the step, or "a -> b"
    traffic: Traffic

    def __str__(self) -> str:
        return f"{self.flow}: {self.what} {self.name} ({traffic_words(self.traffic)})"


@dataclass(frozen=True)
class DiffTraffic:
    """Traffic on every flow of a diff that has an old version and changed.

    Attributes:
        flows: by flow name.
        since: the window's start as given (``None``: from the first record).
        until: the window's end as given (``None``: to the last record).
        sources: what was read (file names).
    """

    flows: dict[str, FlowTraffic]
    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()

    def flow(self, name: str) -> FlowTraffic | None:
        """The flow's traffic, or ``None`` when it had no old version or did not change."""
        return self.flows.get(name)

    def live_removals(self, diff: FlowsDiff) -> list[LiveRemoval]:
        """Removed steps and edges with calls in the window, by flow.

        A rename by function is no removal; a *probable* rename is a guess, so the old step
        is listed (``"approve_refund (renamed to accept_refund?)"``): a gate errs on the side
        of asking.
        """
        out: list[LiveRemoval] = []
        for d in diff.changed_flows():
            traffic = self.flows.get(d.flow)
            if traffic is None:
                continue
            for step in d.steps_removed:
                seen = traffic.step(step)
                if seen.calls:
                    out.append(LiveRemoval(d.flow, "step", step, seen))
            for old, new in d.probable_renames:
                seen = traffic.step(old)
                if seen.calls:
                    out.append(LiveRemoval(d.flow, "step", f"{old} (renamed to {new}?)", seen))
            for a, b in d.edges_removed:
                seen = traffic.edge(a, b)
                if seen.calls:
                    out.append(LiveRemoval(d.flow, "edge", f"{a} -> {b}", seen))
        return out

    def window_text(self) -> str:
        """``since ... until ...`` in words, for reports."""
        if self.since and self.until:
            return f"from {self.since} to {self.until}"
        if self.since:
            return f"since {self.since}"
        if self.until:
            return f"until {self.until}"
        return "in the whole recording"

    def flow_dict(self, d: FlowDiff) -> dict[str, Any] | None:
        """The ``observed`` object of one flow's JSON entry: each step and edge change."""
        traffic = self.flows.get(d.flow)
        if traffic is None and d.status != "added":
            return None
        steps: dict[str, Any] = {}
        for name in d.steps_added:
            steps[name] = {"change": "added", **NO_TRAFFIC.as_dict(), "new": True}
        for name in d.steps_removed:
            seen = traffic.step(name) if traffic else NO_TRAFFIC
            steps[name] = {"change": "removed", **seen.as_dict()}
        for c in d.steps_changed:
            seen = traffic.step(c.old_name) if traffic else NO_TRAFFIC
            steps.setdefault(c.name, {"change": "changed", **seen.as_dict()})
        edges: list[dict[str, Any]] = []
        for a, b in d.edges_added:
            edges.append(
                {"from": a, "to": b, "change": "added", **NO_TRAFFIC.as_dict(), "new": True}
            )
        for a, b in d.edges_removed:
            seen = traffic.edge(a, b) if traffic else NO_TRAFFIC
            edges.append({"from": a, "to": b, "change": "removed", **seen.as_dict()})
        old_names = {new: old for old, new in d.renamed}
        for a, b, _, _ in d.conditions_changed:
            oa, ob = old_names.get(a, a), old_names.get(b, b)
            seen = traffic.edge(oa, ob) if traffic else NO_TRAFFIC
            edges.append({"from": a, "to": b, "change": "condition", **seen.as_dict()})
        return {
            "runs": traffic.runs if traffic else 0,
            "steps": dict(sorted(steps.items())),
            "edges": edges,
        }

    def as_dict(self) -> dict[str, Any]:
        """The document's top-level ``observed`` object: the window and what was read."""
        return {"since": self.since, "until": self.until, "sources": list(self.sources)}


def diff_traffic(
    diff: FlowsDiff,
    tally: FlowTally,
    *,
    since: str | None = None,
    until: str | None = None,
    sources: Iterable[str] = (),
) -> DiffTraffic:
    """Tally the old version of every changed flow of ``diff`` with ``tally``.

    Args:
        diff: the comparison.
        tally: counts the recorded runs of one flow (see `file_tally`).
        since: the window's start, as the user wrote it (for reports only: ``tally`` applies it).
        until: the window's end, likewise.
        sources: names of what was read, for reports.
    """
    out: dict[str, FlowTraffic] = {}
    for d in diff.changed_flows():
        if d.old is None:
            continue
        observed = tally(d.old, _watched(d))
        out[d.flow] = FlowTraffic(
            flow=d.flow,
            runs=observed.runs,
            steps={
                s.name: Traffic(s.calls, s.last_seen, s.runs) for s in observed.steps if s.declared
            },
            edges={
                (e.source, e.target): Traffic(e.count, e.last_seen, e.runs)
                for e in observed.edges
                if e.declared
            },
        )
    return DiffTraffic(out, since=since, until=until, sources=tuple(sources))


def file_tally(
    files: Iterable[str | os.PathLike[str]],
    *,
    since: str | None = None,
    until: str | None = None,
    base: str | os.PathLike[str] | None = None,
) -> FlowTally:
    """A `FlowTally` reading recorded-run files as ``penstock observe`` does (formats, globs, .gz).

    Raises:
        ObservedError: (when called) a file that does not exist, a glob matching nothing, a bad
            time.
    """
    paths = [os.fspath(f) for f in files]
    where = None if base is None else os.fspath(base)

    def tally(graph: FlowGraph, watched: Watched) -> ObservedFlow:
        if store_of(paths) is not None:  # the store counts calls, not runs per step
            return observe(graph, paths, since=since, until=until, base=where)
        low, high = to_epoch(since, "since"), to_epoch(until, "until")
        return tally_files(graph, expand(paths, where), low, high, watched)

    return tally


def _watched(d: FlowDiff) -> Watched:
    """What a reviewer is shown traffic on: the old flow's removed and changed steps and edges."""
    old_names = {new: old for old, new in d.renamed}
    steps = {*d.steps_removed, *(c.old_name for c in d.steps_changed)}
    steps.update(old for old, _ in d.probable_renames)
    edges = set(d.edges_removed)
    edges.update((old_names.get(a, a), old_names.get(b, b)) for a, b, _, _ in d.conditions_changed)
    return frozenset(steps), frozenset(edges)


def traffic_words(seen: Traffic) -> str:
    """``1,204 calls in 310 runs, last seen 2026-12-06T23:10:00Z``, or ``no calls``."""
    if not seen.calls:
        return "no calls"
    out = f"{seen.calls:,} call" + ("" if seen.calls == 1 else "s")
    if seen.runs is not None:
        out += f" in {seen.runs:,} run" + ("" if seen.runs == 1 else "s")
    if seen.last_seen_text:
        out += f", last seen {seen.last_seen_text}"
    return out
