"""collapse: one box per module, for flows too big to read or for Mermaid to draw."""

from __future__ import annotations

import pytest

import penstock
from penstock.cli import main
from penstock.docs import DiagramOptions, flow_diagram
from penstock.docs._failures import DiagramLimitError
from tests.core.conftest import ModuleMaker
from tests.support.mermaid import MermaidOracle, mermaid_oracle  # noqa: F401 (a fixture)


def _big_flow(make_module: ModuleMaker, modules: int = 6, per_module: int = 110) -> None:
    """A flow of modules x per_module steps chained in a line, over Mermaid's 500 edges."""
    previous = None
    for m in range(modules):
        lines = ["from penstock import entrypoint, flow, step", ""]
        for i in range(per_module):
            name = f"m{m}_s{i}"
            if previous is None:
                lines += ['@flow("big")', "@entrypoint", f"def {name}(): ...", ""]
            else:
                lines += ['@flow("big")', f'@step(after="{previous}")', f"def {name}(): ...", ""]
            previous = name
        make_module(f"bigflow_part{m}", "\n".join(lines))


def test_collapse_draws_one_box_per_module(make_module: ModuleMaker) -> None:
    """Modules become boxes (entrypoint shape for the first), edges between modules once."""
    _big_flow(make_module, modules=3, per_module=3)
    text = penstock.generate_dag("big", collapse=True)
    assert text.splitlines() == [
        "graph TD",
        '    bigflow_part0(["bigflow_part0"])',
        "    bigflow_part0 --> bigflow_part1",
        "    bigflow_part1 --> bigflow_part2",
    ]


def test_over_the_limit_the_message_suggests_collapse_which_draws_it(
    make_module: ModuleMaker,
    mermaid_oracle: MermaidOracle,  # noqa: F811
) -> None:
    """A 660-step flow fails with a message naming collapse; collapse: true draws it."""
    _big_flow(make_module)
    with pytest.raises(DiagramLimitError, match="collapse: true"):
        flow_diagram("big", DiagramOptions(allow_problems=True))
    drawn = flow_diagram("big", DiagramOptions(collapse=True))
    for parsed in mermaid_oracle.parse_one(drawn.mermaid):
        assert parsed.ok, parsed.error
        steps = [v for v in parsed.vertices.values() if v["text"].startswith("bigflow_")]
        assert len(steps) == 6


def test_cli_collapse(make_module: ModuleMaker, capsys: pytest.CaptureFixture[str]) -> None:
    """`penstock dag --collapse` prints the collapsed diagram."""
    _big_flow(make_module, modules=2, per_module=2)
    assert main(["dag", "big", "--collapse", "-f", "dot"]) == 0
    out = capsys.readouterr().out
    assert 'label="bigflow_part0"' in out
    assert "n0 -> n1;" in out
