"""penstock.check: every problem kind, each with flow, step and file:line."""

from __future__ import annotations

import re

import pytest

import penstock
from penstock import ProblemKind
from tests.core.conftest import ModuleMaker

BROKEN = """
from penstock import entrypoint, flow, step

@flow("broken")
@entrypoint
def start(): ...

@flow("broken")
@step(after=["start", "c"])
def a(): ...

@flow("broken")
@step(after="a")
def b(): ...

@flow("broken")
@step(after="b")
def c(): ...

@flow("broken")
@step(after="strat")
def typo(): ...

@flow("broken")
@step
def island(): ...

@step(after="start")
def homeless(): ...

@flow("rootless")
@step
def lonely(): ...

@flow("other")
@entrypoint
def elsewhere(): ...

@flow("broken")
@step(after="elsewhere")
def wrong_flow(): ...
"""

DUPES = """
from penstock import entrypoint, flow

@flow("dupes")
@entrypoint
def one(): ...

def factory():
    @flow("dupes")
    @entrypoint
    def one(): ...
    return one

factory()
"""


@pytest.fixture
def broken(make_module: ModuleMaker) -> dict[str, list[penstock.Problem]]:
    make_module("brokenflows", BROKEN)
    by_kind: dict[str, list[penstock.Problem]] = {}
    for p in penstock.check():
        by_kind.setdefault(str(p.kind), []).append(p)
    return by_kind


def _line_of(name: str) -> int:
    lines = BROKEN.splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    # co_firstlineno of a decorated function is the line of its first decorator.
    while idx > 0 and lines[idx - 1].startswith("@"):
        idx -= 1
    return idx + 1


def test_cycle_is_reported_with_full_path(broken: dict[str, list[penstock.Problem]]) -> None:
    """A cycle names every step on it, in order, with their locations."""
    (cycle,) = broken["cycle"]
    assert cycle.flow == "broken"
    assert "a -> b -> c -> a" in cycle.message
    assert cycle.file.endswith("brokenflows.py")
    assert cycle.line == _line_of("a")
    assert re.search(r"b at .*brokenflows\.py:\d+", cycle.message)


def test_unknown_after_suggests_close_names(broken: dict[str, list[penstock.Problem]]) -> None:
    """A dangling after= names flow, step and location, with a did-you-mean."""
    typo = next(p for p in broken["unknown-after"] if p.step == "typo")
    assert typo.flow == "broken"
    assert "runs after 'strat'" in typo.message
    assert "did you mean 'start'" in typo.message
    # The line of the @step(after=...) that holds the typo, not the @flow above it.
    assert BROKEN.splitlines()[typo.line - 1] == '@step(after="strat")'
    assert typo.line == _line_of("typo") + 1
    assert str(typo).startswith(f"{typo.file}:{typo.line}: [unknown-after] ")


def test_unknown_after_points_to_the_other_flow(
    broken: dict[str, list[penstock.Problem]],
) -> None:
    """An after= naming a step of another flow says which flow has it."""
    p = next(p for p in broken["unknown-after"] if p.step == "wrong_flow")
    assert "'elsewhere' is a step of 'other'" in p.message


def test_unreachable_and_not_in_flow(broken: dict[str, list[penstock.Problem]]) -> None:
    """Steps no entrypoint reaches, and decorated steps in no flow, are reported."""
    unreachable = {p.step for p in broken["unreachable"]}
    # typo and wrong_flow are unreachable because of their broken after=: that is their
    # unknown-after problem, not a second one.
    assert unreachable == {"island"}
    (homeless,) = broken["not-in-flow"]
    assert homeless.step == "homeless"
    assert homeless.flow is None
    assert homeless.line == _line_of("homeless")


def test_flow_without_entrypoint(broken: dict[str, list[penstock.Problem]]) -> None:
    """A flow with no entrypoint gets one problem, not one per step."""
    (p,) = broken["no-entrypoint"]
    assert p.flow == "rootless"
    assert p.kind is ProblemKind.NO_ENTRYPOINT
    assert "@entrypoint" in p.message
    assert "rootless" not in {q.flow for q in broken.get("unreachable", [])}


def test_two_functions_with_one_name(make_module: ModuleMaker) -> None:
    """Two different functions with the same step name in one flow are reported with both."""
    make_module("dupeflows", DUPES)
    (p,) = penstock.check("dupes")
    assert p.kind is ProblemKind.DUPLICATE_STEP
    assert "dupeflows.one" in p.message
    assert "dupeflows.factory.<locals>.one" in p.message


def test_the_example_is_clean() -> None:
    """The shipped example has no problems."""
    assert penstock.check("bom_sync") == []


def test_check_of_unknown_flow_raises() -> None:
    """check('nope') raises FlowNotFoundError listing the known flows."""
    with pytest.raises(penstock.FlowNotFoundError, match="bom_sync"):
        penstock.check("bom_synx")


TYPO = """
from penstock import entrypoint, flow, step

@flow("checkout")
@entrypoint
def start_checkout(): ...

@flow("checkout")
@step(after=start_checkout)
def reserve_stock(): ...

@flow("checkout")
@step(after="reserve_stok")
def charge_payment(): ...

@flow("checkout")
@step(after=charge_payment)
def ship(): ...

@flow("checkout")
@step(after=ship)
def notify(): ...

@flow("checkout")
@step(after=[ship, notify])
def archive(): ...

@flow("fine")
@entrypoint
def only(): ...
"""


def test_one_typo_is_one_problem_naming_what_it_cuts_off(make_module: ModuleMaker) -> None:
    """A broken after= is the one problem; the steps behind it are listed in it."""
    make_module("typoflows", TYPO)
    problems = penstock.check()
    assert [(str(p.kind), p.step) for p in problems] == [("unknown-after", "charge_payment")]
    (p,) = problems
    assert "did you mean 'reserve_stock'?" in p.message
    assert p.message.endswith(
        "did you mean 'reserve_stock'? Until it is fixed, no entrypoint reaches "
        "'charge_payment' nor the 3 step(s) after it: 'ship', 'notify', 'archive'"
    )


ISLANDS = """
from penstock import entrypoint, flow, step

@flow("isl")
@entrypoint
def begin(): ...

@flow("isl")
@step
def orphan(): ...

@flow("isl")
@step(after=orphan)
def behind_orphan(): ...

@flow("isl")
@step(after="loop_b")
def loop_a(): ...

@flow("isl")
@step(after=loop_a)
def loop_b(): ...
"""


def test_unreachable_advice_fits_the_step(make_module: ModuleMaker) -> None:
    """No after=: "give it after="; a step with after=: advice about its predecessors."""
    make_module("islandflows", ISLANDS)
    unreachable = {p.step: p.message for p in penstock.check() if p.kind is ProblemKind.UNREACHABLE}
    assert set(unreachable) == {"orphan", "loop_a"}
    assert "it has no after=: give it after=..." in unreachable["orphan"]
    assert unreachable["orphan"].endswith("it also cuts off 1 step(s): 'behind_orphan'")
    assert "it runs after 'loop_b', which no entrypoint reaches either" in unreachable["loop_a"]
    assert "give it after=" not in unreachable["loop_a"]
    assert unreachable["loop_a"].endswith("it also cuts off 1 step(s): 'loop_b'")
