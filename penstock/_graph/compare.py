"""Compare two versions of a project's flows: what a change does to each flow.

Steps are matched by the function that defines them (module and qualname) first, so a step
whose name changed but whose function stayed is *renamed*, not removed and added; the steps
left over are matched by name. Source files and line numbers are not compared: a step that only
moved within its file is not a change. A function that leaves one flow and joins another is a
step *moved* between those flows (still listed as removed from the first and added to the
second, so each flow's own picture is complete).

A step whose *function* was renamed (same flow, same module, kind, description and transport,
and the same edges to the steps around it) is paired with its old self as a *probable rename*
when exactly one removed and one added step fit each other; the reports mark it with a "?".
Everything here is linear in the number of flows and steps: CI compares dumps of thousands of
flows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from penstock._graph.model import Edge, FlowGraph, StepNode

__all__ = ["DIFF_SCHEMA", "DIFF_VERSION", "FlowDiff", "FlowsDiff", "StepChange", "compare"]

#: The ``schema`` value of the JSON diff document.
DIFF_SCHEMA = "penstock.diff"
#: Version of the JSON diff layout.
DIFF_VERSION = 1

Status = Literal["added", "removed", "changed", "unchanged"]
Pair = tuple[str, str]

#: Step fields compared between versions, in report order ("function" is module.qualname).
COMPARED_FIELDS = ("name", "kind", "doc", "transport", "function")


@dataclass(frozen=True)
class StepChange:
    """A step present in both versions of a flow whose declaration changed.

    Attributes:
        name: the step's name in the new version.
        old_name: its name in the old version (differs when it was renamed in place).
        fields: ``(field, old, new)`` for each changed field among ``name``, ``kind``, ``doc``
            (the description), ``transport`` and ``function`` (``module.qualname``).
        probable: the old and new step were paired by their place in the flow, not by their
            function (a function renamed): a probable rename.
    """

    name: str
    old_name: str
    fields: tuple[tuple[str, str | None, str | None], ...]
    probable: bool = False

    def as_dict(self) -> dict[str, list[str | None]]:
        return {f: [old, new] for f, old, new in self.fields}


@dataclass(frozen=True)
class FlowDiff:
    """What changed in one flow. Every tuple is sorted by name.

    Attributes:
        flow: the flow's name.
        status: ``added``, ``removed``, ``changed`` or ``unchanged``.
        old: the flow in the old version (``None`` when added).
        new: the flow in the new version (``None`` when removed).
        steps_added: names (new version) of steps that were not in the flow, moved ones included.
        steps_removed: names (old version) of steps no longer in the flow, moved ones included.
        steps_changed: steps in both versions whose declaration changed (renamed ones included).
        renamed: ``(old name, new name)`` of steps renamed in place, probable renames included.
        probable_renames: the part of ``renamed`` paired by place rather than by function.
        moved_in: ``(step, flow it left)`` for steps that came from another flow.
        moved_out: ``(step, flow it joined)`` for steps that went to another flow.
        edges_added: ``(from, to)`` by new names.
        edges_removed: ``(from, to)`` by old names.
        conditions_changed: ``(from, to, old condition, new condition)`` of edges in both
            versions whose ``when=`` changed (``None``: unconditional), by new names.
        entrypoints_gained: entrypoints of the new version that were not entrypoints before.
        entrypoints_lost: entrypoints of the old version that are no longer entrypoints.
    """

    flow: str
    status: Status
    old: FlowGraph | None = field(repr=False)
    new: FlowGraph | None = field(repr=False)
    steps_added: tuple[str, ...] = ()
    steps_removed: tuple[str, ...] = ()
    steps_changed: tuple[StepChange, ...] = ()
    renamed: tuple[Pair, ...] = ()
    probable_renames: tuple[Pair, ...] = ()
    moved_in: tuple[Pair, ...] = ()
    moved_out: tuple[Pair, ...] = ()
    edges_added: tuple[Pair, ...] = ()
    edges_removed: tuple[Pair, ...] = ()
    conditions_changed: tuple[tuple[str, str, str | None, str | None], ...] = ()
    entrypoints_gained: tuple[str, ...] = ()
    entrypoints_lost: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True unless the flow is the same in both versions."""
        return self.status != "unchanged"

    def as_dict(self) -> dict[str, Any]:
        """The JSON layout of one flow's entry (see `FlowsDiff.as_dict`)."""
        return {
            "status": self.status,
            "steps": {
                "added": list(self.steps_added),
                "removed": list(self.steps_removed),
                "changed": [c.name for c in self.steps_changed],
                "renamed": [list(p) for p in self.renamed],
                "probable_renames": [list(p) for p in self.probable_renames],
                "moved_in": [list(p) for p in self.moved_in],
                "moved_out": [list(p) for p in self.moved_out],
            },
            "edges": {
                "added": [list(e) for e in self.edges_added],
                "removed": [list(e) for e in self.edges_removed],
                "conditions": [list(c) for c in self.conditions_changed],
            },
            "entrypoints": {
                "gained": list(self.entrypoints_gained),
                "lost": list(self.entrypoints_lost),
            },
            "changes": {c.name: c.as_dict() for c in self.steps_changed},
        }


@dataclass(frozen=True)
class FlowsDiff:
    """What changed between two versions of every flow, by flow name (sorted).

    Attributes:
        flows: one `FlowDiff` per flow present in either version.
        old_label: what the old version is (a revision or a file), for reports.
        new_label: what the new version is.
    """

    flows: dict[str, FlowDiff]
    old_label: str = "old"
    new_label: str = "new"

    @property
    def changed(self) -> bool:
        """True when any flow differs."""
        return any(d.changed for d in self.flows.values())

    def changed_flows(self) -> list[FlowDiff]:
        """The flows that differ, by name."""
        return [d for d in self.flows.values() if d.changed]

    def as_dict(self) -> dict[str, Any]:
        """The JSON diff document.

        ``{"schema": "penstock.diff", "version": 1, "old": ..., "new": ..., "changed": bool,
        "flows": {NAME: {"status": ..., "steps": {"added": [...], "removed": [...],
        "changed": [...], "renamed": [[OLD, NEW]], "probable_renames": [[OLD, NEW]],
        "moved_in": [[STEP, FROM_FLOW]], "moved_out": [[STEP, TO_FLOW]]}, "edges": {"added":
        [[FROM, TO]], "removed": [...], "conditions": [[FROM, TO, OLD_WHEN, NEW_WHEN]]},
        "entrypoints": {"gained": [...], "lost": [...]}, "changes": {STEP: {FIELD: [OLD,
        NEW]}}}}}``.
        """
        return {
            "schema": DIFF_SCHEMA,
            "version": DIFF_VERSION,
            "old": self.old_label,
            "new": self.new_label,
            "changed": self.changed,
            "flows": {name: d.as_dict() for name, d in self.flows.items()},
        }


def compare(
    old: Mapping[str, FlowGraph],
    new: Mapping[str, FlowGraph],
    *,
    old_label: str = "old",
    new_label: str = "new",
    old_bodies: Mapping[str, str] | None = None,
    new_bodies: Mapping[str, str] | None = None,
) -> FlowsDiff:
    """Compare two versions of a set of flows (as read from dumps or `penstock.flows`).

    Args:
        old: the old version's flows by name.
        new: the new version's flows by name.
        old_label: how reports name the old version.
        new_label: how reports name the new version.
        old_bodies: fingerprints of the old step functions by ``module.qualname`` (a dump's
            ``bodies``); with ``new_bodies``, they let a renamed function be recognised.
        new_bodies: the same for the new version.
    """
    bodies = (old_bodies or {}, new_bodies or {})
    names = sorted(set(old) | set(new))
    out: dict[str, FlowDiff] = {}
    # Most flows of a big project are untouched by a change: one comparison of what matters
    # settles them, and only the rest are matched step by step.
    for name in names:
        o, n = old.get(name), new.get(name)
        if o is not None and n is not None and _same(o, n):
            out[name] = FlowDiff(flow=name, status="unchanged", old=o, new=n)
    names = [name for name in names if name not in out]
    matched = {name: _match(old.get(name), new.get(name)) for name in names}
    # Which flows each function left and joined, in one pass: a move is a function in both.
    left_by_key: dict[tuple[str, str], list[str]] = {}
    joined_by_key: dict[tuple[str, str], list[str]] = {}
    for name in names:
        _, gone, came = matched[name]
        for s in gone:
            left_by_key.setdefault(_key(s), []).append(name)
        for s in came:
            joined_by_key.setdefault(_key(s), []).append(name)

    for name in names:
        pairs, gone, came = matched[name]
        moved_in = sorted(
            (s.name, other) for s in came for other in left_by_key.get(_key(s), ()) if other != name
        )
        moved_out = sorted(
            (s.name, other)
            for s in gone
            for other in joined_by_key.get(_key(s), ())
            if other != name
        )
        moving = {step for step, _ in moved_in} | {step for step, _ in moved_out}
        probable = _probable_renames(
            old.get(name), new.get(name), pairs, gone, came, moving, bodies
        )
        if probable:
            paired_old = {o.name for o, _ in probable}
            paired_new = {n.name for _, n in probable}
            gone = [s for s in gone if s.name not in paired_old]
            came = [s for s in came if s.name not in paired_new]
        out[name] = _flow_diff(
            name,
            old.get(name),
            new.get(name),
            pairs + probable,
            {n.name for _, n in probable},
            gone,
            came,
            (tuple(moved_in), tuple(moved_out)),
        )
    return FlowsDiff(flows=dict(sorted(out.items())), old_label=old_label, new_label=new_label)


def _key(step: StepNode) -> tuple[str, str]:
    return (step.module, step.qualname)


def _same(old: FlowGraph, new: FlowGraph) -> bool:
    """True when nothing compared differs (file and line may: they are not compared)."""
    if old.edges != new.edges or old.entrypoints != new.entrypoints:
        return False
    if len(old.steps) != len(new.steps):
        return False
    return all(
        a.name == b.name
        and a.qualname == b.qualname
        and a.module == b.module
        and a.kind == b.kind
        and a.doc == b.doc
        and a.transport == b.transport
        for a, b in zip(old.steps, new.steps, strict=True)
    )


def _match(
    old: FlowGraph | None, new: FlowGraph | None
) -> tuple[list[tuple[StepNode, StepNode]], list[StepNode], list[StepNode]]:
    """Pairs of the same step in both versions, then the old-only and new-only steps."""
    olds = list(old.steps) if old else []
    news = list(new.steps) if new else []
    new_by_key = {_key(s): s for s in news}
    pairs: list[tuple[StepNode, StepNode]] = []
    used: set[str] = set()
    rest: list[StepNode] = []
    for s in olds:
        twin = new_by_key.get(_key(s))
        if twin is not None and twin.name not in used:
            pairs.append((s, twin))
            used.add(twin.name)
        else:
            rest.append(s)
    new_by_name = {s.name: s for s in news if s.name not in used}
    gone: list[StepNode] = []
    for s in rest:
        twin = new_by_name.pop(s.name, None)
        if twin is not None:
            pairs.append((s, twin))
            used.add(twin.name)
        else:
            gone.append(s)
    came = [s for s in news if s.name not in used]
    return pairs, gone, came


def _flow_diff(
    name: str,
    old: FlowGraph | None,
    new: FlowGraph | None,
    pairs: list[tuple[StepNode, StepNode]],
    probable: set[str],
    gone: list[StepNode],
    came: list[StepNode],
    moves: tuple[tuple[Pair, ...], tuple[Pair, ...]],
) -> FlowDiff:
    changes = []
    renames: dict[str, str] = {}
    for o, n in pairs:
        renames[o.name] = n.name
        fields = _changed_fields(o, n)
        if fields:
            changes.append(
                StepChange(name=n.name, old_name=o.name, fields=fields, probable=n.name in probable)
            )
    changes.sort(key=lambda c: c.name)

    moved_in, moved_out = moves
    edges_added, edges_removed, conditions = _edge_changes(old, new, renames)
    old_entries = {renames.get(e, e): e for e in (old.entrypoints if old else ())}
    new_entries = set(new.entrypoints) if new else set()
    diff = FlowDiff(
        flow=name,
        status="unchanged",
        old=old,
        new=new,
        steps_added=tuple(sorted(s.name for s in came)),
        steps_removed=tuple(sorted(s.name for s in gone)),
        steps_changed=tuple(changes),
        renamed=tuple(sorted((c.old_name, c.name) for c in changes if c.old_name != c.name)),
        probable_renames=tuple(sorted((c.old_name, c.name) for c in changes if c.probable)),
        moved_in=moved_in,
        moved_out=moved_out,
        edges_added=edges_added,
        edges_removed=edges_removed,
        conditions_changed=conditions,
        entrypoints_gained=tuple(sorted(new_entries - set(old_entries))),
        entrypoints_lost=tuple(sorted(old_entries[e] for e in set(old_entries) - new_entries)),
    )
    return replace(diff, status=_status(diff))


def _probable_renames(
    old: FlowGraph | None,
    new: FlowGraph | None,
    pairs: list[tuple[StepNode, StepNode]],
    gone: list[StepNode],
    came: list[StepNode],
    moving: set[str],
    bodies: tuple[Mapping[str, str], Mapping[str, str]],
) -> list[tuple[StepNode, StepNode]]:
    """Removed and added steps that are one step whose function was renamed.

    Two steps fit when their functions' bodies have the same fingerprint, module, kind,
    description and transport are equal, and their edges (with conditions) reach the same
    steps, named as in the new version. Without fingerprints nothing fits: a step replaced by
    another at the same place looks exactly like a rename otherwise. A pair is kept only
    when neither side fits anything else: a guess that could go two ways is no guess. Steps
    that moved between flows are left alone.
    """
    if old is None or new is None:
        return []
    olds = [s for s in gone if s.name not in moving]
    news = [s for s in came if s.name not in moving]
    if not olds or not news:
        return []
    renames = {o.name: n.name for o, n in pairs}
    by_target_old = _edges_by_step(old)
    by_target_new = _edges_by_step(new)

    kept_new = set(renames.values())

    def signature(
        step: StepNode, edges: dict[str, list[Edge]], names: dict[str, str], side: int
    ) -> Any:
        """What recognises a step: its body and declaration, and the steps around it.

        A neighbour found in both versions is named (as in the new version); one that is
        itself removed or added (a neighbour replaced in the same change) counts only by
        direction and condition.
        """
        body = bodies[side].get(f"{step.module}.{step.qualname}")
        around: list[tuple[str | None, str | None, str | None]] = []
        for e in edges.get(step.name, ()):
            before = e.target == step.name
            other = e.source if before else e.target
            named = names.get(other) if side == 0 else (other if other in kept_new else None)
            shown = named if named is not None else "?"
            around.append((shown if before else None, None if before else shown, e.when))
        return (
            body,
            step.module,
            step.kind,
            step.doc,
            step.transport,
            tuple(sorted(around, key=str)),
        )

    added: dict[Any, list[StepNode]] = {}
    for s in news:
        sig = signature(s, by_target_new, {}, 1)
        # A step with no fingerprint, or no edge to a step found in both versions, has
        # nothing to be recognised by.
        if sig[0] is not None and any("?" not in (a, b) for a, b, _ in sig[-1]):
            added.setdefault(sig, []).append(s)
    removed: dict[Any, list[StepNode]] = {}
    for s in olds:
        removed.setdefault(signature(s, by_target_old, renames, 0), []).append(s)
    found = []
    for sig, candidates in removed.items():
        twins = added.get(sig, [])
        if len(candidates) == 1 and len(twins) == 1:
            found.append((candidates[0], twins[0]))
    return found


def _edges_by_step(graph: FlowGraph) -> dict[str, list[Edge]]:
    """Every edge, under both of its steps."""
    out: dict[str, list[Edge]] = {}
    for e in graph.edges:
        out.setdefault(e.source, []).append(e)
        if e.target != e.source:
            out.setdefault(e.target, []).append(e)
    return out


def _edge_changes(
    old: FlowGraph | None, new: FlowGraph | None, renames: dict[str, str]
) -> tuple[tuple[Pair, ...], tuple[Pair, ...], tuple[tuple[str, str, str | None, str | None], ...]]:
    """Edges added (new names), removed (old names), and kept edges whose condition changed."""
    # Old edges under the new names of their steps: a rename alone changes no edge.
    old_edge_names = {
        (renames.get(e.source, e.source), renames.get(e.target, e.target)): (e.source, e.target)
        for e in (old.edges if old else ())
    }
    old_when = {
        (renames.get(e.source, e.source), renames.get(e.target, e.target)): e.when
        for e in (old.edges if old else ())
    }
    new_edges = {(e.source, e.target) for e in new.edges} if new else set()
    conditions = sorted(
        (e.source, e.target, old_when[(e.source, e.target)], e.when)
        for e in (new.edges if new else ())
        if (e.source, e.target) in old_when and old_when[(e.source, e.target)] != e.when
    )
    old_edges = set(old_edge_names)
    return (
        tuple(sorted(new_edges - old_edges)),
        tuple(sorted(old_edge_names[e] for e in old_edges - new_edges)),
        tuple(conditions),
    )


def _status(diff: FlowDiff) -> Status:
    if diff.old is None:
        return "added"
    if diff.new is None:
        return "removed"
    changed = (
        diff.steps_added,
        diff.steps_removed,
        diff.steps_changed,
        diff.edges_added,
        diff.edges_removed,
        diff.conditions_changed,
        diff.entrypoints_gained,
        diff.entrypoints_lost,
    )
    return "changed" if any(changed) else "unchanged"


def _changed_fields(old: StepNode, new: StepNode) -> tuple[tuple[str, str | None, str | None], ...]:
    out: list[tuple[str, str | None, str | None]] = []
    for f in COMPARED_FIELDS:
        if f == "function":
            a: str | None = f"{old.module}.{old.qualname}"
            b: str | None = f"{new.module}.{new.qualname}"
        else:
            a, b = getattr(old, f), getattr(new, f)
        if a != b:
            out.append((f, a, b))
    return tuple(out)
