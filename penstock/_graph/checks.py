"""Find everything wrong with the declared flows, as structured problems."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from penstock._declared.registry import REGISTRY
from penstock._declared.spec import StepSpec
from penstock._graph.links import unknown_hand_overs
from penstock._graph.model import Resolution, resolve, resolve_flow
from penstock._suggest import close_matches, suggestion

__all__ = ["Problem", "ProblemKind", "check", "check_resolution"]


class ProblemKind(str, enum.Enum):
    """What kind of mistake a `Problem` reports; its value is the name ``penstock check`` prints.

    Attributes:
        CYCLE: steps that run after each other in a circle.
        UNKNOWN_AFTER: an ``after=`` that names no step of the flow.
        DUPLICATE_STEP: two functions declare the same step name in one flow.
        NO_ENTRYPOINT: the flow has no ``@entrypoint``.
        UNREACHABLE: a step no entrypoint leads to.
        NOT_IN_FLOW: a decorated function that no ``@flow`` puts in a flow.
    """

    CYCLE = "cycle"
    UNKNOWN_AFTER = "unknown-after"
    DUPLICATE_STEP = "duplicate-step"
    NO_ENTRYPOINT = "no-entrypoint"
    UNREACHABLE = "unreachable"
    NOT_IN_FLOW = "not-in-flow"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Problem:
    """One mistake in the flow declarations.

    Attributes:
        kind: what is wrong.
        flow: the flow concerned (``None`` for a step in no flow).
        step: the step concerned, if one is.
        file: source file of the step (or of the flow's first step).
        line: line of the decorated function.
        message: a sentence naming the flow, the step and how to fix it.
    """

    kind: ProblemKind
    flow: str | None
    step: str | None
    file: str
    line: int
    message: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.location}: [{self.kind}] {self.message}"


def check(flow: str | None = None) -> list[Problem]:
    """Return every problem in one flow, or in all flows (and steps in no flow).

    Raises:
        FlowNotFoundError: ``flow`` is given and unknown.
    """
    if flow is not None:
        return check_resolution(resolve_flow(flow))
    problems: list[Problem] = []
    for name in REGISTRY.flow_names():
        problems.extend(check_resolution(resolve(name)))
    orphans = [s for s in REGISTRY.all() if not s.flows and s.kind is not None]
    for spec in sorted(orphans, key=lambda s: (s.file, s.line, s.qualname)):
        problems.append(
            _at(
                ProblemKind.NOT_IN_FLOW,
                None,
                spec,
                f"{spec.kind} {spec.name!r} ({spec.module}.{spec.qualname}) is in no flow; "
                f'add @flow("...") above its @{spec.kind}',
            )
        )
    return problems


def _at(kind: ProblemKind, flow: str | None, spec: StepSpec, message: str) -> Problem:
    return Problem(kind, flow, spec.name, spec.file, spec.line, message)


def check_resolution(res: Resolution) -> list[Problem]:
    """Every problem of one resolved flow: one check per kind, root causes before effects.

    A boundary that resolved its flow (`resolve_flow`) checks it here, without a look-up.
    """
    first = {n: specs[0] for n, specs in res.specs.items()}
    cut_off = _cut_off(res)
    problems = _duplicates(res)
    problems += _unknown_afters(res, cut_off)
    problems += _cycle_problems(res, first)
    if res.graph.entrypoints:
        # What is left of cut_off are the roots whose after= resolved (the others were named
        # by their unknown-after problem).
        problems += _unreachable(res, cut_off, first)
    else:
        problems.append(_no_entrypoint(res))
    return problems


def _duplicates(res: Resolution) -> list[Problem]:
    """DUPLICATE_STEP: two functions share a step name in the flow."""
    name = res.graph.name
    problems = []
    for step_name, specs in res.specs.items():
        if len(specs) > 1:
            places = ", ".join(f"{s.module}.{s.qualname} at {s.location}" for s in specs)
            problems.append(
                _at(
                    ProblemKind.DUPLICATE_STEP,
                    name,
                    specs[1],
                    f"flow {name!r} has {len(specs)} different functions named {step_name!r}: "
                    f"{places}; rename one with @step(name=...)",
                )
            )
    return problems


def _unknown_afters(res: Resolution, cut_off: dict[str, list[str]]) -> list[Problem]:
    """UNKNOWN_AFTER: an after= naming no step of the flow, with the steps it cuts off.

    The roots it reports are removed from ``cut_off``.
    """
    name = res.graph.name
    problems = []
    for u in res.unresolved:
        msg = (
            f"step {u.spec.name!r} of flow {name!r} runs after {u.label!r}, "
            f"which is no step of flow {name!r}"
        )
        hint = suggestion(close_matches(u.label, res.specs))
        msg += hint or _elsewhere_hint(name, u.label)
        behind = cut_off.pop(u.spec.name, None)
        if behind is not None:
            cut = _cuts_off(u.spec.name, behind)
            msg += f" {cut[0].upper()}{cut[1:]}" if msg.endswith("?") else f"; {cut}"
        problem = _at(ProblemKind.UNKNOWN_AFTER, name, u.spec, msg)
        line = _line_naming(u.spec, u.label)
        problems.append(problem if line is None else replace(problem, line=line))
    # An after=FlowStep(...) naming a step no flow has (hand-overs between flows).
    for hand_over in unknown_hand_overs(name):
        problems.append(_at(ProblemKind.UNKNOWN_AFTER, name, hand_over.spec, hand_over.message))
    return problems


def _line_naming(spec: StepSpec, label: str) -> int | None:
    """The line of the decorators above ``spec``'s function that names ``label``.

    The spec's own line is the first decorator's (often ``@flow``), while the typo sits in
    ``@step(after=...)``, maybe a few lines down: point there. ``None`` when the source cannot
    be read or does not name it (an ``after=`` built at run time).
    """
    import linecache

    for number in range(spec.line, spec.line + 50):
        text = linecache.getline(spec.file, number)
        stripped = text.lstrip()
        if not text or stripped.startswith(("def ", "async def ", "class ")):
            return None
        if label in text:
            return number
    return None


def _elsewhere_hint(flow: str, label: str) -> str:
    """The fix for an after= naming a step of other flows, or an unknown name."""
    elsewhere = sorted(
        {f for s in REGISTRY.all() if s.name == label for f in s.flow_names if f != flow}
    )
    if elsewhere:
        return (
            f"; {label!r} is a step of {', '.join(repr(f) for f in elsewhere)}: "
            f"add @flow({flow!r}) to it, or use @flow({flow!r}, after=...) here"
        )
    return "; check the name, or decorate that function with @step"


def _cycle_problems(res: Resolution, first: dict[str, StepSpec]) -> list[Problem]:
    """CYCLE: one problem per cycle, naming each step's location."""
    name = res.graph.name
    problems = []
    for cycle in _cycles(name, res):
        path = " -> ".join([*cycle, cycle[0]])
        where = "; ".join(f"{n} at {first[n].location}" for n in cycle)
        problems.append(
            _at(
                ProblemKind.CYCLE,
                name,
                first[cycle[0]],
                f"flow {name!r} has a cycle: {path} ({where}); remove one of these after= links",
            )
        )
    return problems


def _no_entrypoint(res: Resolution) -> Problem:
    """NO_ENTRYPOINT: located at the flow's first step in the source."""
    name = res.graph.name
    head = min((s for specs in res.specs.values() for s in specs), key=lambda s: s.line)
    return Problem(
        ProblemKind.NO_ENTRYPOINT,
        name,
        None,
        head.file,
        head.line,
        f"flow {name!r} has no entrypoint; mark the function that starts it with @entrypoint",
    )


def _cut_off(res: Resolution) -> dict[str, list[str]]:
    """Unreachable steps grouped by their root cause: root step -> the steps it cuts off.

    A root is an unreachable step with a broken ``after=``, or with no unreachable step before
    it (a step without ``after=``, or one on a cycle). Every other unreachable step is cut off
    by the root(s) before it and is not a problem of its own. Empty without an entrypoint (that
    is one problem of the whole flow).
    """
    g = res.graph
    if not g.entrypoints:
        return {}
    reachable = g.reachable(g.entrypoints)
    lost = [s.name for s in g.steps if s.name not in reachable]
    if not lost:
        return {}
    # Only on the error path: networkx is a tenth of a docs build to import.
    import networkx as nx

    dg = g.to_networkx()
    broken = {u.spec.name for u in res.unresolved}
    lost_set = set(lost)
    component: dict[str, int] = {}
    for i, members_of in enumerate(nx.strongly_connected_components(dg)):
        for n in members_of:
            component[n] = i
    roots: list[str] = []
    seen_components: set[int] = set()
    for n in lost:
        comp = component[n]
        outside = [p for p in dg.predecessors(n) if p in lost_set and component[p] != component[n]]
        if n in broken:
            roots.append(n)
        elif not outside and comp not in seen_components:
            # Nothing unreachable leads in from outside its cycle (if it is on one): a root.
            # One root per cycle, its first step.
            members = [m for m in lost if component[m] == comp]
            if all(
                q not in lost_set or component[q] == comp
                for m in members
                for q in dg.predecessors(m)
            ):
                roots.append(n)
        seen_components.add(comp)
    order = {n: i for i, n in enumerate(lost)}
    claimed = set(roots)
    groups: dict[str, list[str]] = {}
    for root in roots:
        behind = sorted(
            (d for d in nx.descendants(dg, root) if d in lost_set and d not in claimed),
            key=order.__getitem__,
        )
        claimed.update(behind)
        groups[root] = behind
    return groups


def _cuts_off(step: str, behind: list[str]) -> str:
    if not behind:
        return f"until it is fixed, no entrypoint reaches {step!r}"
    names = ", ".join(repr(b) for b in behind)
    return (
        f"until it is fixed, no entrypoint reaches {step!r} nor the {len(behind)} step(s) "
        f"after it: {names}"
    )


def _unreachable(
    res: Resolution, groups: dict[str, list[str]], first: dict[str, StepSpec]
) -> list[Problem]:
    """One problem per root cause of unreachable steps whose ``after=`` resolved."""
    g = res.graph
    entries = ", ".join(g.entrypoints)
    preds: dict[str, list[str]] = {}
    for e in g.edges:
        preds.setdefault(e.target, []).append(e.source)
    problems: list[Problem] = []
    for root, behind in groups.items():
        spec = first[root]
        before = preds.get(root, [])
        if before:
            # On a cycle no entrypoint leads into: advice about its predecessors.
            others = ", ".join(repr(p) for p in before)
            advice = (
                f"it runs after {others}, which no entrypoint reaches either; make one of "
                "those steps run after a reachable step, or mark one @entrypoint"
            )
        else:
            advice = (
                "it has no after=: give it after=... naming the step before it, "
                "or mark it @entrypoint"
            )
        msg = (
            f"step {root!r} of flow {g.name!r} cannot be reached from any entrypoint "
            f"({entries}); {advice}"
        )
        if behind:
            msg += f"; it also cuts off {len(behind)} step(s): {', '.join(map(repr, behind))}"
        problems.append(_at(ProblemKind.UNREACHABLE, g.name, spec, msg))
    return problems


def _cycles(flow: str, res: Resolution) -> list[list[str]]:
    """One cycle per strongly connected component, rotated to start at its first step."""
    g = res.graph
    if not g.edges:
        return []
    # A DAG's topological order has every edge pointing forward; skip networkx then.
    rank = {s.name: i for i, s in enumerate(g.steps)}
    if all(rank[e.source] < rank[e.target] for e in g.edges):
        return []
    import networkx as nx

    dg = g.to_networkx()
    cycles: list[list[str]] = []
    for comp in nx.strongly_connected_components(dg):
        if len(comp) == 1:
            (only,) = comp
            if not dg.has_edge(only, only):
                continue
        sub = dg.subgraph(comp)
        start = min(comp, key=lambda n: rank[n])
        cyc = [u for u, _ in nx.find_cycle(sub, source=start)]
        pivot = min(range(len(cyc)), key=lambda i: rank[cyc[i]])
        cycles.append(cyc[pivot:] + cyc[:pivot])
    cycles.sort(key=lambda c: rank[c[0]])
    return cycles
