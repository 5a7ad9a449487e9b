"""What the documentation extensions share: loading the user's modules and drawing a flow.

Also the one home of what both extensions need from penstock: the project's ``[tool.penstock]``
settings (`module_sources`), the did-you-mean (`did_you_mean`, `close_matches`), and the
message for a flow missing because its module failed to import (`unavailable_flow`), and
the browser files penstock ships so that sites draw offline (`STATIC_DIR`, `MERMAID_JS`, ...).

The MkDocs plugin (``penstock_mkdocs``) and the Sphinx extension (``penstock_sphinx``) are thin
glue over this module. It turns every way a diagram can fail into a `DocsError`
subclass whose message names the culprit, so each extension only has to decide how to report it
(a located warning, an admonition, a build failure).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from penstock._docs_map import flow_anchor, flow_outline, map_diagram, mermaid_url
from penstock._errors import DiffError, DocsError, FlowNotFoundError, RenderError
from penstock._graph.checks import Problem, check
from penstock._graph.collapse import collapse_by_module, collapse_links
from penstock._graph.links import links_of
from penstock._graph.model import FlowGraph, StepNode, get_flow
from penstock._project.config import ModuleSources, ProjectConfig, find_project, module_sources
from penstock._project.hints import missing_module_hints
from penstock._project.modules import ModuleImportError, import_modules
from penstock._project.site_assets import (
    D3_JS,
    D3_VERSION,
    DIAGRAM_CSS,
    LICENSES,
    MERMAID_ESM,
    MERMAID_INIT,
    MERMAID_JS,
    MERMAID_VERSION,
    STATIC_DIR,
)
from penstock._render.mermaid import DIRECTIONS, MAX_EDGES, MAX_TEXT_SIZE
from penstock._render.overlay import Overlay
from penstock._render.stubs import mermaid_with_stubs
from penstock._suggest import close_matches, did_you_mean

__all__ = [
    "D3_JS",
    "D3_VERSION",
    "DIAGRAM_CSS",
    "LICENSES",
    "MERMAID_ESM",
    "MERMAID_INIT",
    "MERMAID_JS",
    "MERMAID_VERSION",
    "SIZE_CONFIG",
    "STATIC_DIR",
    "Diagram",
    "DiagramLimitError",
    "DiagramOptions",
    "FlowProblemsError",
    "GraphvizError",
    "ModuleImportError",
    "ModuleSources",
    "ObservedDataError",
    "OptionError",
    "ProjectConfig",
    "UnknownFlowError",
    "close_matches",
    "did_you_mean",
    "find_project",
    "flow_anchor",
    "flow_diagram",
    "flow_outline",
    "flow_svg",
    "is_unavailable",
    "load_modules",
    "map_diagram",
    "mermaid_url",
    "module_sources",
    "problem_hints",
    "relative_paths",
    "source_linker",
    "unavailable_flow",
    "with_mermaid_config",
]


class UnknownFlowError(DocsError):
    """A page asks for a flow no imported module declares."""

    def __init__(self, flow: str, known: list[str], suggestions: list[str]) -> None:
        self.flow = flow
        self.known = known
        self.suggestions = suggestions
        super().__init__(str(FlowNotFoundError(flow, known, suggestions)))


class FlowProblemsError(DocsError):
    """The flow is declared, but `penstock.check` finds problems in it."""

    def __init__(self, flow: str, problems: Sequence[Problem]) -> None:
        self.flow = flow
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"flow {flow!r} has {len(problems)} problem(s):\n{lines}")


class DiagramLimitError(DocsError):
    """The diagram is larger than Mermaid will draw with its default limits."""


class GraphvizError(DocsError):
    """Drawing a diagram as SVG at build time needs Graphviz's ``dot``: missing or failed."""


class OptionError(DocsError):
    """A directive option is unknown or has a wrong value."""


class ObservedDataError(DocsError):
    """The recorded runs a diagram asks for cannot be read (no file matches, unknown run)."""


@dataclass(frozen=True)
class DiagramOptions:
    """How one diagram is drawn; every field can be set per directive or as a site default.

    Attributes:
        direction: ``TD``/``TB``, ``BT``, ``LR`` or ``RL``.
        title: a title drawn above the diagram.
        show_docs: show each step's docstring summary under its name.
        link_source: make each node a link to its source (needs ``source_url``).
        source_url: a URL template with ``{path}`` (file relative to ``source_root``), ``{line}``,
            ``{module}`` and ``{qualname}``, e.g. ``https://git.example/app/blob/main/{path}#L{line}``.
        source_root: the folder ``{path}`` is relative to (default: the current directory).
        allow_problems: draw the flow even when `penstock.check` reports problems.
        observed: recorded runs to draw over the flow: a file or glob of JSON log lines or
            OTLP JSON (see `penstock.observe`), relative to ``observed_base``.
        run: with ``observed``, draw only this run's path (a correlation ID or a prefix).
        observed_base: the folder ``observed`` is relative to (the site's config folder).
        links: draw the flows this one hands work to or receives work from as small stubs
            (linked to their diagrams when the site draws them).
        legend: add a legend of the shapes used (entrypoints, steps in another process,
            decision points, stubs of other flows).
        collapse: draw each module's steps as one box (for flows too big to read or to draw).
        link_api: make each node a link to the step's entry in the API reference (the host
            resolves it; steps not documented fall back to their source link).
        since: a git revision (or a ``penstock dump`` file): mark what changed in the flow
            since then (added steps and edges, removed ones kept and dashed, changed ones).
        since_modules: the modules to load at that revision (set by the docs extensions from
            their own configuration).
        since_paths: their folders (absolute, or relative to ``since_root``).
        since_root: the folder in the git checkout the revision is read from (default: the
            current directory).
    """

    direction: str = "TD"
    title: str | None = None
    show_docs: bool = False
    link_source: bool = False
    source_url: str | None = None
    source_root: str | None = None
    allow_problems: bool = False
    observed: str | None = None
    run: str | None = None
    observed_base: str | None = None
    links: bool = True
    legend: bool = True
    collapse: bool = False
    link_api: bool = False

    since: str | None = None
    since_modules: tuple[str, ...] = ()
    since_paths: tuple[str, ...] = ()
    since_root: str | None = None

    #: Options a page author may set on one directive.
    PER_DIAGRAM = (
        "direction", "title", "show_docs", "link_source", "observed", "run", "links", "legend",
        "collapse", "link_api", "since",
    )  # fmt: skip

    def merged(self, values: Mapping[str, Any], *, where: str = "") -> DiagramOptions:
        """A copy with per-directive ``values`` applied, validated.

        Raises:
            OptionError: unknown option (with a did-you-mean) or a value of the wrong type.
        """
        changes: dict[str, Any] = {}
        prefix = f"{where}: " if where else ""
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name not in self.PER_DIAGRAM:
                hint = did_you_mean(name, self.PER_DIAGRAM)
                raise OptionError(
                    f"{prefix}unknown penstock-flow option {key!r}{hint} "
                    f"(options: {', '.join(self.PER_DIAGRAM)})"
                )
            changes[name] = value
        return replace(self, **changes).validated(where)

    def validated(self, where: str = "") -> DiagramOptions:
        """Check types and values; normalise the direction to upper case."""
        prefix = f"{where}: " if where else ""
        direction = str(self.direction).upper()
        if direction not in DIRECTIONS:
            hint = did_you_mean(direction, DIRECTIONS)
            raise OptionError(
                f"{prefix}direction {self.direction!r} is not one of {', '.join(DIRECTIONS)}{hint}"
            )
        for flag in (
            "show_docs", "link_source", "allow_problems", "links", "legend", "collapse", "link_api"
        ):  # fmt: skip
            if not isinstance(getattr(self, flag), bool):
                raise OptionError(
                    f"{prefix}option {flag!r} must be true or false, got {getattr(self, flag)!r}"
                )
        if self.title is not None and not isinstance(self.title, (str, int, float)):
            raise OptionError(f"{prefix}option 'title' must be text, got {self.title!r}")
        if self.link_source and not self.source_url:
            raise OptionError(
                f"{prefix}link_source needs a source_url template, e.g. "
                "'https://github.com/ORG/REPO/blob/main/{path}#L{line}'"
            )
        title = None if self.title is None else str(self.title)
        if self.since is not None and (not isinstance(self.since, str) or not self.since.strip()):
            raise OptionError(
                f"{prefix}option 'since' must be a git revision written as text (quote "
                f'numbers, e.g. since: "v1.10"), got {self.since!r}'
            )
        if self.since is not None and self.observed:
            raise OptionError(
                f"{prefix}options 'since' and 'observed' draw different marks; use one per diagram"
            )
        observed, run = _observed_options(self.observed, self.run, prefix)
        return replace(self, direction=direction, title=title, observed=observed, run=run)


def _observed_options(observed: Any, run: Any, prefix: str) -> tuple[str | None, str | None]:
    # YAML reads `observed: false` as False and a numeric-looking run ID as a number.
    if observed is False or observed == "":
        observed = None
    if observed is not None and not isinstance(observed, str):
        raise OptionError(f"{prefix}option 'observed' must be a path or glob, got {observed!r}")
    if run is not None and not isinstance(run, (str, int)):
        raise OptionError(f"{prefix}option 'run' must be a correlation ID, got {run!r}")
    if run is not None and observed is None:
        raise OptionError(f"{prefix}option 'run' needs 'observed' (the files to find it in)")
    return observed, None if run is None else str(run)


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


def flow_diagram(
    name: str,
    options: DiagramOptions | None = None,
    *,
    flow_url: Callable[[str], str | None] | None = None,
    api_url: Callable[[StepNode], str | None] | None = None,
) -> Diagram:
    """Draw flow ``name`` as Mermaid, or raise a `DocsError` saying why not.

    ``flow_url`` gives the URL of another flow's diagram (``None`` when the site does not draw
    it), for the stubs of linked flows. ``api_url`` gives the URL of a step's API entry, used
    for node links when ``link_api`` is on.

    Raises:
        UnknownFlowError: no such flow (with the known flows and a did-you-mean).
        FlowProblemsError: the flow has problems and ``allow_problems`` is false.
        DiagramLimitError: over Mermaid's 500 edges or 50,000 characters.
    """
    opts = (options or DiagramOptions()).validated()
    graph = _drawable_flow(name, opts)
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
    link = _source_linker(opts) if opts.link_source else None
    if opts.link_api and api_url is not None:
        link = api_url
    drawn, overlay, data_files, warnings = _marked(graph, opts)
    text = mermaid_with_stubs(
        drawn,
        links=links,
        flow_url=flow_url,
        legend=opts.legend,
        direction=opts.direction,
        title=opts.title,
        show_docs=opts.show_docs,
        link=link,
        overlay=overlay,
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
    return Diagram(name, text, graph, files, data_files, warnings)


#: Mermaid configuration of every docs diagram: drawn at its natural size, not shrunk to the
#: page width (a wide flow's labels would become unreadably small); a wide diagram scrolls
#: instead (``penstock.css``, served with the site).
SIZE_CONFIG: Mapping[str, Any] = {"flowchart": {"useMaxWidth": False}}

_CONFIG_LINE = "---\nconfig: "


def _drawable_flow(name: str, opts: DiagramOptions) -> FlowGraph:
    """The flow ``name``, checked unless ``opts`` allows problems (errors as documented)."""
    try:
        graph = get_flow(name)
    except FlowNotFoundError as exc:
        raise UnknownFlowError(exc.flow, exc.known, exc.suggestions) from None
    if not opts.allow_problems:
        problems = check(name)
        if problems:
            raise FlowProblemsError(name, problems)
    return graph


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
    name: str,
    options: DiagramOptions | None = None,
    *,
    flow_url: Callable[[str], str | None] | None = None,
    api_url: Callable[[StepNode], str | None] | None = None,
) -> str:
    """Draw flow ``name`` as an inline ``<svg>`` with Graphviz, at build time (no JavaScript).

    Lines and text use the page's text colour (``currentColor``), so light and dark palettes
    both read; node links (``link_source``, ``link_api``) and stub links work as in Mermaid.

    Raises:
        UnknownFlowError: no such flow.
        FlowProblemsError: the flow has problems and ``allow_problems`` is false.
        GraphvizError: ``dot`` is missing or failed (the message says how to fix it).
    """
    # Only sites that ask for SVG pay for these imports.
    from penstock._render.dag import generate_dag
    from penstock._render.svg import svg_from_dot

    opts = (options or DiagramOptions()).validated()
    graph = _drawable_flow(name, opts)
    link = _source_linker(opts) if opts.link_source else None
    if opts.link_api and api_url is not None:
        link = api_url
    dot = generate_dag(
        graph,
        format="dot",
        direction=opts.direction,
        show_docs=opts.show_docs,
        link=link,
        links=opts.links,
        flow_url=flow_url,
        legend=opts.legend,
        collapse=opts.collapse,
    )
    try:
        return svg_from_dot(dot)
    except RenderError as exc:
        raise GraphvizError(f"flow {name!r}: {exc}") from None


def _marked(
    graph: FlowGraph, opts: DiagramOptions
) -> tuple[FlowGraph, Overlay | None, tuple[str, ...], tuple[str, ...]]:
    """What is drawn over the flow: recorded runs (``observed``) or changes (``since``).

    Returns the graph to draw, its overlay, the data files read and warnings for the page.
    """
    if opts.observed:
        from penstock._errors import ObservedError
        from penstock._render.observed import observed_drawing

        if opts.collapse:
            raise OptionError("options 'observed' and 'collapse' cannot be used together")
        try:
            return observed_drawing(graph, opts.observed, opts.observed_base, opts.run)
        except ObservedError as exc:
            raise ObservedDataError(f"observed: {exc}") from None
    if opts.since is not None:
        drawn, overlay, warnings = _since(graph, opts)
        return drawn, overlay, (), warnings
    return graph, None, (), ()


def _since(
    graph: FlowGraph, opts: DiagramOptions
) -> tuple[FlowGraph, Overlay | None, tuple[str, ...]]:
    if opts.since is None:
        return graph, None, ()
    from penstock._versions.since import since_overlay

    try:
        drawn, overlay = since_overlay(
            graph,
            opts.since,
            modules=opts.since_modules,
            paths=opts.since_paths,
            root=opts.since_root,
        )
    except DiffError as exc:
        return graph, None, (f"since {opts.since!r}: drawn without highlights: {exc}",)
    return drawn, overlay, ()


def load_modules(
    modules: Iterable[str],
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    fresh: bool = False,
    failures: list[ModuleImportError] | None = None,
    paths_setting: str = "paths",
) -> list[str]:
    """Import the modules that declare flows; return the source files of every step module.

    A package imports its submodules too (``__main__`` excepted).

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

    Raises:
        ModuleImportError: a module raised (only when ``failures`` is not given); carries its
            name, the traceback from the user's code and the culprit's ``file:line``, or, when
            the module is not on ``sys.path``, the folders searched and the setting to change.
    """
    return import_modules(
        modules, paths, fresh=fresh, failures=failures, paths_setting=paths_setting
    )


def problem_hints(exc: BaseException, sources: ModuleSources | None) -> list[str]:
    """Hints for a `FlowProblemsError` caused by a module left out rather than a mistake.

    An ``unknown-after`` naming a function of a module that was not imported, or a flow whose
    ``@entrypoint`` is in one: each hint names the module and the setting to add it to.
    Empty for other errors, or when ``sources`` is not known.
    """
    if sources is None or not isinstance(exc, FlowProblemsError):
        return []
    return [h for p in exc.problems for h in missing_module_hints(p, sources, None)]


def unavailable_flow(flow: str, failed: Sequence[str], see: str) -> str:
    """The one message for a flow that is missing because module(s) failed to import.

    Args:
        flow: the flow a page asked for.
        failed: the names of the modules that failed at the last load.
        see: where the import failure itself was reported (e.g. ``"the error above"``).
    """
    names = ", ".join(repr(m) for m in failed)
    return f"flow {flow!r} is not available because module(s) {names} failed to import (see {see})"


def is_unavailable(exc: BaseException, failed: Sequence[str]) -> bool:
    """Whether ``exc`` is an unknown flow most likely declared by a module that failed.

    ``failed`` names the modules that failed at the last load.

    True when modules failed and the name has no close match among the known flows: the
    failure was reported once already, and a warning per diagram would only bury it.
    """
    return isinstance(exc, UnknownFlowError) and bool(failed) and not exc.suggestions


def relative_paths(text: str, root: str | os.PathLike[str]) -> str:
    """``text`` with absolute paths under ``root`` made relative to it, for published pages.

    A build machine's folders (home directories, CI workspaces) do not belong on a page.
    """
    folder = os.path.abspath(os.fspath(root)).rstrip(os.sep) + os.sep
    return text.replace(folder, "")


def source_linker(options: DiagramOptions) -> Callable[[StepNode], str | None] | None:
    """The source link of a step under ``options`` (``None`` without a ``source_url``).

    Hosts use it as the fallback of ``link_api`` for steps the API reference does not list.
    """
    return _source_linker(options) if options.source_url else None


def _source_linker(opts: DiagramOptions) -> Any:
    template = opts.source_url or ""
    root = Path(opts.source_root or os.getcwd()).resolve()

    def link(node: StepNode) -> str | None:
        if not node.file:  # a step only recorded runs name: no source to link to
            return None
        try:
            path = Path(node.file).resolve().relative_to(root).as_posix()
        except ValueError:
            path = Path(node.file).name
        try:
            return template.format(
                path=path, line=node.line, module=node.module, qualname=node.qualname
            )
        except (KeyError, IndexError, ValueError) as exc:
            raise OptionError(
                f"source_url {template!r} is not a valid template ({exc}); "
                "use the fields {path}, {line}, {module} and {qualname}"
            ) from None

    return link
