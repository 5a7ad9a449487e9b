"""Property: for any call tree, records mirror the real nesting and order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from penstock import entrypoint, flow
from penstock.testing import recording

#: A call tree: each node is the list of its children, called in order.
trees = st.recursive(st.just([]), lambda kids: st.lists(kids, max_size=3), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(tree=trees)
def test_records_mirror_any_call_tree(tree: list[object]) -> None:
    """Parents, start order and finish order follow the calls made, for random call trees."""

    @flow("tree")
    @entrypoint
    def node(children: list[object], path: str) -> None:
        for i, child in enumerate(children):
            node(child, f"{path}.{i}")  # type: ignore[arg-type]

    expected_order: list[str] = []
    expected_finish: list[str] = []
    expected_parent: dict[str, str | None] = {}

    def walk(children: list[object], path: str, parent: str | None) -> None:
        expected_order.append(path)
        expected_parent[path] = parent
        for i, child in enumerate(children):
            walk(child, f"{path}.{i}", path)  # type: ignore[arg-type]
        expected_finish.append(path)

    walk(tree, "r", None)
    with recording() as recorder:
        node(tree, "r")
    # Steps are all "node": identify each call by its position in start order.
    records = recorder.records
    assert len(records) == len(expected_order)
    index = {id(r): expected_order[i] for i, r in enumerate(records)}
    for i, record in enumerate(records):
        path = expected_order[i]
        parent = record.parent
        assert (index[id(parent)] if parent is not None else None) == expected_parent[path]
        assert record.predecessor == (None if parent is None else "node")
        assert record.status == "ok"
    assert len(recorder.runs()) == 1
    assert [index[id(r)] for r in recorder.finished] == expected_finish
