"""Several coverage reports as one: every item covered by any of them, and by which.

``penstock coverage --combine tests.json production.json`` answers "tested but never used in
production" and "used in production but never tested": each covered item of the combined report
lists the reports that covered it (``sources``).
"""

from __future__ import annotations

from collections.abc import Sequence

from penstock._coverage.model import KINDS, CoverageReport, FlowCoverage, Item, Measure

__all__ = ["combine", "only_in"]


def combine(reports: Sequence[tuple[str, CoverageReport]]) -> CoverageReport:
    """The union of ``(name, report)`` pairs; each covered item says which reports covered it.

    Flows and items only some reports know (reports of different versions of the code) are
    kept: an item is declared when any report declares it.
    """
    names = tuple(name for name, _ in reports)
    flows: dict[str, FlowCoverage] = {}
    all_flows = sorted({f for _, r in reports for f in r.flows})
    for flow in all_flows:
        present = [(name, r.flows[flow]) for name, r in reports if flow in r.flows]
        measures = [_combined(kind, present) for kind in KINDS]
        runs = sum(fc.runs for _, fc in present)
        flows[flow] = FlowCoverage(flow, runs, *measures)
    return CoverageReport(flows, "combined", names)


def _combined(kind: str, present: list[tuple[str, FlowCoverage]]) -> Measure:
    declared: dict[tuple[str, ...], Item] = {}
    by: dict[tuple[str, ...], list[str]] = {}
    capped = False
    for name, fc in present:
        m = fc.measure(kind)
        capped = capped or m.capped
        for item in (*m.covered, *m.missing):
            declared.setdefault(item.key, item)
        for item in m.covered:
            # A combined report read back keeps the reports its items came from.
            for source in item.sources or (name,):
                if source not in by.setdefault(item.key, []):
                    by[item.key].append(source)
    if capped:
        return Measure(kind, capped=True)
    covered = tuple(
        Item(k, i.location, i.when, tuple(by[k])) for k, i in declared.items() if k in by
    )
    missing = tuple(Item(k, i.location, i.when) for k, i in declared.items() if k not in by)
    return Measure(kind, covered, missing)


def only_in(report: CoverageReport, source: str) -> dict[str, list[tuple[str, Item]]]:
    """Per flow, the ``(kind, item)`` pairs covered by ``source`` and by no other report."""
    out: dict[str, list[tuple[str, Item]]] = {}
    for name, fc in report.flows.items():
        found = [
            (kind, item)
            for kind in KINDS
            for item in fc.measure(kind).covered
            if item.sources == (source,)
        ]
        if found:
            out[name] = found
    return out
