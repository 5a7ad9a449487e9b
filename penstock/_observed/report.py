"""``penstock observe`` output as text tables."""

from __future__ import annotations

from penstock._observed.replay import RunReplay
from penstock._observed.tally import ObservedFlow

__all__ = ["replay_text", "summary_text"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


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


def summary_text(observed: ObservedFlow) -> str:
    """The steps table and the edges table."""
    lines = [
        f"flow {observed.flow!r}: {observed.runs:,} runs; {skipped_text(observed.skipped)}",
        "",
    ]
    rows = [["step", "calls", "errors", "error rate", "p50 ms", "p95 ms", ""]]
    for s in observed.steps:
        rows.append(
            [
                s.name,
                f"{s.calls:,}",
                f"{s.errors:,}",
                f"{s.error_rate:.1%}" if s.calls else "-",
                _ms(s.p50_ms),
                _ms(s.p95_ms),
                "never called" if not s.calls else ("not declared" if not s.declared else ""),
            ]
        )
    lines += _table(rows, {1, 2, 3, 4, 5})
    lines.append("")
    rows = [["edge", "declared", "count", ""]]
    for e in observed.edges:
        note = ""
        if not e.declared:
            note = f"undeclared, first seen at {e.seen_at}"
        elif not e.count:
            note = "never observed"
        rows.append(
            [f"{e.source} -> {e.target}", "yes" if e.declared else "NO", f"{e.count:,}", note]
        )
    lines += _table(rows, {2})
    return "\n".join(lines) + "\n"


def replay_text(run: RunReplay) -> str:
    """The run's calls in start order, indented by depth, hops and the failure marked."""
    failed = run.failed_at
    head = f"run {run.correlation_id} of flow {run.flow!r}: {len(run.steps)} calls, "
    head += f"failed in {failed.name!r} (#{failed.index})" if failed else "ok"
    rows = [["#", "step", "ms", "status", ""]]
    for s in run.steps:
        notes = []
        if s.via:
            notes.append(f"via {s.via} from {s.caller or (s.edge[0] if s.edge else '?')}")
        if s.edge is not None and not s.declared:
            notes.append(f"undeclared {s.edge[0]} -> {s.edge[1]}")
        if s.failed_here:
            notes.append("<- failed here")
        rows.append(
            [
                str(s.index),
                "  " * s.depth + s.name,
                f"{s.duration_ms:.3f}",
                s.status,
                "; ".join(notes),
            ]
        )
    return "\n".join([head, "", *_table(rows, {0, 2})]) + "\n"
