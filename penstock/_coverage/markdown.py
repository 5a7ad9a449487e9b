"""The report as Markdown for a pull-request comment: a table, then a diagram per flow under 100 %.

GitHub renders ```` ```mermaid ```` fences as diagrams. Its API refuses comment bodies over
65,536 characters, so diagrams are left out, last flow first, until the comment fits (the
tables of missing items stay).
"""

from __future__ import annotations

from collections.abc import Mapping

from penstock._coverage.drawing import coverage_mermaid
from penstock._coverage.model import KINDS, CoverageReport, FlowCoverage, Measure
from penstock._coverage.text import percent_text
from penstock._graph.model import FlowGraph

__all__ = ["COMMENT_LIMIT", "markdown_text"]

#: Under GitHub's 65,536-character limit on a comment, with room for a bot's own header.
COMMENT_LIMIT = 60_000
_SINGULAR = {"steps": "step", "edges": "edge", "branches": "branch", "paths": "path"}


def _cell(m: Measure) -> str:
    if m.capped:
        return "not counted (over 10,000)"
    return f"{len(m.covered)}/{m.total} ({percent_text(m.percent)})"


def _code(text: str) -> str:
    # A code span holding backticks needs a longer fence; a pipe would end the table cell.
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_text(
    report: CoverageReport,
    graphs: Mapping[str, FlowGraph],
    *,
    title: str = "penstock flow coverage",
    limit: int = COMMENT_LIMIT,
) -> str:
    """The comment: the summary table, then per flow under 100 % its diagram and missing items.

    ``graphs`` are the flows to draw (a flow missing from it gets no diagram).
    """
    head = [f"## {title}", ""]
    totals = report.totals()
    edges = totals["edges"]
    head.append(
        f"Edges covered: **{percent_text(edges.percent)}** ({len(edges.covered)} of "
        f"{edges.total}) over {len(report.flows)} flow(s)."
    )
    head += ["", "| Flow | Runs | " + " | ".join(k.capitalize() for k in KINDS) + " |"]
    head.append("|---|---:|" + "---:|" * len(KINDS))
    for f in report.flows.values():
        cells = [_code(f.flow), f"{f.runs:,}", *(_cell(f.measure(k)) for k in KINDS)]
        head.append("| " + " | ".join(cells) + " |")
    if len(report.flows) > 1:
        runs = sum(f.runs for f in report.flows.values())
        cells = ["**Total**", f"{runs:,}", *(_cell(totals[k]) for k in KINDS)]
        head.append("| " + " | ".join(cells) + " |")
    incomplete = [f for f in report.flows.values() if not f.complete]
    if not incomplete:
        head += ["", "Every declared step, edge, branch and path is covered."]
        return "\n".join(head) + "\n"
    diagrams = {f.flow: f.flow in graphs for f in incomplete}
    while True:
        sections = [_section(f, graphs if diagrams[f.flow] else {}) for f in incomplete]
        text = "\n".join([*head, *sections])
        dropped = [name for name, drawn in diagrams.items() if not drawn and name in graphs]
        if dropped:
            text += (
                f"\n_Diagrams of {len(dropped)} flow(s) left out to keep the comment under "
                f"{limit:,} characters; the full report is in the JSON and Mermaid outputs._\n"
            )
        drawn = [name for name, on in diagrams.items() if on]
        if len(text) <= limit or not drawn:
            return text + ("" if text.endswith("\n") else "\n")
        diagrams[drawn[-1]] = False


def _section(f: FlowCoverage, graphs: Mapping[str, FlowGraph]) -> str:
    missing = [(k, i) for k in KINDS for i in f.measure(k).missing]
    lines = [
        "",
        f"### {_code(f.flow)}: {percent_text(f.edges.percent)} of edges",
        "",
        f"<details><summary>{len(missing)} item(s) not covered</summary>",
        "",
    ]
    graph = graphs.get(f.flow)
    if graph is not None:
        lines += ["```mermaid", coverage_mermaid(graph, f).rstrip("\n"), "```", ""]
    lines += ["| Missing | | Where |", "|---|---|---|"]
    for kind, item in missing:
        where = _code(item.location) if item.location else ""
        lines.append(f"| {_SINGULAR[kind]} | {_code(item.label(kind))} | {where} |")
    if f.paths.capped:
        lines.append("| paths | over 10,000: not counted | |")
    lines += ["", "</details>"]
    return "\n".join(lines)
