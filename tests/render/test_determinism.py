"""Rendering is deterministic: the same declarations give the same bytes in any import order."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from types import ModuleType

from penstock import flows, generate_dag

SOURCES = {
    "det_orders": """
        from penstock import entrypoint, flow, step

        @flow("orders")
        @entrypoint
        def receive(msg): ...

        @flow("orders")
        @step(after="receive")
        def validate(order): ...

        @flow("orders")
        @flow("audit", after="audit start")
        @step(after="validate", name="end")
        def finish(order): ...
    """,
    "det_payments": """
        from penstock import entrypoint, flow, step

        @flow("orders")
        @step(after="validate", name='charge "card" [€]')
        def charge(order): ...

        @flow("orders")
        @step(after='charge "card" [€]', name="retry queue")
        def retry(order): ...

        @flow("orders")
        @step(after=['charge "card" [€]', "validate"], name="x-ray <b>")
        def xray(order): ...
    """,
    "det_audit": """
        from penstock import entrypoint, flow, step

        @flow("audit")
        @entrypoint(name="audit start")
        def start(event): ...

        @flow("audit")
        @step(after="end", name="classDef")
        def record(event): ...

        @flow("orders")
        @step(after="x-ray <b>")
        def notify(order): ...
    """,
}


def render_all() -> str:
    out = []
    for name, graph in flows().items():
        if name in {"orders", "audit"}:
            for fmt in ("mermaid", "dot", "json"):
                out.append(generate_dag(graph, format=fmt, show_docs=True))
            out.append(generate_dag(graph, direction="LR", link=lambda n: f"api#{n.qualname}"))
    return "\n".join(out)


def test_every_import_order_gives_identical_bytes(
    write_modules: Callable[[dict[str, str]], Callable[[Sequence[str]], list[ModuleType]]],
) -> None:
    """All six import orders of three modules render every flow and format byte for byte alike."""
    import_in = write_modules(SOURCES)
    outputs = {}
    for order in itertools.permutations(SOURCES):
        import_in(order)
        outputs[order] = render_all()
    first = next(iter(outputs.values()))
    assert "orders" in first
    assert "audit" in first
    assert all(text == first for text in outputs.values())


def test_order_follows_the_flow_not_the_imports(
    write_modules: Callable[[dict[str, str]], Callable[[Sequence[str]], list[ModuleType]]],
) -> None:
    """Steps come in flow order, ties broken by module and line, not by import order."""
    import_in = write_modules(SOURCES)
    import_in(["det_audit", "det_payments", "det_orders"])
    assert [s.name for s in flows()["orders"].steps] == [
        "receive",
        "validate",
        "end",
        'charge "card" [€]',
        "retry queue",
        "x-ray <b>",
        "notify",
    ]
