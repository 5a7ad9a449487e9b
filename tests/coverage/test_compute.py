"""The computation on its own: branches, paths over the cap, merging hits, the Markdown cap."""

from __future__ import annotations

from penstock._coverage.compute import branch_edges, flow_coverage
from penstock._coverage.hits import Hits
from penstock._coverage.markdown import markdown_text
from penstock._coverage.model import PATH_LIMIT, CoverageReport, read_report
from penstock._coverage.text import percent_text, table_text
from penstock._graph.model import Edge, FlowGraph, StepNode


def _graph(name: str, edges: list[tuple[str, str, str | None]], entry: str = "a") -> FlowGraph:
    names = list(dict.fromkeys([entry, *(n for s, t, _ in edges for n in (s, t))]))
    steps = tuple(
        StepNode(n, "entrypoint" if n == entry else "step", "m", n, "m.py", i + 1)
        for i, n in enumerate(names)
    )
    return FlowGraph(name, steps, tuple(Edge(s, t, w) for s, t, w in edges), (entry,))


def test_branches_are_conditions_and_fan_outs() -> None:
    """A when= edge is a branch; so is every edge out of a step with several successors."""
    g = _graph("f", [("a", "b", None), ("b", "c", "ok"), ("a", "d", None), ("d", "e", None)])
    assert set(branch_edges(g)) == {("a", "b"), ("a", "d"), ("b", "c")}
    assert ("d", "e") not in branch_edges(g)


def test_a_path_is_covered_only_by_one_run_taking_all_of_it() -> None:
    """Two runs that together take every edge of a path do not cover it."""
    g = _graph("f", [("a", "b", None), ("b", "c", None), ("a", "x", None), ("x", "c", None)])
    hits = Hits()
    hits.add("f", ["a", "b"], [("a", "b")])
    hits.add("f", ["b", "c"], [("b", "c")])
    fc = flow_coverage(g, hits)
    assert fc.paths.total == 2
    assert fc.paths.covered == ()
    assert (len(fc.edges.covered), fc.edges.total) == (2, 4)
    hits.add("f", ["a", "b", "c"], [("a", "b"), ("b", "c")])
    assert [p.key for p in flow_coverage(g, hits).paths.covered] == [("a", "b", "c")]


def test_more_paths_than_the_limit_are_not_counted() -> None:
    """A ladder of 14 diamonds has 2**14 paths: paths are capped, the rest measured."""
    edges: list[tuple[str, str, str | None]] = []
    prev = "a"
    for i in range(14):
        edges += [(prev, f"l{i}", None), (prev, f"r{i}", None)]
        edges += [(f"l{i}", f"j{i}", None), (f"r{i}", f"j{i}", None)]
        prev = f"j{i}"
    g = _graph("big", edges)
    fc = flow_coverage(g, Hits())
    assert PATH_LIMIT < 2**14
    assert fc.paths.capped
    assert fc.paths.total is None
    assert fc.paths.percent is None
    assert fc.edges.total == len(edges)
    text = table_text(CoverageReport({"big": fc}), missing=True)
    assert ">10,000 paths" in text
    assert "more than 10,000: not counted" in text
    data = CoverageReport({"big": fc}).as_dict()
    assert data["flows"]["big"]["paths"] == {
        "covered": None,
        "total": None,
        "percent": None,
        "missing": [],
        "hit": [],
        "capped": True,
        "limit": 10_000,
    }
    assert data["totals"]["paths"] == {"covered": 0, "total": 0, "percent": 100.0}


def test_hits_merge_like_a_serial_run_and_round_trip() -> None:
    """Merging two processes' hits equals one process that saw both; JSON round-trips."""
    one, two, both = Hits(), Hits(), Hits()
    one.add("f", ["a"], [])
    two.add("f", ["a", "b"], [("a", "b")], 3)
    for h in (one, two):
        both.merge(Hits.from_dict(h.as_dict()))
    serial = Hits()
    serial.add("f", ["a"], [])
    serial.add("f", ["a", "b"], [("a", "b")], 3)
    assert both.as_dict() == serial.as_dict()
    assert both.runs("f") == 4


def test_report_round_trips_through_json(tmp_path: object) -> None:
    """A report read back is the report written."""
    from pathlib import Path

    g = _graph("f", [("a", "b", "yes"), ("a", "c", "no")])
    hits = Hits()
    hits.add("f", ["a", "b"], [("a", "b")])
    report = CoverageReport({"f": flow_coverage(g, hits)})
    path = Path(str(tmp_path)) / "r.json"
    path.write_text(report.text())
    assert read_report(str(path)) == report


def test_percentages_never_round_to_complete_or_empty() -> None:
    """As coverage.py: 99.6 is 99%, 0.4 is 1%."""
    assert [percent_text(p) for p in (99.6, 0.4, 0.0, 100.0, 62.5)] == [
        "99%",
        "1%",
        "0%",
        "100%",
        "62%",
    ]


def test_markdown_leaves_diagrams_out_to_fit_a_comment() -> None:
    """Over the limit, diagrams go (last flow first) and the comment says so."""
    graphs = {}
    flows = {}
    for i in range(30):
        g = _graph(f"flow{i:02d}", [("a", f"s{j}", None) for j in range(10)])
        graphs[g.name] = g
        flows[g.name] = flow_coverage(g, Hits())
    report = CoverageReport(flows)
    assert len(markdown_text(report, graphs, limit=10**9)) > 60_000
    text = markdown_text(report, graphs)
    assert len(text) <= 60_000
    assert 0 < text.count("```mermaid") < 30
    assert "```mermaid" in text.split("### `flow00`")[1].split("### `flow01`")[0]
    assert "```mermaid" not in text.split("### `flow29`")[1]
    assert "left out to keep the comment under 60,000 characters" in text
    assert "### `flow29`" in text


def test_paths_are_those_of_penstock_paths() -> None:
    """The paths counted are `FlowGraph.paths`' (networkx), in the same order, cycles too."""
    from penstock._coverage.compute import simple_paths

    cases = [
        [("a", "b", None), ("b", "c", "x"), ("b", "d", "y"), ("c", "e", None), ("d", "e", None)],
        [("a", "b", None), ("b", "c", None), ("c", "b", None), ("c", "d", None)],
        [("a", "b", None), ("a", "c", None), ("b", "c", None), ("c", "d", None)],
        [],
    ]
    for edges in cases:
        g = _graph("f", edges)
        assert simple_paths(g, 10_001) == g.paths(limit=10_001)
    assert simple_paths(_graph("f", cases[0]), 1) == [("a", "b", "c", "e")]
