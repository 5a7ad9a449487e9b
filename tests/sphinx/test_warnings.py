"""Author mistakes: located, typed warnings and an admonition; import failures stop the build."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sphinx.errors import ConfigError
from sphinx.testing.util import SphinxTestApp

from tests.sphinx.conftest import plain
from tests.sphinx.html import mermaid_blocks

#: (line in mistakes.rst, subtype, what the message must say)
MISTAKES = [
    (4, "unknown-flow", "penstock-flow ordrs: unknown flow 'ordrs'; did you mean 'orders'?"),
    (6, "bad-option", "direction 'diagonal' is not one of TD, TB, BT, LR, RL"),
    (9, "bad-option", "unknown penstock-flow option 'directoin'; did you mean 'direction'?"),
    # The broken after= is the root cause: the step it cuts off is no second problem.
    (12, "flow-problems", "flow 'looping' has 1 problem(s):"),
    (14, "diagram-too-large", "Mermaid silently replaces diagrams over 50,000"),
    (17, "bad-option", "option 'show_docs' must be true or false, got 'maybe'"),
    (20, "bad-option", "link_source needs a source_url template"),
]


def warnings_of(app: SphinxTestApp) -> list[tuple[int, str, str]]:
    """(line, subtype, message) of each penstock warning, from the warning stream."""
    text = plain(app.warning.getvalue())
    found = re.findall(
        r"mistakes\.rst:(\d+): WARNING: (.*?) \[penstock\.([a-z-]+)\]$", text, re.S | re.M
    )
    return [(int(line), subtype, message) for line, message, subtype in found]


@pytest.mark.sphinx("html", testroot="mistakes", srcdir="warnings-all")
def test_each_mistake_is_a_located_typed_warning(app: SphinxTestApp) -> None:
    """Every mistake warns once, at the directive's line, with subtype penstock.<kind>."""
    app.build()
    found = warnings_of(app)
    assert [(line, sub) for line, sub, _ in found] == [(line, sub) for line, sub, _ in MISTAKES]
    for (_, _, message), (_, _, expected) in zip(found, MISTAKES, strict=True):
        assert expected in message
    assert plain(app.warning.getvalue()).count("WARNING:") == len(MISTAKES)


@pytest.mark.sphinx("html", testroot="mistakes", srcdir="warnings-problems")
def test_flow_problems_name_the_step_file_and_line(app: SphinxTestApp) -> None:
    """A flow-problems warning names the `@step(after=...)` line of each problem."""
    app.build()
    (message,) = [m for _, sub, m in warnings_of(app) if sub == "flow-problems"]
    assert re.search(
        r"flawed[/\\]looping\.py:13: \[unknown-after\] step 'finish' of flow 'looping' runs "
        r"after 'finsh', .*did you mean 'finish'\?",
        message,
    )


@pytest.mark.sphinx("html", testroot="mistakes", srcdir="warnings-page")
def test_a_mistake_shows_an_admonition_instead_of_a_diagram(app: SphinxTestApp) -> None:
    """The page shows a warning box with the message verbatim, and no diagram."""
    app.build()
    page = (app.outdir / "mistakes.html").read_text(encoding="utf-8")
    assert mermaid_blocks(app.outdir / "mistakes.html") == []
    assert page.count('<div class="admonition warning">') == len(MISTAKES)
    assert (
        'penstock could not draw flow <code class="docutils literal notranslate">'
        '<span class="pre">ordrs</span></code>:</p>'
    ) in page
    assert "<pre><span></span>unknown flow 'ordrs'; did you mean 'orders'?" in page


@pytest.mark.sphinx(
    "html",
    testroot="mistakes",
    srcdir="warnings-suppressed",
    confoverrides={"suppress_warnings": ["penstock.unknown-flow", "penstock.bad-option"]},
)
def test_suppress_warnings_silences_chosen_subtypes(app: SphinxTestApp) -> None:
    """suppress_warnings = ["penstock.unknown-flow", ...] silences those subtypes only."""
    app.build()
    assert [sub for _, sub, _ in warnings_of(app)] == ["flow-problems", "diagram-too-large"]


def test_import_failure_is_one_located_warning_and_the_build_goes_on(
    make_app: Callable[..., SphinxTestApp], rootdir: object, sphinx_test_tempdir: object
) -> None:
    """A module that raises on import is one warning at the raising line, with the traceback;
    the other modules' flows are still drawn."""
    from pathlib import Path
    from shutil import copytree

    srcdir = Path(str(sphinx_test_tempdir)) / "warnings-import"
    copytree(Path(str(rootdir)) / "test-mistakes", srcdir, dirs_exist_ok=True)
    modules = [*make_app("html", srcdir=srcdir).config.penstock_modules, "flawed.raising"]
    app = make_app("html", srcdir=srcdir, confoverrides={"penstock_modules": modules})
    app.build()
    text = plain(app.warning.getvalue())
    found = re.findall(
        r"^(.*?): WARNING: penstock: (.*?) \[penstock\.import-error\]$", text, re.S | re.M
    )
    assert len(found) == 1, text
    location, message = found[0]
    assert location.endswith("raising.py:3")
    assert "could not import module 'flawed.raising'" in message
    assert re.search(r'raising\.py", line 3, in <module>\n\s+RATIO = 1 / 0', message)
    assert "ZeroDivisionError: division by zero" in message
    assert text.count("could not import module") == 1
    # The healthy modules were imported all the same: the page's own mistakes are reported
    # exactly as without the broken module.
    assert [(line, sub) for line, sub, _ in warnings_of(app)] == [
        (line, sub) for line, sub, _ in MISTAKES
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"penstock_direction": "sideways"}, "direction 'sideways' is not one of"),
        ({"penstock_link_source": True}, "link_source needs a source_url template"),
    ],
)
def test_bad_site_default_is_a_config_error(
    make_app: Callable[..., SphinxTestApp],
    rootdir: object,
    sphinx_test_tempdir: object,
    overrides: dict[str, object],
    expected: str,
) -> None:
    """A wrong penstock_* value in conf.py stops the build with a ConfigError saying which."""
    from pathlib import Path
    from shutil import copytree

    srcdir = Path(str(sphinx_test_tempdir)) / "warnings-config"
    copytree(Path(str(rootdir)) / "test-basic", srcdir, dirs_exist_ok=True)
    with pytest.raises(ConfigError, match=r"conf\.py \(penstock_\* settings\): " + expected):
        make_app("html", srcdir=srcdir, confoverrides=overrides)


@pytest.mark.sphinx("html", testroot="mistakes", srcdir="warnings-include")
def test_a_mistake_in_an_included_file_points_into_that_file(app: SphinxTestApp) -> None:
    """A directive pulled in with .. include:: is reported at its own file and line."""
    (app.srcdir / "part.rst.inc").write_text("Intro.\n\n.. penstock-flow:: ordr\n")
    (app.srcdir / "mistakes.rst").write_text("Mistakes\n========\n\n.. include:: part.rst.inc\n")
    app.build()
    assert re.search(
        r"part\.rst\.inc:3: WARNING: penstock-flow ordr: unknown flow 'ordr'",
        plain(app.warning.getvalue()),
    )
