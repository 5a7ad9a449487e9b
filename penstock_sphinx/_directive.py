"""The ``penstock-flow`` directive: one flow, drawn from the code, as a Mermaid diagram.

The directive emits sphinxcontrib-mermaid's own ``mermaid`` node, so every setting of that
extension (themes, zoom, fullscreen, a local Mermaid build) applies to penstock diagrams too.
A page author's mistake never stops the build: it becomes a located, typed warning (``-W``
turns it into a failure; ``suppress_warnings`` can silence it) and a visible admonition in
place of the diagram.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinxcontrib.mermaid import figure_wrapper, mermaid  # type: ignore[import-untyped]

from penstock import DocsError, PenstockError
from penstock.docs import (
    Diagram,
    DiagramOption,
    DiagramOptions,
    OptionError,
    drawable_flow,
    failure_report,
    flow_diagram,
    flow_svg,
    with_mermaid_config,
)
from penstock_sphinx._domain import Drawn, domain_of
from penstock_sphinx._offline import keep_offline_forms
from penstock_sphinx._xref import api_placeholder, attach_links, placeholder, target_node

__all__ = ["PenstockFlow", "diagram_box", "outcome"]

logger = logging.getLogger(__name__)

_NOT_CSS_IDENT = re.compile(r"[^A-Za-z0-9_-]")
_TRUE = frozenset({"", "true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def outcome(flow: str, options: DiagramOptions) -> str:
    """Mermaid text of ``flow`` or a marked error text: equal outcomes mean an unchanged page."""
    try:
        return flow_diagram(flow, options, flow_url=placeholder, api_url=api_placeholder).mermaid
    except PenstockError as exc:
        return _error_text(exc)


def _error_text(exc: PenstockError) -> str:
    return f"!{type(exc).__name__}: {exc}"


class _Unknown(str):
    """The value of an option the directive does not know, kept for a did-you-mean warning."""

    __slots__ = ()


class _OptionSpec(dict[str, Any]):
    """An option spec that lets unknown option names through, tagged.

    docutils rejects an unknown option with a generic error that has no type and cannot be
    silenced; letting it through to `PenstockFlow.run` makes it a ``penstock.bad-option``
    warning with a "did you mean".
    """

    def __missing__(self, key: str) -> Any:
        return _Unknown


def _text(argument: str | None) -> str:
    # Not directives.choice for the direction: it lowercases, and users write LR and TD as
    # Mermaid does. Values are checked in run(), so a wrong one is a penstock.bad-option warning.
    return (argument or "").strip()


def _required_text(argument: str | None) -> str:
    if not (argument or "").strip():
        raise ValueError("argument required but none supplied")
    return str(argument).strip()


def _flag(argument: str | None) -> bool | str:
    # A bare ``:show-docs:`` means true; an explicit false overrides a site-wide default.
    # Anything else is returned as is and rejected in run() with the option's name.
    value = (argument or "").strip()
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    return value


def _converter(option: DiagramOption) -> Callable[[str | None], Any]:
    """How the directive reads a per-diagram option (declared in `penstock.docs`)."""
    if option.kind is bool:
        return _flag
    return _required_text if option.required else _text


#: Options only this host has: a figure around the diagram, its name and alignment.
_HOST_OPTIONS: dict[str, Callable[[str], Any]] = {
    "caption": directives.unchanged_required,
    "name": directives.unchanged_required,
    "align": lambda arg: directives.choice(arg, ("left", "center", "right")),
}


class PenstockFlow(SphinxDirective):
    """``.. penstock-flow:: NAME``: draw flow ``NAME`` as a Mermaid diagram."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = True
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = _OptionSpec(
        {
            **{o.rst_name: _converter(o) for o in DiagramOptions.options()},
            **_HOST_OPTIONS,
        }
    )

    def run(self) -> list[nodes.Node]:
        """Draw the flow, or warn and show an admonition saying why it cannot be drawn."""
        flow = self.arguments[0].strip()
        # Unknown names were let through (see _OptionSpec): merged() rejects them with a
        # did-you-mean among every option of this directive.
        per_diagram = {k: v for k, v in self.options.items() if k not in _HOST_OPTIONS}
        defaults = domain_of(self.env).build.defaults
        try:
            options = defaults.merged(per_diagram, host_options=[*_HOST_OPTIONS], rst=True)
        except OptionError as exc:
            return self._failed(flow, exc, options=None)
        try:
            # The one look-up of the flow's name: both drawings get the graph.
            graph = drawable_flow(flow, options)
            diagram = flow_diagram(graph, options, flow_url=placeholder, api_url=api_placeholder)
            # :svg: draws it now with Graphviz (HTML without JavaScript); see _offline.
            svg = (
                flow_svg(graph, options, flow_url=placeholder, api_url=api_placeholder)
                if options.svg
                else None
            )
        except DocsError as exc:
            return self._failed(flow, exc, options=options)

        self._remember(Drawn(flow, options, diagram.mermaid))
        self._note(flow, diagram, options)
        node = self._node(flow, diagram, options, svg)
        result: nodes.Element = node
        self.set_source_info(node)
        caption = self.options.get("caption")
        if diagram.caption:
            # The coverage option's percentages, after the author's own caption if any.
            caption = f"{caption} ({diagram.caption})" if caption else diagram.caption
        if caption:
            result = figure_wrapper(self, node, caption)
        self.add_name(result)
        if svg is None:
            box = diagram_box(diagram.box_classes, result, diagram.top_down_html(), diagram.legend)
        else:
            # Graphviz's SVG brings its own legend; it is never flipped top-down.
            box = diagram_box(diagram.box_classes, result)
        target = target_node(self.env, flow, result)
        return [box] if target is None else [target, box]

    def _note(self, flow: str, diagram: Diagram, options: DiagramOptions) -> None:
        """Record the files the page depends on, and warn what the drawing found."""
        for path in (*diagram.source_files, *diagram.data_files):
            # An edit to any file the flow's steps live in (or its recorded runs) re-reads
            # this page.
            self.env.note_dependency(path)
        for warning in diagram.warnings:
            logger.warning(
                "penstock-flow %s: %s",
                flow,
                warning,
                location=self.get_location(),
                type="penstock",
                # Undeclared transitions in recorded runs, a `since` that could not be read, or
                # a coverage report naming what the flow no longer has.
                subtype="since"
                if options.since is not None
                else ("coverage" if options.coverage else "drift"),
            )

    def _node(
        self, flow: str, diagram: Diagram, options: DiagramOptions, svg: str | None
    ) -> mermaid:
        """The sphinxcontrib-mermaid node, with what penstock's own transforms need."""
        node = mermaid()
        node["code"] = self._with_mermaid_config(diagram.mermaid)
        node["options"] = {}
        if "align" in self.options:
            node["align"] = self.options["align"]
        if options.zoom:
            node["zoom"] = True
            # sphinxcontrib-mermaid binds zoom through an unquoted CSS attribute selector on this
            # id: unique per site and stable between builds, made of identifier characters only.
            serial = self.env.new_serialno("penstock")
            node["zoom_id"] = _NOT_CSS_IDENT.sub("-", f"penstock-{self.env.docname}-{serial}")
        attach_links(node, diagram.mermaid, self.env.docname)
        keep_offline_forms(node, flow, options)
        if svg is not None:
            node["penstock_svg"] = svg
        if options.link_api:
            # Where a step the API reference does not list links instead (see _xref).
            source = options.source_linker()
            node["penstock_api_fallback"] = {
                f"{s.module}.{s.qualname}": (source(s) if source else "") or ""
                for s in diagram.graph.steps
            }
        return node

    def _with_mermaid_config(self, text: str) -> str:
        # sphinxcontrib-mermaid's own directive puts `mermaid_config` into each diagram's front
        # matter; do the same so a site's theme settings reach penstock diagrams too.
        return with_mermaid_config(text, self.config.mermaid_config or {})

    def _failed(
        self, flow: str, exc: DocsError, *, options: DiagramOptions | None
    ) -> list[nodes.Node]:
        build = domain_of(self.env).build
        report = failure_report(
            exc,
            flow,
            failed=build.failed,
            sources=build.sources,
            # The message on the page: no folder of the build machine.
            root=build.page_root or Path(self.env.srcdir).parent,
            see="the penstock.import-error warning",
        )
        if report.reported:
            # Reported once (penstock.import-error): a warning per diagram would bury it.
            logger.info("penstock-flow %s: %s", flow, report.message, location=self.get_location())
        else:
            logger.warning(
                "penstock-flow %s: %s",
                flow,
                report.message,
                # The directive's own file and line, right inside included files too.
                location=self.get_location(),
                type="penstock",
                subtype=report.kind,
            )
        if options is not None:
            # Remembered so that a later build re-reads this page once the flow can be drawn.
            self._remember(Drawn(flow, options, _error_text(exc)))
        # The message goes in verbatim (no smart quotes), so names can be copied from the page.
        message = report.page_message
        box = nodes.warning()
        box += nodes.paragraph(
            "",
            "",
            nodes.Text("penstock could not draw flow "),
            nodes.literal(flow, flow),
            nodes.Text(":"),
        )
        box += nodes.literal_block(message, message, language="text")
        self.set_source_info(box)
        return [box]

    def _remember(self, drawn: Drawn) -> None:
        domain_of(self.env).note_drawn(self.env.docname, drawn)


def diagram_box(
    classes: tuple[str, ...], drawing: nodes.Element, top_down: str = "", legend: str = ""
) -> nodes.container:
    """The box a diagram is drawn in: penstock-diagrams.js fits it to the column.

    ``top_down`` (an inert ``<template>`` with the top-down drawing of a left-right flow) and
    the ``legend`` are HTML, so other builders leave them out.
    """
    box = nodes.container(classes=list(classes))
    if top_down:
        box += nodes.raw("", top_down, format="html")
    box += drawing
    if legend:
        box += nodes.raw("", legend, format="html")
    return box
