"""Declared vs observed: the transitions runs show, and drift from the declared flow.

A call's transition is explained by a declared edge from the step that completed just before
it under the same caller, or from the caller itself. When neither is declared, the code has
drifted from its diagram: that is logged once per (flow, transition), as a WARNING on the
``penstock`` logger naming both functions' ``file:line``. Recursion is not a transition.
"""

from __future__ import annotations

from threading import Lock

from penstock._runtime.active import hook_failed
from penstock._runtime.backend import StepRun
from penstock._runtime.stepinfo import StepInfo

__all__ = ["first_transition", "observed_edges", "reset"]

_edges_lock = Lock()

#: flow -> {(from_step, to_step): None}, in the order first seen.
_OBSERVED: dict[str, dict[tuple[str, str], None]] = {}
#: (flow, from_step, to_step) already reported as drift.
_DRIFTED: set[tuple[str, str, str]] = set()
#: StepInfos whose ``seen`` cache holds keys, so reset() can empty them.
_TOUCHED: set[StepInfo] = set()


def first_transition(run: StepRun, info: StepInfo, key: object) -> None:
    """Check a (predecessor, caller) -> step transition seen for the first time (slow path)."""
    with _edges_lock:
        if key in info.seen:
            return
        if len(info.seen) > 1024:
            # Keys can come from the wire (remote parents' names): keep the cache bounded;
            # forgetting only means checking a transition again.
            info.seen.clear()
        info.seen[key] = None
        _TOUCHED.add(info)
    try:
        _check_transition(run, info)
    except Exception as exc:  # drift detection is a diagnostic: never break the step
        hook_failed("drift check", "observe", exc)


def _check_transition(run: StepRun, info: StepInfo) -> None:
    flow = info.flow
    parent = run.parent
    if flow is None or parent is None:
        return
    pred = run._pred
    # Candidates for the declared edge that explains this call: the sibling that completed
    # just before it, then the caller. Only steps of the same flow count.
    candidates: list[StepInfo] = []
    for cand in (pred, parent._info):
        if cand is not None and cand not in candidates and _in_flow(cand, flow):
            candidates.append(cand)
    candidates = [c for c in candidates if c.name != info.name]  # recursion is no transition
    if not candidates:
        return
    declared = _declared(info, flow)
    for cand in candidates:
        if cand.name in declared:
            _note_edge(flow, cand.name, info.name)
            return
    # A remote parent's name comes from the wire: undeclared, it counts only as a step this
    # process knows, so forged names cannot grow the observed edges, the drift reports and
    # the log without bound.
    candidates = [c for c in candidates if c.spec is not None or _known_step(c.name, flow)]
    if not candidates:
        return
    first = candidates[0]
    _note_edge(flow, first.name, info.name)
    if (flow, first.name, info.name) in _DRIFTED:
        return
    _DRIFTED.add((flow, first.name, info.name))
    _warn_drift(flow, first, info, declared)


def _in_flow(cand: StepInfo, flow: str) -> bool:
    if cand.flow == flow:
        return True
    if cand.spec is None and cand.flow is None:
        # A remote parent that did not say its flow: accept it if the flow has that step here.
        return _known_step(cand.name, flow)
    return False


def _known_step(name: str, flow: str) -> bool:
    from penstock._declared.registry import REGISTRY

    return any(s.name == name for s in REGISTRY.in_flow(flow))


def _declared(info: StepInfo, flow: str) -> frozenset[str]:
    declared = info.declared
    if declared is None:
        from penstock._declared.spec import handle_of

        names = set()
        spec = info.spec
        for ref in spec.after_in(flow) if spec is not None else ():
            if isinstance(ref, str):
                names.add(ref)
            else:
                handle = handle_of(ref)
                names.add(handle.spec.name if handle is not None else getattr(ref, "__name__", ""))
        declared = info.declared = frozenset(names)
    return declared


def _note_edge(flow: str, src: str, dst: str) -> None:
    with _edges_lock:
        _OBSERVED.setdefault(flow, {})[(src, dst)] = None


def _warn_drift(flow: str, src: StepInfo, dst: StepInfo, declared: frozenset[str]) -> None:
    where_src = src.spec.location if src.spec is not None else "another process"
    where_dst = dst.spec.location if dst.spec is not None else "?"
    import logging  # not at import time: `import penstock` stays light

    if declared:
        expected = f"it declares after={sorted(declared)!r}"
    else:
        expected = "it declares no predecessor"
    logging.getLogger("penstock").warning(
        "flow %r drifted from its declaration: %r (%s) ran right before %r (%s), but %s; "
        "add %r to its after= or update the code",
        flow,
        src.name,
        where_src,
        dst.name,
        where_dst,
        expected,
        src.name,
        extra={"flow": flow, "step": dst.name, "predecessor": src.name, "penstock_drift": True},
    )


def observed_edges(flow: str) -> list[tuple[str, str]]:
    """The transitions this process has seen in ``flow``, as ``(from_step, to_step)`` pairs.

    For each call the edge is the declared one that explains it (from the step that completed
    just before it under the same caller, or from the caller), else, when none is declared,
    the observed predecessor (that case is also logged as drift). Recursion is not an edge.

    Args:
        flow: the flow's name.

    Returns:
        The pairs, sorted.
    """
    with _edges_lock:
        return sorted(_OBSERVED.get(flow, ()))


def reset() -> None:
    """Forget observed edges and reported drift (for tests)."""
    with _edges_lock:
        _OBSERVED.clear()
        _DRIFTED.clear()
        for info in _TOUCHED:
            info.seen.clear()
        _TOUCHED.clear()
