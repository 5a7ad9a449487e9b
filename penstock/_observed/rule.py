"""Which edge of the flow a recorded call took: the happens-before rule, applied to records.

The rule has one home, `penstock._runtime.rule`: a call of ``b`` takes the declared edge
``a -> b`` when a call of ``a`` completed earlier under the same caller (the most recent such
one), else when a call of ``a`` encloses it; otherwise it is an undeclared transition from
its immediate predecessor, else its caller.

Records of layout 2 on say which edge they took (``edge_from``): read as they are. Older
records name only their caller and immediate predecessor, which decide the edge in the common
cases (`EdgeRule.edge` answers at once); the others need the run's span tree (their earlier
siblings, the callers further up) and are answered by `rebuild_edges` from all the records of
their run. A name the flow no longer declares (a step renamed or removed since the records
were written) is kept as it is, never replaced by another step.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from penstock._graph.model import FlowGraph
from penstock._observed.record import Record
from penstock._runtime.rule import edge_source

__all__ = ["DEFER", "EdgeRule", "rebuild_edges"]

_CACHE_LIMIT = 100_000
#: `EdgeRule.edge`'s answer when the run's tree must decide (`rebuild_edges`).
DEFER = ("", "")


class EdgeRule:
    """The edge a recorded call took, from its step, caller and predecessor (memoized)."""

    def __init__(self, graph: FlowGraph) -> None:
        self.names = frozenset(s.name for s in graph.steps)
        preds: dict[str, set[str]] = {}
        for edge in graph.edges:
            preds.setdefault(edge.target, set()).add(edge.source)
        self.declared_after = {k: frozenset(v) for k, v in preds.items()}
        self.declared = frozenset((e.source, e.target) for e in graph.edges)
        self._cache: dict[tuple[str, str | None, str | None], tuple[str, str] | None] = {}

    def edge(self, step: str, parent: str | None, pred: str | None) -> tuple[str, str] | None:
        """``(from, to)`` taken by an older record's call, ``None``, or `DEFER`.

        Decided here when the immediate predecessor is declared before ``step`` (the most
        recent completed declared predecessor is then that one), or when the call is its
        caller's first child and the caller is declared before it (or is the only candidate).
        """
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
        after = self.declared_after.get(step, frozenset())
        first_child = pred is None or pred == parent
        if not first_child:
            if pred != step and pred in after:
                return (pred, step)
            return DEFER
        if parent != step and parent in after:
            return (parent, step)
        return DEFER

    def rebuilt(self, step: str, completed: Iterable[str], enclosing: Iterable[str]) -> str | None:
        """The rule over a rebuilt tree: the source of the edge a call of ``step`` took."""
        source, _ = edge_source(
            step, self.declared_after.get(step, frozenset()), completed, enclosing
        )
        return source


class _Siblings:
    """The calls under one parent span, indexed to answer "which completed before t" fast.

    For each step name, the end times of its calls (sorted): the latest call of each name
    that ended by a given time is one bisection away, so a parent with thousands of children
    costs n log n, not n squared.
    """

    def __init__(self, calls: list[Record]) -> None:
        by_name: dict[str, list[float]] = {}
        for call in calls:
            if call.start is None:
                continue
            by_name.setdefault(call.step, []).append(call.start + call.duration_ms / 1000)
        for ends in by_name.values():
            ends.sort()
        self.by_name = by_name

    def completed(self, before: float) -> list[str]:
        """Names of the calls that ended by ``before``, most recent first (one per name)."""
        latest = []
        for name, ends in self.by_name.items():
            index = bisect_right(ends, before + 1e-9)
            if index:
                latest.append((ends[index - 1], name))
        latest.sort(reverse=True)
        return [name for _, name in latest]


def rebuild_edges(
    rule: EdgeRule, records: list[Record], wanted: set[tuple[str, str | None, str, int]]
) -> Iterable[tuple[Record, tuple[str, str] | None]]:
    """The edges of the ``wanted`` records of one run, from all of its ``records``.

    ``wanted`` holds ``(run, span id, file, line)`` keys. Siblings are the records with the
    same parent span; one completed earlier when it ended at or before the call started.
    Records without span ids fall back to what they name (predecessor, then caller).
    """
    by_span = {r.span_id: r for r in records if r.span_id}
    children: dict[str, list[Record]] = {}
    for r in records:
        if r.parent_span_id:
            children.setdefault(r.parent_span_id, []).append(r)
    indexed: dict[str, _Siblings] = {}
    for r in records:
        if (r.correlation_id, r.span_id, r.file, r.line) not in wanted:
            continue
        if r.parent_step is None:
            yield r, None
            continue
        completed: list[str] = []
        enclosing: list[str] = []
        group = r.parent_span_id if r.span_id and r.start is not None else None
        if group is not None and group in children:
            siblings = indexed.get(group)
            if siblings is None:
                siblings = indexed[group] = _Siblings(children[group])
            # The call itself ends after it starts, so it is never among them (zero-length
            # calls aside: a step is no transition from itself anyway).
            completed = siblings.completed(r.start or 0.0)
        elif r.predecessor is not None and r.predecessor != r.parent_step:
            completed = [r.predecessor]
        up = by_span.get(r.parent_span_id) if r.parent_span_id else None
        if up is None:
            enclosing = [r.parent_step]
        seen = 0
        while up is not None and seen < 10_000:
            enclosing.append(up.step)
            if up.parent_span_id is None:
                break
            nxt = by_span.get(up.parent_span_id)
            if nxt is None:
                if up.parent_step is not None:
                    enclosing.append(up.parent_step)  # a caller in another process or file
                break
            up = nxt
            seen += 1
        source = rule.rebuilt(r.step, completed, enclosing)
        yield r, (None if source is None else (source, r.step))
