"""What the documentation extensions share: loading the user's modules and drawing a flow.

The MkDocs plugin (``penstock_mkdocs``) and the Sphinx extension (``penstock_sphinx``) are thin
glue over this package, which gives them:

- the options of one diagram, declared once (`DiagramOptions`, listed by
  `DiagramOptions.options`): each host builds its option parsing from that list;
- the project's modules: `module_sources` (``[tool.penstock]`` merged with the host's own
  settings) and `load_modules`;
- drawing: `drawable_flow` (a directive's one look-up of its flow), `flow_diagram` (Mermaid),
  `flow_svg` (Graphviz, at build time), `map_diagram`, `flow_outline`, the anchors and URLs of
  links between diagrams;
- failures: every way a diagram can fail is a `penstock.DocsError` subclass whose message names
  the culprit and whose ``kind`` is the warning type (`UnknownFlowError`, `FlowProblemsError`,
  `OptionError` and `ModuleImportError` also carry what a host may show of them), and
  `failure_report` says how to report it, so each host only decides where it goes (a located
  warning, an admonition, a build failure);
- the browser files penstock ships so that sites draw offline (`ASSETS`).
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from penstock._docs_map import flow_anchor, flow_outline, map_diagram, mermaid_url
from penstock._errors import DiffError, FlowNotFoundError, RenderError
from penstock._graph.checks import check_resolution
from penstock._graph.collapse import collapse_by_module, collapse_links
from penstock._graph.links import links_of
from penstock._graph.model import FlowGraph, StepNode, resolve_flow
from penstock._project.config import ModuleSources, ProjectConfig, module_sources
from penstock._project.modules import ModuleImportError, import_modules
from penstock._project.site_assets import ASSETS, SiteAssets
from penstock._render.legend import legend_html, with_legend
from penstock._render.mermaid import MAX_EDGES, MAX_TEXT_SIZE
from penstock._render.overlay import Overlay
from penstock._render.stubs import has_stubs, mermaid_with_stubs
from penstock.docs._failures import (
    DiagramLimitError,
    FailureReport,
    FlowProblemsError,
    GraphvizError,
    ObservedDataError,
    OptionError,
    PartialFlowError,
    UnknownFlowError,
    failure_report,
)
from penstock.docs._options import DiagramOption, DiagramOptions

__all__ = [
    "ASSETS",
    "Diagram",
    "DiagramOption",
    "DiagramOptions",
    "FailureReport",
    "FlowProblemsError",
    "ModuleImportError",
    "ModuleSources",
    "OptionError",
    "ProjectConfig",
    "SiteAssets",
    "UnknownFlowError",
    "drawable_flow",
    "failure_report",
    "flow_anchor",
    "flow_diagram",
    "flow_outline",
    "flow_svg",
    "load_modules",
    "map_diagram",
    "mermaid_url",
    "module_sources",
    "with_mermaid_config",
]


@dataclass(frozen=True)
class Diagram:
    """A rendered flow: Mermaid text plus what produced it."""

    flow: str
    mermaid: str
    graph: FlowGraph
    #: Source files of the flow's steps: docs builds watch them / record them as dependencies.
    source_files: tuple[str, ...]
    #: Recorded-run files read for the ``observed`` option: dependencies too.
    data_files: tuple[str, ...] = ()
    #: Warnings to report at the directive: undeclared transitions seen in recorded runs, or
    #: a ``since`` revision that could not be read (the flow is then drawn without highlights).
    warnings: tuple[str, ...] = ()
    #: A line for under the diagram (the ``coverage`` option's percentages), or ``None``.
    caption: str | None = None
    #: The legend as HTML, shown below the diagram ("" without one); see `legend_html`.
    legend: str = ""

    @property
    def top_down(self) -> str | None:
        """The same diagram drawn top-down, for a left-right one too wide for its page.

        ``None`` when the diagram is top-down already. The page's script draws it instead
        when the left-right drawing cannot fit the text column with legible labels.
        """
        flipped, count = _LR_LINE.subn("graph TD", self.mermaid, count=1)
        return flipped if count else None

    @property
    def box_classes(self) -> tuple[str, ...]:
        """The classes of the box a host draws the diagram in (penstock-diagrams.js reads it)."""
        small = ("penstock-small",) if "<small>" in self.mermaid else ()
        return ("penstock-diagram", *small)

    def top_down_html(self) -> str:
        """`top_down` in an inert ``<template>`` for the page's script ("" when top-down)."""
        flipped = self.top_down
        if flipped is None:
            return ""
        text = html.escape(flipped, quote=False)
        return f'<template class="penstock-top-down">{text}</template>'


_LR_LINE = re.compile(r"^graph (?:LR|RL)$", re.MULTILINE)


def flow_diagram(
    flow: str | FlowGraph,
    options: DiagramOptions | None = None,
    *,
    flow_url: Callable[[str], str | None] | None = None,
    api_url: Callable[[StepNode], str | None] | None = None,
) -> Diagram:
    """Draw a flow as Mermaid, or raise a `DocsError` saying why not.

    ``flow`` is a graph from `drawable_flow` (a directive that draws one flow several ways
    looks it up once), or a name, looked up and checked here the same way.
    ``flow_url`` gives the URL of another flow's diagram (``None`` when the site does not draw
    it), for the stubs of linked flows. ``api_url`` gives the URL of a step's API entry, used
    for node links when ``link_api`` is on.

    Raises:
        UnknownFlowError: no such flow (with the known flows and a did-you-mean).
        FlowProblemsError: the flow has problems and ``allow_problems`` is false.
        penstock.DocsError: (``kind`` ``diagram-too-large``) over Mermaid's 500 edges or
            50,000 characters.
    """
    opts = (options or DiagramOptions()).validated()
    graph = drawable_flow(flow, opts) if isinstance(flow, str) else flow
    name = graph.name
    links = links_of(name) if opts.links else ()
    if opts.collapse:
        links = collapse_links(graph, links)
        graph = collapse_by_module(graph)
    if len(graph.edges) > MAX_EDGES:
        raise DiagramLimitError(
            f"flow {name!r} has {len(graph.edges)} edges; Mermaid refuses more than {MAX_EDGES} "
            "('Edge limit exceeded'). Split it into smaller flows, draw it with collapse: true "
            "(one box per module), or raise Mermaid's maxEdges "
            "with mermaid.initialize({maxEdges: N}) in your own JavaScript."
        )
    link = opts.source_linker() if opts.link_source else None
    if opts.link_api and api_url is not None:
        link = api_url
    drawn, overlay, data_files, warnings = _marked(graph, opts)
    if opts.observed and opts.drift == "ignore":
        # Drift is still marked on the drawing ("not declared"); a `since` revision that
        # could not be read is still said.
        warnings = tuple(w for w in warnings if w.startswith("since "))
    # The legend goes below the drawing as HTML, and `legend: false` turns off every legend,
    # an overlay's included.
    if opts.legend:
        overlay = with_legend(drawn, overlay, stubs=has_stubs(drawn, links))
    legend = legend_html(overlay) if opts.legend else ""
    caption = None
    if opts.coverage:
        from penstock._coverage.drawing import caption_text

        caption = caption_text(_flow_coverage(graph, opts)[0])
    text = mermaid_with_stubs(
        drawn,
        links=links,
        flow_url=flow_url,
        direction=opts.direction,
        title=opts.title,
        show_docs=opts.show_docs,
        link=link,
        overlay=replace(overlay, legend=False) if overlay is not None else None,
        colors="css",
    )
    text = with_mermaid_config(text, SIZE_CONFIG)
    if len(text) > MAX_TEXT_SIZE:
        raise DiagramLimitError(
            f"the diagram of flow {name!r} is {len(text):,} characters; Mermaid silently replaces "
            f"diagrams over {MAX_TEXT_SIZE:,} with 'Maximum text size in diagram exceeded'. "
            "Turn off show_docs/link_source, split the flow, draw it with collapse: true (one "
            "box per module), or raise maxTextSize with "
            "mermaid.initialize({maxTextSize: N})."
        )
    files = tuple(sorted({s.file for s in graph.steps if s.file and not s.file.startswith("<")}))
    return Diagram(name, text, graph, files, data_files, warnings, legend=legend, caption=caption)


#: Mermaid configuration of every docs diagram: drawn at its natural size, not shrunk to the
#: page width by Mermaid (a wide flow's labels would become unreadably small); the page's
#: script (``penstock-diagrams.js``, served with the site) fits it to the column instead.
SIZE_CONFIG: Mapping[str, Any] = {"flowchart": {"useMaxWidth": False}}

_CONFIG_LINE = "---\nconfig: "


def drawable_flow(name: str, options: DiagramOptions | None = None) -> FlowGraph:
    """The graph of flow ``name``, checked unless ``options`` allow problems.

    This is the one place a diagram's flow is looked up by name: a directive resolves it here
    once and hands the graph to `flow_diagram` and `flow_svg`, and what draws it (overlays,
    renderer) takes the graph, never the name.

    Raises:
        OptionError: an option with a wrong type or value (checked first, as when drawing).
        UnknownFlowError: no such flow (with the known flows and a did-you-mean).
        FlowProblemsError: the flow has problems and ``allow_problems`` is false.
    """
    opts = (options or DiagramOptions()).validated()
    try:
        res = resolve_flow(name)
    except FlowNotFoundError as exc:
        raise UnknownFlowError(exc.flow, exc.known, exc.suggestions) from None
    modules = {step.module for step in res.graph.steps}
    for module, summary in opts.failed_imports:
        if module in modules:
            raise PartialFlowError(name, module, summary)
    if not opts.allow_problems:
        problems = check_resolution(res)
        if problems:
            raise FlowProblemsError(name, problems)
    return res.graph


def with_mermaid_config(text: str, config: Mapping[str, Any]) -> str:
    """``text`` with ``config`` in its front matter, merged over a ``config:`` line there.

    Keys of ``config`` win; nested mappings are merged key by key. The line is JSON, which is
    valid YAML flow style, so it holds any configuration a site gives.
    """
    if not config:
        return text
    if text.startswith(_CONFIG_LINE):
        end = text.index("\n", len(_CONFIG_LINE))
        current = json.loads(text[len(_CONFIG_LINE) : end])
        merged = _merged(current, config)
        return f"{_CONFIG_LINE}{json.dumps(merged)}{text[end:]}"
    line = f"config: {json.dumps(dict(config))}"
    if text.startswith("---\n"):
        return f"---\n{line}\n{text[4:]}"
    return f"---\n{line}\n---\n{text}"


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def flow_svg(
    flow: str | FlowGraph,
    options: DiagramOptions | None = None,
    *,
    flow_url: Callable[[str], str | None] | None = None,
    api_url: Callable[[StepNode], str | None] | None = None,
) -> str:
    """Draw a flow as an inline ``<svg>`` with Graphviz, at build time (no JavaScript).

    ``flow`` is a graph from `drawable_flow`, or a name, looked up and checked here.

    Lines and text use the page's text colour (``currentColor``); what an overlay marks
    (``observed``, ``since``, ``coverage``) carries a class whose colours are the custom
    properties of ``penstock.css``, light or dark with the page, as in the Mermaid drawings.
    The legend (unless ``legend`` is off) follows the ``<svg>`` as HTML, below it. Node
    links (``link_source``, ``link_api``) and stub links work as in Mermaid.

    Raises:
        UnknownFlowError: no such flow.
        FlowProblemsError: the flow has problems and ``allow_problems`` is false.
        penstock.DocsError: (``kind`` ``diagram``) ``dot`` is missing or failed (the message
            says how to fix it).
    """
    # Only sites that ask for SVG pay for these imports.
    from penstock._render.dot import render_dot
    from penstock._render.svg import svg_from_dot

    opts = (options or DiagramOptions()).validated()
    graph = drawable_flow(flow, opts) if isinstance(flow, str) else flow
    name = graph.name
    link = opts.source_linker() if opts.link_source else None
    if opts.link_api and api_url is not None:
        link = api_url
    links = links_of(name) if opts.links else ()
    if opts.collapse:
        links = collapse_links(graph, links)
        graph = collapse_by_module(graph)
    drawn, overlay, _files, _warnings = _marked(graph, opts)
    if opts.legend:
        overlay = with_legend(drawn, overlay, stubs=has_stubs(drawn, links))
    legend = legend_html(overlay) if opts.legend else ""
    dot = render_dot(
        drawn,
        direction=opts.direction,
        show_docs=opts.show_docs,
        # The legend is HTML below the drawing: it never widens the SVG.
        overlay=replace(overlay, legend=False) if overlay is not None else None,
        links=links,
        flow_url=flow_url,
        link=link,
    )
    try:
        return svg_from_dot(dot) + legend
    except RenderError as exc:
        raise GraphvizError(f"flow {name!r}: {exc}") from None


def _marked(
    graph: FlowGraph, opts: DiagramOptions
) -> tuple[FlowGraph, Overlay | None, tuple[str, ...], tuple[str, ...]]:
    """What is drawn over the flow: recorded runs (``observed``) or changes (``since``).

    Returns the graph to draw, its overlay, the data files read and warnings for the page.
    """
    if opts.since is not None:
        return _since(graph, opts)
    if opts.observed:
        from penstock._errors import ObservedError
        from penstock._render.observed import observed_drawing

        if opts.collapse:
            raise OptionError("options 'observed' and 'collapse' cannot be used together")
        try:
            return observed_drawing(graph, opts.observed, opts.observed_base, opts.run)
        except ObservedError as exc:
            raise ObservedDataError(f"observed: {exc}") from None
    if opts.coverage:
        from penstock._coverage.drawing import coverage_overlay

        if opts.collapse:
            raise OptionError("options 'coverage' and 'collapse' cannot be used together")
        fc, path = _flow_coverage(graph, opts)
        # The percentages go in the caption, not also in the legend.
        overlay, warnings = coverage_overlay(graph, fc, percentages=False)
        return graph, overlay, (path,), warnings
    return graph, None, (), ()


@functools.lru_cache(maxsize=16)
def _read_coverage(path: str, size: int, mtime_ns: int) -> Any:
    """The report at ``path``, read once while its size and modification time stay the same.

    A docs build draws many diagrams over the same report (and asks for the caption too).

    Raises:
        ObservedDataError: it cannot be read.
    """
    from penstock._coverage.model import read_report
    from penstock._errors import CoverageError

    try:
        return read_report(path)
    except CoverageError as exc:
        raise ObservedDataError(f"coverage: {exc}") from None


def _flow_coverage(graph: FlowGraph, opts: DiagramOptions) -> tuple[Any, str]:
    """The flow's part of the ``coverage`` report, and the report's absolute path."""
    from pathlib import Path

    from penstock._suggest import did_you_mean

    assert opts.coverage is not None
    path = Path(opts.observed_base or os.getcwd(), opts.coverage).resolve()
    try:
        st = path.stat()
    except OSError:
        report = _read_coverage(str(path), -1, -1)  # read_report says what is wrong
    else:
        report = _read_coverage(str(path), st.st_size, st.st_mtime_ns)
    fc = report.flows.get(graph.name)
    if fc is None:
        known = sorted(report.flows)
        raise ObservedDataError(
            f"coverage: {opts.coverage} has no flow {graph.name!r}"
            f"{did_you_mean(graph.name, known)} (flows in it: {', '.join(known) or 'none'}); "
            "was it measured with --penstock-cov=FLOW for other flows?"
        )
    return fc, str(path)


def _since(
    graph: FlowGraph, opts: DiagramOptions
) -> tuple[FlowGraph, Overlay | None, tuple[str, ...], tuple[str, ...]]:
    """The changes since a revision, with the recorded traffic on them when ``observed`` is set.

    A revision or dump that cannot be read (an invalid dump included) is a warning at the
    directive, never an aborted build; so are recorded runs that cannot be read.
    """
    if opts.since is None:
        return graph, None, (), ()
    from penstock._errors import ObservedError
    from penstock._versions.since import since_overlay

    try:
        drawn, overlay, read = since_overlay(
            graph,
            opts.since,
            modules=opts.since_modules,
            paths=opts.since_paths,
            root=opts.since_root,
            observed=opts.observed,
            observed_base=opts.observed_base,
            timeout=opts.since_seconds,
        )
    except DiffError as exc:
        return graph, None, (), (f"since {opts.since!r}: drawn without highlights: {exc}",)
    except ObservedError as exc:
        return graph, None, (), (f"since {opts.since!r}: observed: {exc}",)
    return drawn, overlay, read, ()


def load_modules(
    modules: Iterable[str],
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    fresh: bool = False,
    failures: list[ModuleImportError] | None = None,
    paths_setting: str = "paths",
    exclude: Iterable[str] = (),
) -> list[str]:
    """Import the modules that declare flows; return the source files of every step module.

    A package imports its submodules too, except ``__main__``, programs (a first line
    ``#!``) and the names matching ``exclude``.

    Args:
        modules: dotted names to import.
        paths: folders put at the front of ``sys.path`` first.
        fresh: drop previously imported user modules (the listed ones, those that registered
            steps, and any module under ``paths``) and their steps before importing, so edits
            are seen: what a docs server needs before each rebuild.
        failures: when given, a module that fails to import is appended here and the others
            are still imported, so one broken module does not take every diagram down with it.
        paths_setting: how the caller's users add folders (e.g. ``"penstock_paths in
            conf.py"``), named when a module is not found.
        exclude: globs of dotted names a package's import skips (``ModuleSources.exclude``).

    Raises:
        ModuleImportError: a module raised (only when ``failures`` is not given); carries its
            name, the traceback from the user's code and the culprit's ``file:line``, or, when
            the module is not on ``sys.path``, the folders searched and the setting to change.
    """
    return import_modules(
        modules,
        paths,
        fresh=fresh,
        failures=failures,
        paths_setting=paths_setting,
        exclude=exclude,
    )
