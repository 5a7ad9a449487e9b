"""Every way a diagram can fail, as a `DocsError` subclass, and the one report of a failure.

Both docs hosts report a failed diagram the same way: a flow missing because its module failed
to import is said once (the import failure was warned about already), a flow with problems
caused by a module left out gets hints naming the module and the setting, and what goes on a
published page shows no folder of the build machine. `failure_report` does all of it; a host
only decides where the text goes (a located warning, an admonition, a build failure).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from penstock._errors import DocsError, FlowNotFoundError
from penstock._graph.checks import Problem
from penstock._project.config import ModuleSources
from penstock._project.hints import missing_module_hints
from penstock._project.modules import ModuleImportError
from penstock._suggest import did_you_mean

__all__ = [
    "DiagramLimitError",
    "FailureReport",
    "FlowProblemsError",
    "GraphvizError",
    "ObservedDataError",
    "OptionError",
    "PartialFlowError",
    "UnknownFlowError",
    "failure_report",
]


class UnknownFlowError(DocsError):
    """A page asks for a flow no imported module declares."""

    #: The warning type a host files it under (Sphinx: ``penstock.unknown-flow``).
    kind = "unknown-flow"

    def __init__(self, flow: str, known: list[str], suggestions: list[str]) -> None:
        self.flow = flow
        self.known = known
        self.suggestions = suggestions
        super().__init__(str(FlowNotFoundError(flow, known, suggestions)))


class FlowProblemsError(DocsError):
    """The flow is declared, but `penstock.check` finds problems in it."""

    kind = "flow-problems"

    def __init__(self, flow: str, problems: Sequence[Problem]) -> None:
        self.flow = flow
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"flow {flow!r} has {len(problems)} problem(s):\n{lines}")


class DiagramLimitError(DocsError):
    """The diagram is larger than Mermaid will draw with its default limits."""

    kind = "diagram-too-large"


class GraphvizError(DocsError):
    """Drawing a diagram as SVG at build time needs Graphviz's ``dot``: missing or failed."""

    # The same warning type as the offline forms' Graphviz failures (penstock_sphinx._offline).
    kind = "diagram"


class OptionError(DocsError):
    """A directive option is unknown or has a wrong value."""

    kind = "bad-option"

    @classmethod
    def unknown(cls, name: str, known: Iterable[str], *, what: str) -> OptionError:
        """The error for option ``name`` of ``what`` not among ``known``, with a did-you-mean."""
        names = list(known)
        return cls(
            f"{what} has no option {name!r}{did_you_mean(name, names)} "
            f"(options: {', '.join(names)})"
        )


class ObservedDataError(DocsError):
    """The recorded runs a diagram asks for cannot be read (no file matches, unknown run)."""

    kind = "observed"


class PartialFlowError(DocsError):
    """The flow's module failed to import part-way: only some of its steps are known.

    Drawing what was declared before the failure would show a flow that looks whole and is
    not (and recorded runs over it would report false drift), so the diagram is not drawn.
    """

    kind = "partial-flow"

    def __init__(self, flow: str, module: str, summary: str) -> None:
        self.flow = flow
        self.module = module
        super().__init__(
            f"flow {flow!r} is incomplete: module {module!r} failed to import part-way "
            f"({summary}); only the steps declared before the failure are known, so the "
            "flow is not drawn. Fix the module and rebuild."
        )


@dataclass(frozen=True)
class FailureReport:
    """What a host says about a diagram that could not be drawn.

    Attributes:
        message: for the build log: the error, with hints about modules left out (absolute
            paths kept, so terminals and editors can open them).
        page_message: the same for a published page: paths relative to the project.
        details: for a page, below the first line: the import traceback, or the message's
            further lines (relative paths too).
        kind: the warning type, e.g. ``unknown-flow``, ``bad-option`` (``diagram`` for others).
        reported: the flow is missing because a module failed to import, and that failure
            was reported already: log this at info level, since a warning per diagram would
            only bury the one that matters.
    """

    message: str
    page_message: str
    details: str
    kind: str
    reported: bool


def failure_report(
    exc: Exception,
    flow: str,
    *,
    failed: Sequence[str] = (),
    sources: ModuleSources | None = None,
    root: str | os.PathLike[str] | None = None,
    see: str = "the error above",
) -> FailureReport:
    """How to report ``exc``, raised drawing ``flow``: the one wording of both docs hosts.

    Args:
        exc: what the drawing raised.
        flow: the flow the page asked for.
        failed: the modules that failed to import at the last load.
        sources: where the modules and folders came from (for hints about a module left out).
        root: the project folder; paths under it are made relative on the page.
        see: where the host reported the import failure itself (e.g. ``"the error above"``).
    """
    kind = str(getattr(exc, "kind", "diagram"))
    if isinstance(exc, UnknownFlowError) and failed and not exc.suggestions:
        # Most likely declared by the module that failed: no close match among known flows.
        names = ", ".join(repr(m) for m in failed)
        message = (
            f"flow {flow!r} is not available because module(s) {names} failed to import (see {see})"
        )
        page = _relative(message, root)
        return FailureReport(message, page, "", kind, reported=True)
    message = str(exc)
    if isinstance(exc, PartialFlowError):
        # The import failure itself was warned about already: the page shows the error box.
        page = _relative(message, root)
        return FailureReport(message, page, "", kind, reported=True)
    if sources is not None and isinstance(exc, FlowProblemsError):
        hints = [h for p in exc.problems for h in missing_module_hints(p, sources, None)]
        message += "".join(f"\n  {h}" for h in hints)
    if sources is not None and isinstance(exc, UnknownFlowError) and not sources.modules:
        message += (
            f" ({sources.modules_setting} lists no modules, and no pyproject.toml above has "
            "modules in [tool.penstock])"
        )
    details = exc.details if isinstance(exc, ModuleImportError) else message.partition("\n")[2]
    return FailureReport(
        message, _relative(message, root), _relative(details, root), kind, reported=False
    )


def _relative(text: str, root: str | os.PathLike[str] | None) -> str:
    """``text`` with absolute paths under ``root`` made relative to it, for published pages.

    A build machine's folders (home directories, CI workspaces) do not belong on a page.
    """
    if not root:
        return text
    folder = os.path.abspath(os.fspath(root)).rstrip(os.sep) + os.sep
    return text.replace(folder, "")
