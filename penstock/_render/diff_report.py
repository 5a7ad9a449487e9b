"""Write a `FlowsDiff` for people and programs.

Text (like ``git diff --stat``), JSON, Markdown for pull-request comments, and Mermaid.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable

from penstock._errors import DiffError
from penstock._graph.compare import FlowDiff, FlowsDiff
from penstock._render.diff import diff_diagram, diff_mermaid
from penstock._render.mermaid import MAX_EDGES, MAX_TEXT_SIZE
from penstock._text import shown  # re-exported: the diff report escapes with it

__all__ = [
    "MARKDOWN_MARKER",
    "format_json",
    "format_markdown",
    "format_mermaid",
    "format_text",
    "shown",
    "summary",
]

#: First line of the Markdown report: a bot finds its earlier comment by it and edits it.
MARKDOWN_MARKER = "<!-- penstock-diff -->"


def format_json(diff: FlowsDiff) -> str:
    """The diff document (`FlowsDiff.as_dict`) as indented JSON; names sorted, deterministic."""
    return json.dumps(diff.as_dict(), indent=2, ensure_ascii=False) + "\n"


def format_text(diff: FlowsDiff) -> str:
    """A short terminal summary: one line per changed flow, then the totals.

    ``NAME | STATUS  steps +A -R ~C  edges +A -R``, names aligned as ``git diff --stat`` aligns
    file names.
    """
    changed = diff.changed_flows()
    if not changed:
        return f"no flow changes between {diff.old_label} and {diff.new_label}\n"
    names = {d.flow: shown(d.flow) for d in changed}
    width = max(len(n) for n in names.values())
    lines = []
    for d in changed:
        lines.append(f" {names[d.flow]:<{width}} | {d.status:<7}  {_counts(d)}".rstrip())
    lines.append(" " + _totals(diff))
    return "\n".join(lines) + "\n"


def format_markdown(diff: FlowsDiff, *, direction: str = "TD") -> str:
    """A pull-request comment: a summary line per changed flow, then a diagram per changed flow.

    Each diagram draws the new flow with added steps and edges in one style, removed ones kept
    and dashed, changed ones noted, the rest plain, and a legend. Deterministic, so a bot can
    update its comment in place.
    """
    old, new = md_text(diff.old_label), md_text(diff.new_label)
    lines = [MARKDOWN_MARKER, "### Flow changes", ""]
    changed = diff.changed_flows()
    if not changed:
        lines.append(f"No flow changes between {old} and {new}.")
        return "\n".join(lines) + "\n"
    total = len(diff.flows)
    lines.append(f"{_n(len(changed), 'flow')} of {total} changed between {old} and {new}:")
    lines.append("")
    for d in changed:
        lines.append(f"- **{md_text(d.flow)}** ({d.status}): {summary(d, md_text)}")
    for d in changed:
        lines += ["", f"#### {md_text(d.flow)}", "", summary(d, md_text), ""]
        graph, _ = diff_diagram(d)
        text = diff_mermaid(d, direction=direction)
        if len(graph.edges) > MAX_EDGES or len(text) > MAX_TEXT_SIZE:
            # Mermaid refuses the first and silently blanks the second: say so instead.
            lines.append(
                f"_Diagram left out: {len(graph.edges)} edges and {len(text):,} characters, over "
                f"Mermaid's limits ({MAX_EDGES} edges, {MAX_TEXT_SIZE:,} characters)._"
            )
        else:
            lines += ["```mermaid", text.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def format_mermaid(diff: FlowsDiff, *, direction: str = "TD") -> str:
    """The Mermaid diagram of the one flow compared (``--flow``) or the one that changed.

    Raises:
        DiffError: several flows changed and none was picked.
    """
    if len(diff.flows) == 1:
        (only,) = diff.flows.values()
        return diff_mermaid(only, direction=direction)
    changed = diff.changed_flows()
    if len(changed) == 1:
        return diff_mermaid(changed[0], direction=direction)
    if not changed:
        return ""
    names = ", ".join(repr(d.flow) for d in changed)
    raise DiffError(
        f"the mermaid format draws one flow, and {len(changed)} changed ({names}): "
        "pick one with --flow NAME, or use --format markdown for all of them"
    )


def md_text(text: str) -> str:
    r"""``text`` for Markdown that shows verbatim and is never read as markup.

    Every ASCII punctuation character is backslash-escaped (CommonMark), and characters that
    are not printable are written as ``\uXXXX``.
    """
    out = []
    for ch in text:
        if ch in string.punctuation:
            out.append("\\" + ch)
        elif not ch.isprintable() or (ch.isspace() and ch != " "):
            out.append(f"\\\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def summary(d: FlowDiff, name: Callable[[str], str] | None = None) -> str:
    """One line saying what changed in a flow, in words; ``name`` writes flow names."""
    write = name or shown
    parts: list[str] = []
    moved_in = {step for step, _ in d.moved_in}
    moved_out = {step for step, _ in d.moved_out}
    added = [s for s in d.steps_added if s not in moved_in]
    removed = [s for s in d.steps_removed if s not in moved_out]
    if added:
        parts.append(_n(len(added), "step") + " added")
    if removed:
        parts.append(_n(len(removed), "step") + " removed")
    if d.renamed:
        parts.append(_n(len(d.renamed), "step") + " renamed")
    if d.moved_in:
        flows = sorted({f for _, f in d.moved_in})
        parts.append(_n(len(d.moved_in), "step") + " moved in from " + _names(flows, write))
    if d.moved_out:
        flows = sorted({f for _, f in d.moved_out})
        parts.append(_n(len(d.moved_out), "step") + " moved out to " + _names(flows, write))
    other = [c for c in d.steps_changed if any(f != "name" for f, _, _ in c.fields)]
    if other:
        fields = sorted({f for c in other for f, _, _ in c.fields if f != "name"})
        parts.append(_n(len(other), "step") + " changed (" + ", ".join(fields) + ")")
    if d.edges_added:
        parts.append(_n(len(d.edges_added), "edge") + " added")
    if d.edges_removed:
        parts.append(_n(len(d.edges_removed), "edge") + " removed")
    if d.conditions_changed:
        parts.append(_n(len(d.conditions_changed), "condition") + " changed")
    if d.entrypoints_gained:
        parts.append(_n(len(d.entrypoints_gained), "entrypoint") + " gained")
    if d.entrypoints_lost:
        parts.append(_n(len(d.entrypoints_lost), "entrypoint") + " lost")
    if d.status == "added":
        return "new flow: " + (", ".join(parts) if parts else "no steps")
    if d.status == "removed":
        return "flow removed: " + (", ".join(parts) if parts else "no steps")
    return ", ".join(parts) if parts else "unchanged"


def _counts(d: FlowDiff) -> str:
    steps = _signed(len(d.steps_added), len(d.steps_removed), len(d.steps_changed))
    edges = _signed(len(d.edges_added), len(d.edges_removed), 0)
    out = []
    if steps:
        out.append(f"steps {steps}")
    if edges:
        out.append(f"edges {edges}")
    gained, lost = len(d.entrypoints_gained), len(d.entrypoints_lost)
    if gained or lost:
        out.append(f"entrypoints {_signed(gained, lost, 0)}")
    return "  ".join(out)


def _signed(added: int, removed: int, changed: int) -> str:
    parts = []
    if added:
        parts.append(f"+{added}")
    if removed:
        parts.append(f"-{removed}")
    if changed:
        parts.append(f"~{changed}")
    return " ".join(parts)


def _totals(diff: FlowsDiff) -> str:
    changed = diff.changed_flows()
    by_status = {s: sum(1 for d in changed if d.status == s) for s in ("added", "removed")}
    head = _n(len(changed), "flow") + " changed"
    extra = [f"{n} {s}" for s, n in by_status.items() if n]
    if extra:
        head += f" ({', '.join(extra)})"
    steps = (
        sum(len(d.steps_added) for d in changed),
        sum(len(d.steps_removed) for d in changed),
        sum(len(d.steps_changed) for d in changed),
    )
    edges = (sum(len(d.edges_added) for d in changed), sum(len(d.edges_removed) for d in changed))
    return (
        f"{head}: steps +{steps[0]} -{steps[1]} ~{steps[2]}, edges +{edges[0]} -{edges[1]}"
        f" ({diff.old_label} -> {diff.new_label})"
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _names(names: list[str], write: Callable[[str], str]) -> str:
    return ", ".join(write(n) for n in names)
