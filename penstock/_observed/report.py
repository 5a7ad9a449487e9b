"""``penstock observe`` output as text tables."""

from __future__ import annotations

from math import floor, log10

from penstock._observed.record import NOT_RECORDS
from penstock._observed.replay import RunReplay
from penstock._observed.results import NOT_DECLARED_NOTE, ObservedFlow
from penstock._observed.store_url import is_store
from penstock._text import shown

__all__ = ["nothing_text", "replay_text", "summary_text"]


def _ms(value: float | None) -> str:
    """Milliseconds with at least 3 significant digits (0.0836, not 0.084) and 3 decimals."""
    if value is None:
        return "-"
    if value <= 0 or value >= 1:
        return f"{value:.3f}"
    return f"{value:.{max(3, 2 - floor(log10(value)))}f}"


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def skipped_text(skipped: dict[str, int]) -> str:
    total = sum(skipped.values())
    if not total:
        return "nothing skipped"
    reasons = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(skipped.items()))
    return f"{total:,} skipped ({reasons})"


def nothing_text(observed: ObservedFlow) -> str:
    """What the files held instead, when they hold no record of the flow."""
    files = len(observed.files)
    found = []
    others = {name: n for name, n in observed.other_flows.items() if name}
    if others:
        names = ", ".join(repr(shown(n)) for n in list(others)[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        word = "flow" if len(others) == 1 else "flows"
        found.append(f"{sum(others.values()):,} records of {word} {names}{more}")
    if observed.other_flows.get(""):
        found.append(f"{observed.other_flows['']:,} records of no flow")
    if observed.foreign_spans:
        found.append(f"{observed.foreign_spans:,} foreign spans")
    other = sum(n for r, n in observed.skipped.items() if r in NOT_RECORDS)
    if other:
        found.append(f"{other:,} other lines")
    damaged = {r: n for r, n in observed.skipped.items() if r not in NOT_RECORDS}
    if damaged:
        found.append(skipped_text(damaged))
    detail = f" ({'; '.join(found)})" if found else ""
    if files == 1 and is_store(observed.files[0]):
        return f"no records of flow {shown(observed.flow)!r} in {observed.files[0]}{detail}"
    return (
        f"no records of flow {shown(observed.flow)!r} in {files:,} file"
        f"{'' if files == 1 else 's'}{detail}"
    )


def summary_text(observed: ObservedFlow) -> str:
    """The steps table and the edges table (or what the files held instead)."""
    if not observed.runs:
        return nothing_text(observed) + "\n"
    head = f"flow {shown(observed.flow)!r}: {observed.runs:,} runs; "
    head += skipped_text(observed.skipped)
    elsewhere = sum(observed.other_flows.values())
    if elsewhere or observed.foreign_spans:
        head += f" (also read: {elsewhere:,} records of other flows"
        head += f", {observed.foreign_spans:,} foreign spans)" if observed.foreign_spans else ")"
    lines = [head, ""]
    rows = [["step", "calls", "errors", "error rate", "p50 ms", "p95 ms", ""]]
    for s in observed.steps:
        rows.append(
            [
                shown(s.name),
                f"{s.calls:,}",
                f"{s.errors:,}",
                f"{s.error_rate:.1%}" if s.calls else "-",
                _ms(s.p50_ms),
                _ms(s.p95_ms),
                NOT_DECLARED_NOTE if not s.declared else ("never called" if not s.calls else ""),
            ]
        )
    lines += _table(rows, {1, 2, 3, 4, 5})
    lines.append("")
    rows = [["edge", "declared", "count", ""]]
    for e in observed.edges:
        note = ""
        if e.ghost:
            note = f"names a step not in the flow now, first seen at {shown(e.seen_at or '?')}"
        elif not e.declared:
            note = f"undeclared, first seen at {shown(e.seen_at or '?')}"
        elif not e.count:
            note = "never observed"
        rows.append(
            [
                f"{shown(e.source)} -> {shown(e.target)}",
                "yes" if e.declared else "NO",
                f"{e.count:,}",
                note,
            ]
        )
    lines += _table(rows, {2})
    return "\n".join(lines) + "\n"


def replay_text(run: RunReplay) -> str:
    """The run's calls in start order, indented by depth, hops and the failure marked."""
    failed = run.failed_at
    head = f"run {shown(run.correlation_id)} of flow {shown(run.flow)!r}: "
    head += f"{len(run.steps)} calls, "
    head += f"failed in {shown(failed.name)!r} (#{failed.index})" if failed else "ok"
    rows = [["#", "step", "ms", "status", ""]]
    for s in run.steps:
        notes = []
        if s.via:
            caller = s.caller or (s.edge[0] if s.edge else "?")
            notes.append(f"via {s.via} from {shown(caller)}")
        if s.edge is not None and not s.declared:
            notes.append(f"undeclared {shown(s.edge[0])} -> {shown(s.edge[1])}")
        if s.failed_here:
            notes.append("<- failed here")
        rows.append(
            [
                str(s.index),
                "  " * s.depth + shown(s.name),
                _ms(s.duration_ms),
                s.status,
                "; ".join(notes),
            ]
        )
    return "\n".join([head, "", *_table(rows, {0, 2})]) + "\n"
