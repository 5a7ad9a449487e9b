"""The terminal report: a table per flow, and with ``missing`` every item no run exercised.

Percentages are shown as coverage.py shows them: rounded, but never 100 % while something is
missing, nor 0 % once something is covered.
"""

from __future__ import annotations

from penstock._coverage.model import KINDS, PATH_LIMIT, CoverageReport, Measure

__all__ = ["percent_text", "ratio_text", "table_text"]

_SINGULAR = {"steps": "step", "edges": "edge", "branches": "branch", "paths": "path"}


def percent_text(value: float | None) -> str:
    """``83%``; ``99%`` for 99.6, ``1%`` for 0.4; ``-`` for not counted."""
    if value is None:
        return "-"
    if 0 < value < 1:
        return "1%"
    if 99 < value < 100:
        return "99%"
    return f"{round(value):d}%"


def ratio_text(m: Measure) -> str:
    """``5/6 83%``, or ``>10,000`` for paths not counted."""
    if m.capped:
        return f">{PATH_LIMIT:,} paths"
    return f"{len(m.covered)}/{m.total} {percent_text(m.percent):>4}"


def table_text(report: CoverageReport, *, missing: bool = False, skip_covered: bool = False) -> str:
    """The table (and, with ``missing``, the missing items of each flow) as text."""
    flows = [f for f in report.flows.values() if not (skip_covered and f.complete)]
    header = ["Flow", "Runs", *(k.capitalize() for k in KINDS)]
    rows = [[f.flow, f"{f.runs:,}", *(ratio_text(f.measure(k)) for k in KINDS)] for f in flows]
    totals = report.totals()
    rule_row = None
    if len(report.flows) > 1 or not rows:
        runs = sum(f.runs for f in report.flows.values())
        rule_row = ["TOTAL", f"{runs:,}", *(ratio_text(totals[k]) for k in KINDS)]
    widths = [len(h) for h in header]
    for row in [*rows, *([rule_row] if rule_row else [])]:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "   ".join(out).rstrip()

    lines = [line(header), "-" * len(line(header))]
    lines += [line(r) for r in rows]
    if rule_row is not None:
        lines += ["-" * len(line(header)), line(rule_row)]
    if skip_covered:
        hidden = len(report.flows) - len(flows)
        if hidden:
            lines.append(f"\n{hidden} fully covered flow(s) skipped.")
    if missing:
        lines += _missing_lines(report, skip_covered)
    return "\n".join(lines) + "\n"


def _missing_lines(report: CoverageReport, skip_covered: bool) -> list[str]:
    out: list[str] = []
    for f in report.flows.values():
        items = [(k, i) for k in KINDS for i in f.measure(k).missing]
        capped = f.paths.capped
        if not items and not capped:
            continue
        out.append("")
        out.append(f"{f.flow}: missing")
        labels = [(_SINGULAR[k], i.label(k), i.location or "") for k, i in items]
        width = max((len(lbl) for _, lbl, _ in labels), default=0)
        for kind, label, where in labels:
            out.append(f"  {kind:<6}  {label:<{width}}  {where}".rstrip())
        if capped:
            out.append(
                f"  paths   more than {PATH_LIMIT:,}: not counted (steps, edges and branches are)"
            )
    return out
