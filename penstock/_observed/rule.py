"""Which edge of the flow a recorded call observed: the drift rule, applied to records.

The same rule as the running process's drift detection (``docs/backends.md``, "Declared vs
observed"): a call of ``b`` observes the declared edge ``a -> b`` when ``a`` is its predecessor
(the step that completed last before it under the same caller) or its caller, the predecessor
first. When neither is declared, the transition from the predecessor (else the caller) is an
undeclared one. Only steps of the flow count; recursion is no transition; a root call observes
nothing. Across processes the remote parent carried by propagation is the caller.
"""

from __future__ import annotations

from penstock._graph.model import FlowGraph

__all__ = ["EdgeRule"]

_CACHE_LIMIT = 100_000


class EdgeRule:
    """The edge a call observes, from its step, caller and predecessor names (memoized)."""

    def __init__(self, graph: FlowGraph) -> None:
        self.names = frozenset(s.name for s in graph.steps)
        preds: dict[str, set[str]] = {}
        for edge in graph.edges:
            preds.setdefault(edge.target, set()).add(edge.source)
        self.declared_after = {k: frozenset(v) for k, v in preds.items()}
        self.declared = frozenset((e.source, e.target) for e in graph.edges)
        self._cache: dict[tuple[str, str | None, str | None], tuple[str, str] | None] = {}

    def edge(self, step: str, parent: str | None, pred: str | None) -> tuple[str, str] | None:
        """``(from, to)`` observed by a call of ``step``, or ``None`` (a root, no known step)."""
        key = (step, parent, pred)
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            pass
        found = self._edge(step, parent, pred)
        if len(cache) >= _CACHE_LIMIT:  # names come from files: keep the cache bounded
            cache.clear()
        cache[key] = found
        return found

    def _edge(self, step: str, parent: str | None, pred: str | None) -> tuple[str, str] | None:
        if parent is None:
            return None
        candidates: list[str] = []
        for cand in (pred or parent, parent):
            if cand in self.names and cand != step and cand not in candidates:
                candidates.append(cand)
        if not candidates:
            return None
        after = self.declared_after.get(step, frozenset())
        for cand in candidates:
            if cand in after:
                return (cand, step)
        return (candidates[0], step)
