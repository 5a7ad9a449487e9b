"""Flow coverage of one pytest session: watch the runs, merge the workers, report, fail under.

Registered by `penstock._coverage.pytest_plugin` only when coverage is asked for. Under
pytest-xdist each worker sends its flows and its distinct runs to the controller at the end
(as coverage.py combines per-process data), so the numbers are a serial run's.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from penstock._coverage.compute import report
from penstock._coverage.hits import Hits
from penstock._coverage.model import CoverageReport
from penstock._coverage.tap import CoverageTap
from penstock._coverage.text import table_text
from penstock._graph.dump import dump_document
from penstock._graph.model import FlowGraph, flows
from penstock._suggest import did_you_mean

__all__ = ["CoverageSession", "parse_reports"]

_WORKER_KEY = "penstock_cov"
#: Report types of ``--penstock-cov-report`` (as pytest-cov's ``--cov-report``).
REPORT_TYPES = ("term", "term-missing", "json", "markdown", "mermaid")
_DEFAULT_PATHS = {
    "json": "penstock-coverage.json",
    "markdown": "penstock-coverage.md",
    "mermaid": "penstock-coverage",
}


def parse_reports(values: list[str]) -> list[tuple[str, str | None, bool]]:
    """``(type, path, skip_covered)`` per ``--penstock-cov-report`` value (default: term).

    Raises:
        pytest.UsageError: an unknown report type (with a did-you-mean).
    """
    if not values:
        return [("term", None, False)]
    out: list[tuple[str, str | None, bool]] = []
    for value in values:
        if value == "":
            continue  # pytest-cov's "--cov-report=": no report
        kind, _, rest = value.partition(":")
        if kind not in REPORT_TYPES:
            raise pytest.UsageError(
                f"--penstock-cov-report: unknown report type {kind!r}"
                f"{did_you_mean(kind, REPORT_TYPES)} (types: {', '.join(REPORT_TYPES)})"
            )
        if kind.startswith("term"):
            if rest not in ("", "skip-covered"):
                raise pytest.UsageError(
                    f"--penstock-cov-report={value}: {kind} takes no path; "
                    f"the only modifier is {kind}:skip-covered"
                )
            out.append((kind, None, rest == "skip-covered"))
        else:
            out.append((kind, rest or _DEFAULT_PATHS[kind], False))
    return out


class CoverageSession:
    """The measuring part of the plugin, for one session (controller, worker or serial)."""

    def __init__(self, config: pytest.Config, wanted: tuple[str, ...]) -> None:
        self.config = config
        self.wanted = wanted
        self.reports = parse_reports(config.getoption("penstock_cov_report") or [])
        fail_under = config.getoption("penstock_cov_fail_under")
        if fail_under is not None and not 0 <= fail_under <= 100:
            raise pytest.UsageError(
                f"--penstock-cov-fail-under={fail_under:g}: a percentage from 0 to 100"
            )
        self.fail_under: float | None = fail_under
        self.is_worker = hasattr(config, "workerinput")
        self.workers: list[dict[str, Any]] = []
        self.report: CoverageReport | None = None
        self.written: list[str] = []
        self.problems: list[str] = []
        self.tap = CoverageTap()
        self.tap.start()

    # --- collecting ------------------------------------------------------------------------

    def _own_data(self) -> dict[str, Any]:
        graphs = self._graphs()
        root = str(self.config.rootpath)
        return {
            "flows": dump_document(graphs.values(), root)["flows"],
            "hits": self.tap.hits().as_dict(),
        }

    def _graphs(self) -> dict[str, FlowGraph]:
        self._import_project_modules()
        return flows()

    def _import_project_modules(self) -> None:
        # Flows no test imports still count (at 0 %), as pytest-cov counts files no test runs.
        from penstock._errors import ProjectConfigError
        from penstock._project.config import module_sources

        try:
            sources = module_sources([], [], start=self.config.rootpath)
        except ProjectConfigError as exc:
            self.problems.append(str(exc))
            return
        if not sources.modules:
            return
        from penstock._project.modules import ModuleImportError, import_modules

        failures: list[ModuleImportError] = []
        import_modules(sources.modules, sources.folders, failures=failures)
        self.problems += [f"module {e.module!r} failed to import: {e}" for e in failures]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Keep what a pytest-xdist worker measured."""
        output = getattr(node, "workeroutput", None) or {}
        data = output.get(_WORKER_KEY)
        if data:
            self.workers.append(json.loads(data))

    # --- the end ------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Send the data (worker), or merge, report and apply fail-under (controller/serial)."""
        self.tap.stop()
        own = self._own_data()
        if self.is_worker:
            self.config.workeroutput[_WORKER_KEY] = json.dumps(own)  # type: ignore[attr-defined]
            return
        graphs: dict[str, FlowGraph] = {}
        hits = Hits()
        for data in [own, *self.workers]:
            for item in data["flows"]:
                graph = FlowGraph.from_dict(item)
                graphs.setdefault(graph.name, graph)
            hits.merge(Hits.from_dict(data["hits"]))
        if self.wanted:
            unknown = [w for w in self.wanted if w not in graphs]
            for name in unknown:
                self.problems.append(
                    f"--penstock-cov={name}: no such flow{did_you_mean(name, sorted(graphs))}"
                )
            if unknown:
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
            graphs = {k: v for k, v in graphs.items() if k in self.wanted}
        root = str(self.config.rootpath)
        self.report = report(graphs, hits, source="pytest", root=root)
        self._write(graphs)
        below = self.fail_under is not None and self._below()
        if below and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _below(self) -> bool:
        assert self.report is not None
        assert self.fail_under is not None
        percent = self.report.totals()["edges"].percent
        return percent is not None and percent < self.fail_under

    def _write(self, graphs: dict[str, FlowGraph]) -> None:
        assert self.report is not None
        base = Path(self.config.invocation_params.dir)
        for kind, path, _ in self.reports:
            if path is None:
                continue
            target = base / path
            try:
                if kind == "json":
                    _write_text(target, self.report.text())
                elif kind == "markdown":
                    from penstock._coverage.markdown import markdown_text

                    _write_text(target, markdown_text(self.report, graphs))
                else:
                    self._write_mermaid(target, graphs)
            except OSError as exc:
                self.problems.append(f"cannot write the {kind} report to {target}: {exc}")
                continue
            self.written.append(f"{kind} report written to {path}")

    def _write_mermaid(self, folder: Path, graphs: dict[str, FlowGraph]) -> None:
        from penstock._coverage.drawing import coverage_mermaid

        assert self.report is not None
        folder.mkdir(parents=True, exist_ok=True)
        for name, fc in self.report.flows.items():
            _write_text(folder / f"{_file_name(name)}.mmd", coverage_mermaid(graphs[name], fc))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The table(s), the files written, and the fail-under verdict."""
        if self.is_worker or self.report is None:
            return
        tr = terminalreporter
        tr.write_sep("-", "penstock flow coverage")
        for kind, _, skip in self.reports:
            if kind.startswith("term"):
                tr.write(table_text(self.report, missing=kind == "term-missing", skip_covered=skip))
        for line in self.written:
            tr.write_line(line)
        for problem in self.problems:
            tr.write_line(f"penstock-cov: {problem}", red=True, bold=True)
        if self.fail_under is not None:
            total = self.report.totals()["edges"].percent or 0.0
            if self._below():
                tr.write_line(
                    f"FAIL Required flow coverage of {self.fail_under:g}% (edges) not reached. "
                    f"Total edge coverage: {total:.2f}%",
                    red=True,
                    bold=True,
                )
            else:
                tr.write_line(
                    f"Required flow coverage of {self.fail_under:g}% (edges) reached. "
                    f"Total edge coverage: {total:.2f}%",
                    green=True,
                )


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _file_name(flow: str) -> str:
    # Flow names are free text: keep them readable, but never a path.
    name = re.sub(r"[^\w.-]+", "_", flow).strip("._") or "flow"
    return name if os.path.basename(name) == name else "flow"
