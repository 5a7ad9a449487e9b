"""The pytest plugin of flow coverage (``pytest11`` entry point ``penstock_coverage``).

Loaded in every pytest session where penstock is installed, so it does nothing but declare its
options until coverage is asked for (``--penstock-cov``, or ``coverage = true`` in
``[tool.penstock]``): only then is the measuring part (`penstock._coverage.session`) imported,
and only then does anything watch the step calls. Without it, a step call costs what it costs
without the plugin.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the options, in pytest-cov's shapes."""
    group = parser.getgroup("penstock-cov", "flow coverage of the declared flows (penstock)")
    group.addoption(
        "--penstock-cov",
        action="append",
        nargs="?",
        const=True,
        default=[],
        metavar="FLOW",
        dest="penstock_cov",
        help="measure which declared steps, edges, branches and paths the tests exercise; "
        "with FLOW (repeatable), only those flows. Default: every flow the session imports, "
        "and those of [tool.penstock] modules.",
    )
    group.addoption(
        "--penstock-cov-report",
        action="append",
        default=[],
        metavar="TYPE",
        dest="penstock_cov_report",
        help="term, term-missing (add :skip-covered to hide complete flows), json:PATH, "
        "markdown:PATH (a pull-request comment with a diagram per flow under 100%%), "
        "mermaid:DIR (one diagram per flow); repeatable; default term; an empty value "
        "writes no report",
    )
    group.addoption(
        "--penstock-cov-fail-under",
        metavar="PCT",
        type=float,
        default=None,
        dest="penstock_cov_fail_under",
        help="fail the session when less than PCT percent of the declared edges are covered",
    )
    group.addoption(
        "--no-penstock-cov",
        action="store_true",
        default=False,
        dest="no_penstock_cov",
        help="do not measure flow coverage (overrides --penstock-cov and [tool.penstock])",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start measuring when asked to; otherwise do nothing at all."""
    if config.getoption("no_penstock_cov", False):
        return
    wanted: list[Any] = config.getoption("penstock_cov", None) or []
    if not wanted and not _enabled_by_project(config):
        return
    from penstock._coverage.session import CoverageSession

    flows = tuple(str(w) for w in wanted if w is not True)
    config.pluginmanager.register(CoverageSession(config, flows), "penstock-coverage-session")


def _enabled_by_project(config: pytest.Config) -> bool:
    from penstock._errors import ProjectConfigError
    from penstock._project.config import find_project

    try:
        project = find_project(config.rootpath)
    except ProjectConfigError as exc:
        raise pytest.UsageError(f"penstock: {exc}") from None
    return project is not None and project.coverage
