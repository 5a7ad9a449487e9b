"""Declared vs observed: the transitions runs show, and drift from the declared flow.

Each call takes the edge the happens-before rule gives (`penstock._runtime.rule`): from a
declared predecessor that completed earlier under the same caller, else from a declared one
that encloses it. When none is declared, the code has drifted from its diagram: that is
logged once per (flow, transition), naming both functions' ``file:line``. Recursion is not a
transition.
"""

from __future__ import annotations

# _thread, not threading: the standard library documents it ("low-level threading API"),
# and threading would cost `import penstock` about a millisecond (tests/test_import_light.py).
from _thread import allocate_lock as Lock

from penstock._runtime.active import hook_failed
from penstock._runtime.backend import StepRun
from penstock._runtime.rule import edge_source
from penstock._runtime.stepinfo import StepInfo

__all__ = ["SEARCH", "first_transition", "observed_edges", "reset", "search_transition"]

_edges_lock = Lock()

#: flow -> {(from_step, to_step): None}, in the order first seen.
_OBSERVED: dict[str, dict[tuple[str, str], None]] = {}
#: (flow, from_step, to_step) already reported as drift.
_DRIFTED: set[tuple[str, str, str]] = set()
#: StepInfos whose ``seen`` cache holds keys, so reset() can empty them.
_TOUCHED: set[StepInfo] = set()


#: `first_transition`'s answer when the edge depends on more than (predecessor, caller).
SEARCH: StepInfo = StepInfo(None, None, "")


def first_transition(run: StepRun, info: StepInfo, key: object) -> StepInfo | None:
    """The edge source of a (predecessor, caller) pair seen for the first time, cached.

    Returns the source when the pair alone decides it (the predecessor, or a caller with no
    earlier sibling, is declared before ``info``), ``None`` when the call takes no edge, and
    `SEARCH` when earlier siblings or callers further up decide (`search_transition`).
    """
    found: StepInfo | None
    try:
        found = _classify(run, info)
    except Exception as exc:  # drift detection is a diagnostic: never break the step
        hook_failed("drift check", "observe", exc)
        found = None
    with _edges_lock:
        if len(info.seen) > 1024:
            # Keys can come from the wire (remote parents' names): keep the cache bounded;
            # forgetting only means classifying a pair again.
            info.seen.clear()
        info.seen[key] = found
        _TOUCHED.add(info)
    if found is not None and found is not SEARCH:
        _note_edge(info.flow, found.name, info.name)  # type: ignore[arg-type]  # flow checked
    return found


def _classify(run: StepRun, info: StepInfo) -> StepInfo | None:
    flow = info.flow
    parent = run.parent
    if flow is None or parent is None:
        return None
    declared = _declared(info, flow)
    last = parent._last_child
    if last is not None:
        if last is not info and last.name in declared and _in_flow(last, flow):
            return last
        return SEARCH
    cand = parent._info
    if cand.name != info.name and cand.name in declared and _in_flow(cand, flow):
        return cand
    if parent.remote:
        # The first call under a run continued from another process: no earlier sibling and
        # no caller above the remote parent, so the pair alone decides (and a remote parent's
        # StepInfo is never a local step's). Cached, instead of searched again for every
        # message or request a consumer or server receives.
        return _search(run, info)
    return SEARCH


def search_transition(run: StepRun, info: StepInfo) -> StepInfo | None:
    """The happens-before rule over this call's earlier siblings and callers; drift logged."""
    try:
        return _search(run, info)
    except Exception as exc:  # drift detection is a diagnostic: never break the step
        hook_failed("drift check", "observe", exc)
        return None


def _search(run: StepRun, info: StepInfo) -> StepInfo | None:
    flow = info.flow
    parent = run.parent
    if flow is None or parent is None:
        return None
    by_name: dict[str, StepInfo] = {}
    done = parent._done
    if done is not None:
        earlier: list[StepInfo] = list(reversed(done))
    else:
        earlier = [parent._last_child] if parent._last_child is not None else []
    completed = []
    for cand in earlier:
        if _in_flow(cand, flow):
            completed.append(cand.name)
            by_name.setdefault(cand.name, cand)
    enclosing = []
    up: StepRun | None = parent
    depth = 0
    while up is not None and depth < 1000:  # a bound against a cycle through remote parents
        cand = up._info
        if not _in_flow(cand, flow):
            break  # a caller in another flow: this flow's run started below it
        enclosing.append(cand.name)
        by_name.setdefault(cand.name, cand)
        up = up.parent
        depth += 1
    declared = _declared(info, flow)
    name, is_declared = edge_source(info.name, declared, completed, enclosing)
    if name is None:
        return None
    source = by_name[name]
    if is_declared:
        _note_edge(flow, name, info.name)
        return source
    # A remote parent's name comes from the wire: undeclared, it counts only as a step this
    # process knows, so forged names cannot grow the observed edges, the drift reports and
    # the log without bound.
    if source.spec is None and not _known_step(name, flow):
        return None
    _note_edge(flow, name, info.name)
    if (flow, name, info.name) not in _DRIFTED:
        with _edges_lock:
            if (flow, name, info.name) in _DRIFTED:
                return source
            _DRIFTED.add((flow, name, info.name))
        _warn_drift(run, flow, source, info, declared, name in enclosing and name not in completed)
    return source


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
    seen = _OBSERVED.get(flow)
    if seen is not None and (src, dst) in seen:
        return
    with _edges_lock:
        _OBSERVED.setdefault(flow, {})[(src, dst)] = None


def _warn_drift(
    run: StepRun, flow: str, src: StepInfo, dst: StepInfo, declared: frozenset[str], called: bool
) -> None:
    where_src = src.spec.location if src.spec is not None else "another process"
    where_dst = dst.spec.location if dst.spec is not None else "?"
    import logging  # not at import time: `import penstock` stays light

    if declared:
        expected = f"it declares after={sorted(declared)!r}"
    else:
        expected = "it declares no predecessor"
    logger = logging.getLogger("penstock")
    record = logger.makeRecord(
        logger.name,
        logging.WARNING,
        dst.spec.file if dst.spec is not None else "",
        dst.spec.line if dst.spec is not None else 0,
        "flow %r drifted from its declaration: %r (%s) %s %r (%s), but %s; "
        "add %r to its after= or update the code",
        (
            flow,
            src.name,
            where_src,
            "called" if called else "ran before",
            dst.name,
            where_dst,
            expected,
            src.name,
        ),
        None,
        extra={"flow": flow, "step": dst.name, "predecessor": src.name, "penstock_drift": True},
    )
    if not logger.isEnabledFor(logging.WARNING):
        return
    if not logger.hasHandlers():
        # No logging configured: the warning takes the output the user chose for step
        # records (a JSON line among JSON lines; nothing under output "off"), not Python's
        # plain-text last resort. A backend without a default output leaves it to logging.
        backend = run._active.backend
        if hasattr(backend, "default_output"):
            fallback = backend.default_output
            if isinstance(fallback, logging.Handler):
                fallback.handle(record)
            return
    logger.handle(record)


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
