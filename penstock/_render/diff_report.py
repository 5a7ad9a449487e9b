"""Write a `FlowsDiff` for people and programs.

Text (like ``git diff --stat``), JSON, Markdown for pull-request comments, and Mermaid.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable

from penstock._errors import DiffError
from penstock._graph.compare import FlowDiff, FlowsDiff, StepChange
from penstock._observed.traffic import DiffTraffic, FlowTraffic, traffic_words
from penstock._render.diff import change_notes, diff_diagram, diff_mermaid
from penstock._render.legend import legend_markdown, with_legend
from penstock._render.mermaid import MAX_EDGES, MAX_TEXT_SIZE
from penstock._text import shown  # re-exported: the diff report escapes with it

__all__ = [
    "DEFAULT_MAX_CHARS",
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
#: Longest Markdown report by default: GitHub's API refuses comment bodies over 65,536
#: characters, and a margin leaves room for what a bot adds around it.
DEFAULT_MAX_CHARS = 60_000


def format_json(diff: FlowsDiff, traffic: DiffTraffic | None = None) -> str:
    """The diff document (`FlowsDiff.as_dict`) as indented JSON; names sorted, deterministic.

    With ``traffic``, the document has a top-level ``observed`` object (the window and the
    files read), each changed flow an ``observed`` object with an entry per step and edge
    change (``calls``, ``last_seen``; ``new: true`` for added ones), and ``live_removals``
    lists the removed steps and edges recorded runs still took.
    """
    document = diff.as_dict()
    if traffic is not None:
        document["observed"] = traffic.as_dict()
        for d in diff.changed_flows():
            entry = traffic.flow_dict(d)
            if entry is not None:
                document["flows"][d.flow]["observed"] = entry
        document["live_removals"] = [
            {"flow": r.flow, "kind": r.what, "name": r.name, **r.traffic.as_dict()}
            for r in traffic.live_removals(diff)
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def format_text(diff: FlowsDiff, traffic: DiffTraffic | None = None) -> str:
    """A terminal report: per changed flow a ``git diff --stat``-like line, then every change.

    ``NAME | STATUS  steps +A -R ~C  edges +A -R  conditions ~C  entrypoints +G -L``, names
    aligned, then one indented line per change (``+`` added, ``-`` removed, ``~`` changed):
    steps with how they changed (renamed, probable renames with a ``?``, moves between flows,
    descriptions...), edges, conditions (``when``) and entrypoints. With ``traffic``, removed
    and changed steps and edges say how many calls the recorded runs made and when they were
    last seen, added ones "new: no traffic yet", and the live removals come first.
    """
    changed = diff.changed_flows()
    if not changed:
        return f"no flow changes between {diff.old_label} and {diff.new_label}\n"
    names = {d.flow: shown(d.flow) for d in changed}
    width = max(len(n) for n in names.values())
    lines = []
    if traffic is not None:
        lines += _live_text(diff, traffic)
    for d in changed:
        lines.append(f" {names[d.flow]:<{width}} | {d.status:<7}  {_counts(d)}".rstrip())
        flow_traffic = traffic.flow(d.flow) if traffic is not None else None
        lines += [f"     {line}" for line in _change_lines(d, flow_traffic, traffic is not None)]
    lines.append(" " + _totals(diff))
    return "\n".join(lines) + "\n"


def _live_text(diff: FlowsDiff, traffic: DiffTraffic) -> list[str]:
    live = traffic.live_removals(diff)
    window = traffic.window_text()
    if not live:
        return [f" No removed step or edge carried traffic in the recorded runs ({window}).", ""]
    out = [f" Still carrying traffic ({window}): {_n(len(live), 'removal')}"]
    out += [f"   {shown(str(r))}" for r in live]
    return [*out, ""]


def _change_lines(d: FlowDiff, traffic: FlowTraffic | None, observed: bool) -> list[str]:
    """One line per change of a flow, with the traffic the old flow had on it."""
    moved_in, moved_out = dict(d.moved_in), dict(d.moved_out)
    old_names = {new: old for old, new in d.renamed}
    new_note = "  [new: no traffic yet]" if observed else ""

    def seen_step(name: str) -> str:
        return f"  [{traffic_words(traffic.step(name))}]" if traffic is not None else ""

    def seen_edge(a: str, b: str) -> str:
        return f"  [{traffic_words(traffic.edge(a, b))}]" if traffic is not None else ""

    out = []
    for name in d.steps_added:
        came = f": moved in from flow {shown(moved_in[name])}" if name in moved_in else ""
        out.append(f"+ step {shown(name)}{came}{new_note}")
    for name in d.steps_removed:
        went = f": moved to flow {shown(moved_out[name])}" if name in moved_out else ""
        out.append(f"- step {shown(name)}{went}{seen_step(name)}")
    for c in d.steps_changed:
        notes = shown("; ".join(change_notes(c)))
        out.append(f"~ step {shown(c.name)}: {notes}{seen_step(c.old_name)}")
    for a, b in d.edges_added:
        out.append(f"+ edge {shown(a)} -> {shown(b)}{new_note}")
    for a, b in d.edges_removed:
        out.append(f"- edge {shown(a)} -> {shown(b)}{seen_edge(a, b)}")
    for a, b, was, now in d.conditions_changed:
        seen = seen_edge(old_names.get(a, a), old_names.get(b, b))
        out.append(f"~ edge {shown(a)} -> {shown(b)}: when {_when(was)} -> {_when(now)}{seen}")
    out += [f"+ entrypoint {shown(e)}" for e in d.entrypoints_gained]
    out += [f"- entrypoint {shown(e)}" for e in d.entrypoints_lost]
    return out


def _when(condition: str | None) -> str:
    return "always" if condition is None else shown(repr(condition))


def format_markdown(
    diff: FlowsDiff,
    *,
    direction: str = "TD",
    traffic: DiffTraffic | None = None,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    full_report: str | None = None,
) -> str:
    """A pull-request comment: a summary line per changed flow, then a diagram per changed flow.

    Each diagram draws the new flow with added steps and edges in one style, removed ones kept
    and dashed, changed ones noted, the rest plain, and a legend. Deterministic, so a bot can
    update its comment in place.

    Args:
        diff: the comparison.
        direction: the diagrams' direction.
        traffic: recorded runs on the old flows: a "Still carrying traffic" section comes
            first, and removed steps and edges show their calls.
        max_chars: the longest the comment may be (``None``: no limit). Past it, the summary
            stays, the flows with the most changes keep their section, and a last line says how
            many were left out and where the full report is.
        full_report: how to get the full report, for that line (an artifact's name).
    """
    old, new = md_text(diff.old_label), md_text(diff.new_label)
    head = [MARKDOWN_MARKER, "### Flow changes", ""]
    changed = diff.changed_flows()
    if not changed:
        head.append(f"No flow changes between {old} and {new}.")
        return "\n".join(head) + "\n"
    if traffic is not None:
        head += _live_markdown(diff, traffic)
    total = len(diff.flows)
    head.append(f"{_n(len(changed), 'flow')} of {total} changed between {old} and {new}:")
    head.append("")
    for d in changed:
        head.append(f"- **{md_text(d.flow)}** ({d.status}): {summary(d, md_text)}")
    sections = {
        d.flow: _flow_section(d, direction, traffic.flow(d.flow) if traffic else None)
        for d in changed
    }
    text = "\n".join(head + [line for d in changed for line in sections[d.flow]]) + "\n"
    if max_chars is None or len(text) <= max_chars:
        return text
    return _shortened(head, changed, sections, max_chars, full_report)


def _flow_section(d: FlowDiff, direction: str, traffic: FlowTraffic | None) -> list[str]:
    lines = ["", f"#### {md_text(d.flow)}", "", summary(d, md_text), ""]
    graph, overlay = diff_diagram(d, traffic=traffic)
    # The legend goes below the drawing as text: inside it, it doubled the diagram's width.
    text = diff_mermaid(d, direction=direction, traffic=traffic, legend=False)
    if len(graph.edges) > MAX_EDGES or len(text) > MAX_TEXT_SIZE:
        # Mermaid refuses the first and silently blanks the second: say so instead.
        lines.append(
            f"_Diagram left out: {len(graph.edges)} edges and {len(text):,} characters, over "
            f"Mermaid's limits ({MAX_EDGES} edges, {MAX_TEXT_SIZE:,} characters)._"
        )
    else:
        lines += ["```mermaid", text.rstrip("\n"), "```"]
        legend = legend_markdown(with_legend(graph, overlay, stubs=False), md_text)
        if legend:
            lines += ["", legend]
    return lines


def _size(d: FlowDiff) -> int:
    return (
        len(d.steps_added)
        + len(d.steps_removed)
        + len(d.steps_changed)
        + len(d.edges_added)
        + len(d.edges_removed)
        + len(d.conditions_changed)
        + len(d.entrypoints_gained)
        + len(d.entrypoints_lost)
    )


def _shortened(
    head: list[str],
    changed: list[FlowDiff],
    sections: dict[str, list[str]],
    max_chars: int,
    full_report: str | None,
) -> str:
    """The comment cut to ``max_chars``: summary kept, then the largest changes that fit."""
    where = f" (the full report: {full_report})" if full_report else ""

    def tail(left_out: int) -> list[str]:
        return [
            "",
            f"_{_n(left_out, 'flow')} left out of this comment to keep it under "
            f"{max_chars:,} characters{md_text(where)}; run `penstock diff --format markdown "
            f"--max-chars 0` for everything._",
        ]

    base = "\n".join(head) + "\n"
    # The summary alone may be too long (thousands of flows): keep as many lines as fit.
    if len(base) + len("\n".join(tail(len(changed)))) + 1 > max_chars:
        kept_head = head[:]
        while kept_head and len("\n".join([*kept_head, *tail(len(changed))])) + 1 > max_chars:
            kept_head.pop()
        return "\n".join([*kept_head, "- …", *tail(len(changed))]) + "\n"
    budget = max_chars - len(base) - len("\n".join(tail(len(changed)))) - 1
    kept: set[str] = set()
    for d in sorted(changed, key=lambda d: (-_size(d), d.flow)):
        cost = len("\n".join(sections[d.flow])) + 1
        if cost <= budget:
            kept.add(d.flow)
            budget -= cost
    body = [line for d in changed if d.flow in kept for line in sections[d.flow]]
    return "\n".join([*head, *body, *tail(len(changed) - len(kept))]) + "\n"


def _code(text: str | None) -> str:
    # An ISO time holds no backtick: a code span shows it verbatim, unescaped.
    return f"`{text}`" if text else "-"


def _live_markdown(diff: FlowsDiff, traffic: DiffTraffic) -> list[str]:
    live = traffic.live_removals(diff)
    window = md_text(traffic.window_text())
    if not live:
        return [f"No removed step or edge carried traffic in the recorded runs ({window}).", ""]
    out = ["#### Still carrying traffic", ""]
    out.append(
        f"{_n(len(live), 'removed step or edge', 'removed steps and edges')} that recorded runs "
        f"took ({window}):"
    )
    out.append("")
    out += ["| Flow | Removed | Calls | Runs | Last seen |", "|---|---|---:|---:|---|"]
    for r in live:
        name = md_text(r.name)
        runs = "-" if r.traffic.runs is None else f"{r.traffic.runs:,}"
        out.append(
            f"| {md_text(r.flow)} | {r.what} {name} | {r.traffic.calls:,} | {runs} | "
            f"{_code(r.traffic.last_seen_text)} |"
        )
    return [*out, ""]


def format_mermaid(
    diff: FlowsDiff, *, direction: str = "TD", traffic: DiffTraffic | None = None
) -> str:
    """The Mermaid diagram of the one flow compared (``--flow``) or the one that changed.

    Raises:
        DiffError: several flows changed and none was picked.
    """
    if len(diff.flows) == 1:
        (only,) = diff.flows.values()
        return diff_mermaid(only, direction=direction, traffic=_of(traffic, only))
    changed = diff.changed_flows()
    if len(changed) == 1:
        return diff_mermaid(changed[0], direction=direction, traffic=_of(traffic, changed[0]))
    if not changed:
        return ""
    names = ", ".join(repr(d.flow) for d in changed)
    raise DiffError(
        f"the mermaid format draws one flow, and {len(changed)} changed ({names}): "
        "pick one with --flow NAME, or use --format markdown for all of them"
    )


def _of(traffic: DiffTraffic | None, d: FlowDiff) -> FlowTraffic | None:
    return None if traffic is None else traffic.flow(d.flow)


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
    other = [c for c in d.steps_changed if _other_fields(c)]
    if other:
        fields = sorted({f for c in other for f in _other_fields(c)})
        parts.append(_n(len(other), "step") + " changed (" + ", ".join(fields) + ")")
    if d.edges_added:
        parts.append(_n(len(d.edges_added), "edge") + " added")
    if d.edges_removed:
        parts.append(_n(len(d.edges_removed), "edge") + " removed")
    if d.conditions_changed:
        parts.append(_n(len(d.conditions_changed), "condition") + " changed")
    if d.probable_renames:
        parts.append(_n(len(d.probable_renames), "probable rename"))
    if d.entrypoints_gained:
        parts.append(_n(len(d.entrypoints_gained), "entrypoint") + " gained")
    if d.entrypoints_lost:
        parts.append(_n(len(d.entrypoints_lost), "entrypoint") + " lost")
    if d.status == "added":
        return "new flow: " + (", ".join(parts) if parts else "no steps")
    if d.status == "removed":
        return "flow removed: " + (", ".join(parts) if parts else "no steps")
    return ", ".join(parts) if parts else "unchanged"


def _other_fields(c: StepChange) -> list[str]:
    """What changed besides the name (a probable rename implies its function changed)."""
    implied = ("name", "function") if c.probable else ("name",)
    return [f for f, _, _ in c.fields if f not in implied]


def _counts(d: FlowDiff) -> str:
    steps = _signed(len(d.steps_added), len(d.steps_removed), len(d.steps_changed))
    edges = _signed(len(d.edges_added), len(d.edges_removed), 0)
    out = []
    if steps:
        out.append(f"steps {steps}")
    if edges:
        out.append(f"edges {edges}")
    if d.conditions_changed:
        out.append(f"conditions ~{len(d.conditions_changed)}")
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
    conditions = sum(len(d.conditions_changed) for d in changed)
    said = f", conditions ~{conditions}" if conditions else ""
    return (
        f"{head}: steps +{steps[0]} -{steps[1]} ~{steps[2]}, edges +{edges[0]} -{edges[1]}"
        f"{said} ({shown(diff.old_label)} -> {shown(diff.new_label)})"
    )


def _n(count: int, word: str, plural: str | None = None) -> str:
    if count == 1:
        return f"{count} {word}"
    return f"{count} {plural or word + 's'}"


def _names(names: list[str], write: Callable[[str], str]) -> str:
    return ", ".join(write(n) for n in names)
