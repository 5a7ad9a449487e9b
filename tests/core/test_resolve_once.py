"""A flow's name is looked up once, at the boundary; everything below it gets the graph.

The spy (`tests.support.lookups`) counts every resolution of a flow by name, whatever module
asks, so a new look-up added anywhere under a directive or a command fails these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import markdown
import pytest

from penstock import docs
from penstock.cli import main
from tests.core.conftest import ModuleMaker
from tests.observed import shop
from tests.observed.conftest import record_json_log
from tests.support.lookups import spy_on_resolutions
from tests.support.system import ROOT, require_executable

EXAMPLE = ["--path", str(ROOT / "examples"), "-m", "bom_sync.consumer", "-m", "bom_sync.sync"]
MKDOCS = {"modules": ["bom_sync.consumer", "bom_sync.sync"], "paths": [str(ROOT / "examples")]}


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names resolved from now on, in order (the cache starts cold)."""
    return spy_on_resolutions(monkeypatch)


@pytest.mark.parametrize(
    "options",
    [
        docs.DiagramOptions(),
        docs.DiagramOptions(links=True, legend=True, show_docs=True, direction="LR"),
        docs.DiagramOptions(collapse=True),
        docs.DiagramOptions(allow_problems=True),
    ],
    ids=["plain", "links-legend-docs", "collapse", "allow-problems"],
)
def test_a_docs_diagram_resolves_its_flow_once(
    options: docs.DiagramOptions, lookups: list[str]
) -> None:
    """`flow_diagram` by name: one look-up, whatever the options draw."""
    diagram = docs.flow_diagram("bom_sync", options)
    # A step's box, or with collapse its module's.
    assert "handle_kafka_message" in diagram.mermaid or "bom_sync.consumer" in diagram.mermaid
    assert lookups == ["bom_sync"]


def test_a_graph_given_is_drawn_without_a_look_up(lookups: list[str]) -> None:
    """The boundary resolves (`drawable_flow`); drawing the graph twice looks up nothing more."""
    options = docs.DiagramOptions(links=True)
    graph = docs.drawable_flow("bom_sync", options)
    by_graph = docs.flow_diagram(graph, options)
    outline = docs.flow_outline(graph)
    assert lookups == ["bom_sync"]
    # The same drawing as by name: passing the graph changes nothing in the output.
    assert by_graph.mermaid == docs.flow_diagram("bom_sync", options).mermaid
    assert outline == docs.flow_outline("bom_sync")


def test_a_graph_is_drawn_as_given_problems_are_the_boundarys(make_module: ModuleMaker) -> None:
    """By name a broken flow is refused; `drawable_flow` refuses it the same way."""
    make_module(
        "looped",
        """
from penstock import entrypoint, flow, step

@flow("looped")
@entrypoint(after="b")
def a(): ...

@flow("looped")
@step(after="a")
def b(): ...
""",
    )
    with pytest.raises(docs.FlowProblemsError, match="cycle"):
        docs.flow_diagram("looped")
    with pytest.raises(docs.FlowProblemsError, match="cycle"):
        docs.drawable_flow("looped")
    with pytest.raises(docs.UnknownFlowError, match="did you mean 'looped'"):
        docs.drawable_flow("loped")
    with pytest.raises(docs.OptionError, match="direction"):
        # Options are checked before the name, as when drawing by name.
        docs.drawable_flow("loped", docs.DiagramOptions(direction="XX"))
    graph = docs.drawable_flow("looped", docs.DiagramOptions(allow_problems=True))
    assert "a --> b" in docs.flow_diagram(graph).mermaid


@pytest.mark.parametrize("replay", [False, True], ids=["observed", "run"])
def test_recorded_runs_over_a_diagram_resolve_it_once(
    replay: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The observed and replay overlays take the graph: still one look-up."""
    log = record_json_log(tmp_path / "app.log")
    run = next(
        json.loads(line)["correlation_id"]
        for line in log.read_text().splitlines()
        if '"status": "error"' in line
    )
    asked = spy_on_resolutions(monkeypatch)
    options = docs.DiagramOptions(observed=str(log), run=run if replay else None)
    diagram = docs.flow_diagram(shop.FLOW, options)
    # The legend is HTML below the drawing; a replay marks the failed step in the drawing.
    shown = diagram.mermaid + diagram.legend
    assert ("failed here" if replay else "declared, never observed") in shown
    assert asked == [shop.FLOW]


def test_an_svg_diagram_resolves_its_flow_once(lookups: list[str]) -> None:
    """`flow_svg` by name (links and a legend drawn by the renderer): one look-up."""
    require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    svg = docs.flow_svg("bom_sync", docs.DiagramOptions(links=True, legend=True))
    assert svg.startswith("<svg")
    assert lookups == ["bom_sync"]


@pytest.mark.parametrize(
    ("options", "directives"),
    [("link: api", 3), ("svg: true\n    link: api", 1)],
    ids=["mermaid", "svg"],
)
def test_a_mkdocs_directive_resolves_its_flow_once(
    options: str, directives: int, lookups: list[str]
) -> None:
    """The MkDocs directive: one look-up for the drawing and the API links' fallbacks.

    The same Mermaid diagram again (on this page or another) is neither drawn nor looked up.
    """
    if "svg" in options:
        require_executable("dot", "install Graphviz, e.g. apt-get install graphviz")
    page = markdown.markdown(
        f"::: penstock-flow bom_sync\n    {options}\n\n" * directives,
        extensions=["penstock_mkdocs"],
        extension_configs={"penstock_mkdocs": MKDOCS},
    )
    assert "penstock-diagram" in page or 'class="mermaid"' in page
    assert lookups.count("bom_sync") == 1


@pytest.mark.parametrize(
    "command",
    [["dag", "bom_sync", "--links", "--legend"], ["paths", "bom_sync"]],
    ids=["dag", "paths"],
)
def test_a_command_resolves_its_flow_once(
    command: list[str], lookups: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`penstock dag` and `penstock paths` check and draw (or walk) one resolved graph."""
    assert main([*EXAMPLE, *command]) == 0
    assert "handle_kafka_message" in capsys.readouterr().out
    assert lookups.count("bom_sync") == 1
