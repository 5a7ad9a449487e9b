"""The Python-Markdown extension: ``::: penstock-flow NAME`` becomes a Mermaid diagram."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from penstock import DocsError, FlowGraph
from penstock.docs import (
    Diagram,
    DiagramOptions,
    OptionError,
    drawable_flow,
    failure_report,
    flow_anchor,
    flow_diagram,
    flow_svg,
)
from penstock_mkdocs._apilinks import placeholder as api_placeholder
from penstock_mkdocs._directive import MARKER, Directive, find_directives, parse_options
from penstock_mkdocs._loader import SETTINGS, ModuleLoader, loader_for, sources_for
from penstock_mkdocs._options import SITE_DEFAULTS, extension_config
from penstock_mkdocs._xref import draw_map, linker

__all__ = [
    "PRIORITY",
    "BuildState",
    "DiagramFailure",
    "PageContext",
    "PenstockExtension",
    "front_matter_offset",
]

#: After fenced code is stashed (25), so examples in fences stay literal; before raw HTML
#: blocks (20) and long before mkdocstrings' ``:::`` block processor ever sees the line.
PRIORITY = 22

#: Just after whitespace normalisation (30), before fences are stashed: the lines as the author
#: wrote them, to give directives their true line numbers once fences have collapsed.
RECORD_PRIORITY = 29

#: Options of ``::: penstock-flow`` that only this host has (besides `DiagramOptions`'):
#: ``link: api`` / ``link: source``, a shorter spelling of ``link_api`` / ``link_source``.
_HOST_OPTIONS = ("link",)

#: Where warnings go when no host gives a logger: under ``mkdocs.plugins`` so that MkDocs'
#: ``--strict`` counts them even when the extension is listed in ``markdown_extensions``.
DEFAULT_LOGGER = logging.getLogger("mkdocs.plugins.penstock_mkdocs")


class DiagramFailure(DocsError):
    """A directive could not be drawn; the message names page:line and the flow.

    Attributes:
        page: the page, as the author knows it (e.g. ``guide/flows.md``).
        line: the 1-based line of the directive in the page's source file.
        flow: the flow the directive asks for.
    """

    def __init__(self, message: str, *, page: str, line: int, flow: str) -> None:
        self.page = page
        self.line = line
        self.flow = flow
        super().__init__(message)


@dataclass
class PageContext:
    """The page being converted, as a host tells it.

    Attributes:
        name: the page's path inside the docs folder.
        offset: lines of the source file before the Markdown text (front matter the host
            stripped before Markdown ran).
    """

    name: str
    offset: int = 0
    #: The project folder, when the host knows it better than the current directory.
    root: str = ""
    #: The page's URL in the site (links to other flows' diagrams are made relative to it).
    url: str = ""


@dataclass
class BuildState:
    """What a host and the extension share during a build; the host owns it.

    A host (the MkDocs plugin) makes one, passes it to `PenstockExtension`, and tells the
    extension about the build through it: which page comes next, where each flow is drawn.

    Attributes:
        page: the page being converted (see `PageContext`); ``None`` between pages.
        flow_pages: flow -> URL of the page drawing it (stubs and the map link there).
        failures: every failure since the host last cleared the list (read per page).
        data_files: recorded-run files read by ``observed`` diagrams (a host watches them).
        drawn: diagrams drawn in this build that do not depend on the page (no stubs linking
            to other pages), with the graph of their flow: a flow drawn on many pages is
            looked up and drawn once. Emptied on reload.
        api_fallbacks: ``module.qualname`` -> (source URL, page:line) of steps drawn with
            ``link: api``.
    """

    page: PageContext | None = None
    flow_pages: dict[str, str] = field(default_factory=dict)
    failures: list[DiagramFailure] = field(default_factory=list)
    data_files: set[str] = field(default_factory=set)
    drawn: dict[tuple[str, DiagramOptions], tuple[FlowGraph, Diagram]] = field(default_factory=dict)
    api_fallbacks: dict[str, tuple[str | None, str]] = field(default_factory=dict)


def front_matter_offset(source: str, markdown: str) -> int:
    """How many lines of ``source`` precede ``markdown``, its tail after front matter removal."""
    if markdown and source.endswith(markdown):
        return source[: len(source) - len(markdown)].count("\n")
    return 0


class PenstockExtension(Extension):
    """Python-Markdown extension drawing penstock flows.

    Configure it directly (Zensical, any Python-Markdown user) or through the MkDocs plugin
    ``penstock``, which fills these options from ``mkdocs.yml`` and passes what it shares with
    the extension through the constructor (as mkdocstrings does).

    Args:
        loader: the loader of the flow modules; default: the shared one of the ``modules``
            and ``paths`` options (``[tool.penstock]`` without them), made on first use.
        state: what the host shares with the extension during a build (default: a new one).
        logger: where warnings go (default: under ``mkdocs.plugins``, so ``--strict`` counts
            them).
        settings: how the modules and paths settings are named in messages.
        **config: the options (`penstock_mkdocs._options`).
    """

    def __init__(
        self,
        *,
        loader: ModuleLoader | None = None,
        state: BuildState | None = None,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
        settings: tuple[str, str] = SETTINGS,
        **config: Any,
    ) -> None:
        self.config = extension_config()
        super().__init__(**config)
        self.state = state if state is not None else BuildState()
        self.logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = (
            logger if logger is not None else DEFAULT_LOGGER
        )
        self.settings = settings
        self._given_loader = loader
        cfg = self.getConfigs()
        self.strict = bool(cfg["strict"])
        base_dir = str(cfg["base_dir"] or "")
        #: Folder relative ``paths`` are resolved from; "" until known (see `loader`).
        self.base_dir = base_dir
        self._modules = _strings(cfg["modules"], "modules")
        self._paths = _strings(cfg["paths"], "paths")
        site: dict[str, Any] = {}
        for name in SITE_DEFAULTS:
            value = cfg[name]
            # Python-Markdown keeps unset text options as "": unset.
            site[name] = value if value != "" else None
        self.defaults = DiagramOptions(
            **site,
            source_url=str(cfg["source_url"]) or None,
            source_root=str(cfg["source_root"] or base_dir) or None,
        ).validated("penstock_mkdocs configuration")

    @property
    def page(self) -> PageContext | None:
        """The page being converted, as a host tells it (see `BuildState.page`)."""
        return self.state.page

    @page.setter
    def page(self, page: PageContext | None) -> None:
        self.state.page = page

    @property
    def failures(self) -> list[DiagramFailure]:
        """Every failure since the host last cleared the list."""
        return self.state.failures

    def setConfig(self, key: str, value: Any) -> None:
        """Set one option; unknown names and non-boolean flags are `OptionError`."""
        if key not in self.config:
            raise OptionError.unknown(key, self.config, what="penstock_mkdocs")
        try:
            super().setConfig(key, value)
        except ValueError:
            raise OptionError(
                f"penstock_mkdocs option {key!r} must be true or false, got {value!r}"
            ) from None

    @property
    def loader(self) -> ModuleLoader:
        """The loader of this configuration's modules (paths resolved on first use).

        Without ``modules`` (or ``paths``), those of ``[tool.penstock]`` in the nearest
        ``pyproject.toml`` at or above ``base_dir`` are used.

        Raises:
            penstock.ProjectConfigError: that ``pyproject.toml`` is invalid.
        """
        if self._given_loader is None:
            sources = sources_for(self._modules, self._paths, self.base_dir, self.settings)
            self._given_loader = loader_for(sources)
        return self._given_loader

    def extendMarkdown(self, md: Markdown) -> None:
        """Register the preprocessor on ``md``."""
        md.registerExtension(self)
        recorder = LineRecorder(md)
        md.preprocessors.register(recorder, "penstock_lines", RECORD_PRIORITY)
        md.preprocessors.register(FlowPreprocessor(md, self, recorder), "penstock_flow", PRIORITY)

    def _draw(self, directive: Directive, where: str) -> str:
        """The HTML for one directive.

        Raises:
            DocsError: the flow cannot be drawn (unknown, problems, import failure, options).
        """
        self.loader.ensure()
        self.report_import_failures()
        page_url = self.page.url if self.page is not None else ""
        flow_url = linker(self.state.flow_pages, page_url)
        if directive.kind == "map":
            text = draw_map(directive, parse_options(directive.options, where), flow_url)
            pre = f'<pre class="mermaid"><code>{html.escape(text, quote=False)}</code></pre>'
            return f'<div class="penstock-diagram">{pre}</div>'
        values = parse_options(directive.options, where)
        kind = values.pop("link", None)
        if kind is not None:
            if kind not in ("api", "source"):
                raise OptionError(f"{where}: option 'link' is 'api' or 'source', got {kind!r}")
            values["link_api" if kind == "api" else "link_source"] = True
        options = self.defaults.merged(values, where=where, host_options=_HOST_OPTIONS)
        if self.loader.errors:
            # A flow whose module failed part-way is shown as an error, never half-drawn.
            failed = tuple((e.module, e.summary) for e in self.loader.errors)
            options = replace(options, failed_imports=failed)
        if not directive.flow:
            raise OptionError(
                f"{where}: '::: penstock-flow' needs a flow name, e.g. '::: penstock-flow orders'"
            )
        if options.since is not None:
            # The revision is loaded with this site's own modules and paths.
            options = replace(
                options,
                since_modules=tuple(self._modules),
                since_paths=tuple(self._paths),
                since_root=self.base_dir or None,
            )
        if (
            (options.observed or options.coverage)
            and options.observed_base is None
            and self.base_dir
        ):
            options = replace(options, observed_base=self.base_dir)
        if options.svg:
            if options.observed or options.since is not None or options.coverage:
                # What the overlay found (drift, an unreadable revision) is warned as for a
                # Mermaid drawing, and its files are watched; the graph is looked up once.
                graph, diagram = self._diagram(directive.flow, options, flow_url)
                self.state.data_files.update(diagram.data_files)
                for warning in diagram.warnings:
                    self.logger.warning(f"{where}: penstock-flow {directive.flow!r}: {warning}")
            else:
                # The one look-up of the flow's name: what draws it gets the graph.
                graph = drawable_flow(directive.flow, options)
            # Drawn now by Graphviz: no JavaScript needed to show it.
            drawn = flow_svg(graph, options, flow_url=flow_url, api_url=api_placeholder)
            self._note_api_links(options, graph, where)
            return self._anchor(directive.flow, page_url) + (
                f'<div class="penstock-diagram">{drawn}</div>'
            )
        graph, diagram = self._diagram(directive.flow, options, flow_url)
        self.state.data_files.update(diagram.data_files)
        for warning in diagram.warnings:
            self.logger.warning(f"{where}: penstock-flow {directive.flow!r}: {warning}")
        self._note_api_links(options, graph, where)
        anchor = self._anchor(directive.flow, page_url)
        # What pymdownx.superfences' mermaid fence emits; Material reads it with textContent.
        pre = f'<pre class="mermaid"><code>{html.escape(diagram.mermaid, quote=False)}</code></pre>'
        if options.zoom:
            # penstock-zoom.js (added by the plugin) gives this box zoom, pan and full screen.
            pre = f'<div class="penstock-zoom">{pre}</div>'
        if diagram.caption:
            # The coverage option's percentages, under the diagram as a caption.
            caption = html.escape(diagram.caption, quote=False)
            pre = (
                f'<figure class="penstock-coverage">{pre}'
                f"<figcaption>{caption}</figcaption></figure>"
            )
        # penstock-diagrams.js fits the box to the column; the legend goes below the drawing.
        classes = " ".join(diagram.box_classes)
        return (
            f'{anchor}<div class="{classes}">{diagram.top_down_html()}{pre}{diagram.legend}</div>'
        )

    def _diagram(
        self, flow: str, options: DiagramOptions, flow_url: Callable[[str], str | None]
    ) -> tuple[FlowGraph, Diagram]:
        """The flow's graph and its `flow_diagram`, reused while no page URL is drawn in."""
        key = (flow, options)
        found = self.state.drawn.get(key)
        if found is not None:
            return found
        # The one look-up of the flow's name: what draws it gets the graph.
        graph = drawable_flow(flow, options)
        asked: list[str] = []

        def page_url_of(name: str) -> str | None:
            asked.append(name)
            return flow_url(name)

        diagram = flow_diagram(graph, options, flow_url=page_url_of, api_url=api_placeholder)
        if not asked:
            self.state.drawn[key] = (graph, diagram)
        return graph, diagram

    def _anchor(self, flow: str, page_url: str) -> str:
        # The target of links from other flows' stubs and from the map.
        if self.state.flow_pages.get(flow) == page_url:
            return f'<a id="{flow_anchor(flow)}"></a>'
        return ""

    def _note_api_links(self, options: DiagramOptions, graph: FlowGraph, where: str) -> None:
        # link: api URLs are resolved once every page is rendered (the plugin's on_env);
        # a step without an API entry gets its source link.
        if not options.link_api:
            return
        source = options.source_linker()
        for step in graph:
            key = f"{step.module}.{step.qualname}"
            self.state.api_fallbacks[key] = (source(step) if source else None, where)

    def report_import_failures(self) -> None:
        """Warn once per load about each module that failed to import, at the culprit's line.

        The other modules' flows are still drawn; a diagram of a flow that is missing because
        of the failure shows an admonition without a second warning.

        Raises:
            ModuleImportError: in strict mode, the first failure (after logging them all).
        """
        loader = self.loader
        if loader.reported or not loader.errors:
            return
        loader.reported = True
        for error in loader.errors:
            self.logger.warning(f"penstock: {error}")
        if self.strict:
            raise loader.errors[0]

    def _fail(self, exc: DocsError, directive: Directive, page: str, line: int) -> str:
        """Report ``exc`` (a located warning) and return the admonition shown instead.

        Raises:
            DiagramFailure: in strict mode, after logging.
        """
        where = f"{page}:{line}"
        loader = self.loader
        report = failure_report(
            exc,
            directive.flow,
            failed=[e.module for e in loader.errors],
            sources=loader.sources,
            # A published page shows no folder of the build machine: relative to the project.
            root=self.defaults.source_root or self.base_dir or None,
        )
        prefix = f"{where}: penstock-flow {directive.flow!r}: "
        if report.message.startswith(where):
            prefix = ""
        text = prefix + report.message
        if report.reported:
            self.logger.info(text)
            return self._admonition(directive, prefix + report.page_message, "")
        failure = DiagramFailure(text, page=page, line=line, flow=directive.flow)
        failure.__cause__ = exc
        self.failures.append(failure)
        self.logger.warning(text)
        if self.strict:
            raise failure
        return self._admonition(directive, prefix + report.page_message, report.details)

    def _admonition(self, directive: Directive, text: str, details: str) -> str:
        summary = text.partition("\n")[0]
        body = f"<p>{html.escape(summary)}</p>"
        if details.strip():
            body += f"\n<pre><code>{html.escape(details, quote=False)}</code></pre>"
        title = html.escape(f"penstock: cannot draw flow {directive.flow!r}")
        return (
            f'<div class="admonition failure penstock-error">\n'
            f'<p class="admonition-title">{title}</p>\n{body}\n</div>'
        )

    def locate(self, md: Markdown) -> PageContext:
        """The current page: set by a host plugin, found in Zensical's context, or unknown."""
        if self.page is not None:
            return self.page
        return _zensical_page(md) or PageContext("<markdown>")


class LineRecorder(Preprocessor):
    """Keeps a copy of the page's lines before fenced code blocks collapse into placeholders."""

    def __init__(self, md: Markdown) -> None:
        super().__init__(md)
        self.lines: list[str] = []

    def run(self, lines: list[str]) -> list[str]:
        """Record ``lines`` and return them unchanged."""
        self.lines = list(lines) if any(MARKER in line for line in lines) else []
        return lines


class FlowPreprocessor(Preprocessor):
    """Replaces each directive (and its option lines) with stashed HTML."""

    def __init__(self, md: Markdown, extension: PenstockExtension, recorder: LineRecorder) -> None:
        super().__init__(md)
        self.extension = extension
        self.recorder = recorder

    def run(self, lines: list[str]) -> list[str]:
        """Return ``lines`` with every directive block replaced by a placeholder paragraph."""
        if not any(MARKER in line for line in lines):
            return lines
        ext = self.extension
        page = ext.locate(self.md)
        if not ext.base_dir and page.root:
            ext.base_dir = page.root
            if not ext.defaults.source_root:
                ext.defaults = replace(ext.defaults, source_root=page.root)
        out: list[str] = []
        done = 0
        original = _line_map(self.recorder.lines, lines)
        for directive in find_directives(lines):
            out.extend(lines[done : directive.start])
            line = original.get(directive.start, directive.start) + 1 + page.offset
            try:
                html_text = ext._draw(directive, f"{page.name}:{line}")
            except DocsError as exc:
                html_text = ext._fail(exc, directive, page.name, line)
            placeholder = self.md.htmlStash.store(html_text)
            # Blank lines around it: the placeholder must be a paragraph of its own to be
            # swapped back as a block.
            out.extend(["", directive.indent + placeholder, ""])
            done = directive.end
        out.extend(lines[done:])
        return out


def _line_map(before: list[str], after: list[str]) -> dict[int, int]:
    """Index in ``after`` -> index in ``before``, for the lines both share.

    Each fenced block became one placeholder line between the two; aligning the unchanged
    lines recovers where each directive really is in the page.
    """
    if not before or before == after:
        return {}  # nothing to align: callers read a missing index as itself
    import difflib  # only for pages whose fenced blocks other extensions replaced

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    mapping: dict[int, int] = {}
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            mapping[b + k] = a + k
    return mapping


def _zensical_page(md: Markdown) -> PageContext | None:
    # Zensical registers a "rendering_context" preprocessor holding the page; reading it by
    # name keeps Zensical an optional host rather than an import.
    if "rendering_context" not in md.preprocessors:
        return None
    page = getattr(md.preprocessors["rendering_context"], "page", None)
    path = getattr(page, "path", None)
    if not isinstance(path, str):
        return None
    config = getattr(md.preprocessors["rendering_context"], "config", None)
    config = config if isinstance(config, dict) else {}
    root = str(config.get("root_dir") or "")
    try:
        raw = Path(root, str(config.get("docs_dir") or "docs"), path).read_text("utf-8-sig")
    except OSError:
        raw = ""
    return PageContext(path, _zensical_offset(raw), root)


def _zensical_offset(raw: str) -> int:
    # Zensical strips a YAML front matter block before Markdown runs.
    lines = raw.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0


def _strings(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise OptionError(
            f"penstock_mkdocs option {name!r} must be a list of strings, got {value!r}"
        )
    return list(value)


def makeExtension(**kwargs: Any) -> PenstockExtension:
    """Entry point for ``markdown.Markdown(extensions=["penstock_mkdocs"])``."""
    return PenstockExtension(**kwargs)
