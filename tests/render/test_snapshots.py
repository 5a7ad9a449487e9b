"""Exact output for the example flow, in every format and option (files under snapshots/).

Set ``PENSTOCK_UPDATE_SNAPSHOTS=1`` to rewrite the files, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from penstock import StepNode, generate_dag
from tests.support.system import ROOT

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("PENSTOCK_UPDATE_SNAPSHOTS") == "1"


def api_link(node: StepNode) -> str:
    return f"reference/{node.module}/#{node.module}.{node.qualname}"


CASES: dict[str, dict[str, Any]] = {
    "bom_sync.mmd": {},
    "bom_sync_lr.mmd": {"direction": "LR"},
    "bom_sync_title.mmd": {"title": 'BOM sync: "parts" #1'},
    "bom_sync_docs.mmd": {"show_docs": True},
    "bom_sync_links.mmd": {"link": api_link},
    "bom_sync.dot": {"format": "dot"},
    "bom_sync_lr_docs.dot": {"format": "dot", "direction": "lr", "show_docs": True},
    "bom_sync.json": {"format": "json"},
}


def portable(text: str) -> str:
    """Source paths relative to the repository, so the snapshot holds on every checkout."""
    return text.replace(json.dumps(str(ROOT))[1:-1] + "/", "")


def compare(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the snapshot"


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_snapshot(name: str) -> None:
    """The example flow renders byte for byte as its reviewed snapshot."""
    compare(name, portable(generate_dag("bom_sync", **CASES[name])))


def test_design_notes_example_exactly() -> None:
    """The design notes' diagram comes out with plain step names as ids, one edge per line."""
    lines = generate_dag("bom_sync").splitlines()
    assert lines[0] == "graph TD"
    assert [line.strip() for line in lines if "-->" in line] == [
        "handle_kafka_message --> sync_reference",
        "sync_reference --> upsert_to_db",
        "upsert_to_db --> publish_change_events",
        "publish_change_events --> update_ebom",
        "publish_change_events --> enqueue_changelog",
    ]


def test_snapshots_parse_in_real_mermaid(mermaid_oracle: Any) -> None:
    """Every Mermaid snapshot is accepted by Mermaid 11 and 12, drawn with the example's steps."""
    names = sorted(n for n in CASES if n.endswith(".mmd"))
    texts = [(SNAPSHOTS / n).read_text(encoding="utf-8") for n in names]
    for version, results in mermaid_oracle.parse(texts).items():
        for name, parsed in zip(names, results, strict=True):
            assert parsed.ok, f"Mermaid {version} rejects {name}: {parsed.error}"
            shown = {
                v["text"].split("Receive")[0].split("Fetch")[0] for v in parsed.vertices.values()
            }
            assert "handle_kafka_message" in shown
            assert len(parsed.vertices) == 6
            assert len(parsed.edges) == 5


def test_snapshots_accepted_by_dot(graphviz: Any) -> None:
    """Every DOT snapshot is drawn by the real dot with the example's six steps."""
    for name in sorted(n for n in CASES if n.endswith(".dot")):
        drawn = graphviz.draw((SNAPSHOTS / name).read_text(encoding="utf-8"))
        assert [texts[0] for texts in drawn.nodes.values()] == [
            "handle_kafka_message",
            "sync_reference",
            "upsert_to_db",
            "publish_change_events",
            "update_ebom",
            "enqueue_changelog",
        ]
        assert len(drawn.edges) == 5
