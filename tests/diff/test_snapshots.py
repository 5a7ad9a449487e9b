"""Exact diff reports for an edit of the example flow (files under snapshots/).

Set ``PENSTOCK_UPDATE_SNAPSHOTS=1`` to rewrite the files, then review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from penstock import Edge, FlowGraph, get_flow
from penstock._graph.compare import FlowsDiff, compare
from penstock._render.diff_report import format_json, format_markdown, format_text

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("PENSTOCK_UPDATE_SNAPSHOTS") == "1"


def example_change() -> FlowsDiff:
    """The example flow as it is, against an older version of it: update_ebom was called
    update_bom, enqueue_changelog did not exist, a legacy step ran after the publish, and the
    sync step had another description."""
    new = get_flow("bom_sync")
    old_steps = []
    for s in new.steps:
        if s.name == "enqueue_changelog":
            continue
        if s.name == "update_ebom":
            s = replace(s, name="update_bom")
        if s.name == "sync_reference":
            s = replace(s, doc="Fetch the part from the PLM.", line=s.line + 7)
        old_steps.append(s)
    legacy = replace(old_steps[-1], name="notify_legacy", qualname="notify_legacy", doc=None)
    old_steps.append(legacy)
    names = {"update_ebom": "update_bom"}
    old_edges = [
        Edge(names.get(e.source, e.source), names.get(e.target, e.target))
        for e in new.edges
        if e.target != "enqueue_changelog"
    ]
    old_edges.append(Edge("publish_change_events", "notify_legacy"))
    old = FlowGraph("bom_sync", tuple(old_steps), tuple(old_edges), new.entrypoints)
    return compare({"bom_sync": old}, {"bom_sync": new}, old_label="v1.0", new_label="v1.1")


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("bom_sync.txt", format_text),
        ("bom_sync.json", format_json),
        ("bom_sync.md", format_markdown),
    ],
    ids=["text", "json", "markdown"],
)
def test_reports_match_snapshots(name: str, render: object) -> None:
    """Text, JSON and Markdown reports of the example change are exactly the reviewed files."""
    text = render(example_change())  # type: ignore[operator]
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the snapshot"
