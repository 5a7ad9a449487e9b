"""What runs did, reduced to what coverage needs: each distinct run's steps and edges per flow.

A run is the set of steps it called and declared edges it took in one flow. Runs that did the
same thing are kept once, with a count, so a session of 100,000 calls holds a handful of sets.
Hits from several processes (pytest-xdist workers) or files merge by adding counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["FlowRuns", "Hits", "RunShape"]

#: One run of a flow: the steps it called and the (source, target) edges it took.
RunShape = tuple[frozenset[str], frozenset[tuple[str, str]]]
FlowRuns = Counter[RunShape]


class Hits:
    """Distinct runs per flow, with how many runs had each shape."""

    def __init__(self, flows: Mapping[str, Counter[RunShape]] | None = None) -> None:
        self.flows: dict[str, Counter[RunShape]] = {k: Counter(v) for k, v in (flows or {}).items()}

    def add(
        self, flow: str, steps: Iterable[str], edges: Iterable[tuple[str, str]], n: int = 1
    ) -> None:
        """Count ``n`` runs of ``flow`` that called ``steps`` and took ``edges``."""
        shape = (frozenset(steps), frozenset(edges))
        self.flows.setdefault(flow, Counter())[shape] += n

    def merge(self, other: Hits) -> None:
        """Add ``other``'s runs to these."""
        for flow, runs in other.flows.items():
            self.flows.setdefault(flow, Counter()).update(runs)

    def runs(self, flow: str) -> int:
        """How many runs of ``flow`` were seen."""
        return sum(self.flows.get(flow, Counter()).values())

    def steps(self, flow: str) -> set[str]:
        """Every step of ``flow`` some run called."""
        return {s for steps, _ in self.flows.get(flow, ()) for s in steps}

    def edges(self, flow: str) -> set[tuple[str, str]]:
        """Every edge of ``flow`` some run took."""
        return {e for _, edges in self.flows.get(flow, ()) for e in edges}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (sorted, so equal hits give equal text)."""
        out: dict[str, Any] = {}
        for flow in sorted(self.flows):
            rows = [
                {"steps": sorted(steps), "edges": sorted([a, b] for a, b in edges), "count": n}
                for (steps, edges), n in self.flows[flow].items()
            ]
            rows.sort(key=lambda r: (r["steps"], r["edges"]))
            out[flow] = rows
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hits:
        """Read `as_dict` output back."""
        hits = cls()
        for flow, rows in data.items():
            for row in rows:
                hits.add(
                    flow,
                    row["steps"],
                    ((a, b) for a, b in row["edges"]),
                    int(row.get("count", 1)),
                )
        return hits

    def __repr__(self) -> str:
        return f"<Hits {', '.join(f'{f}: {self.runs(f)} runs' for f in self.flows)}>"
