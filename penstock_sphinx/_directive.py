"""The ``penstock-flow`` directive: one flow, drawn from the code, as a Mermaid diagram.

The directive emits sphinxcontrib-mermaid's own ``mermaid`` node, so every setting of that
extension (themes, zoom, fullscreen, a local Mermaid build) applies to penstock diagrams too.
A page author's mistake never stops the build: it becomes a located, typed warning (``-W``
turns it into a failure; ``suppress_warnings`` can silence it) and a visible admonition in
place of the diagram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinxcontrib.mermaid import figure_wrapper, mermaid  # type: ignore[import-untyped]

from penstock import DocsError, PenstockError
from penstock.docs import (
    Diagram,
    DiagramLimitError,
    DiagramOptions,
    FlowProblemsError,
    ObservedDataError,
    OptionError,
    UnknownFlowError,
    did_you_mean,
    flow_diagram,
    flow_svg,
    is_unavailable,
    problem_hints,
    relative_paths,
    source_linker,
    unavailable_flow,
    with_mermaid_config,
)
from penstock_sphinx._offline import keep_offline_forms
from penstock_sphinx._xref import api_placeholder, attach_links, placeholder, target_node

if TYPE_CHECKING:
    from sphinx.environment import BuildEnvironment

__all__ = ["Drawn", "PenstockFlow", "drawn_on", "outcome"]

logger = logging.getLogger(__name__)

#: Warning subtypes, most specific first: users silence them as ``penstock.<subtype>``.
_SUBTYPES: tuple[tuple[type[DocsError], str], ...] = (
    (UnknownFlowError, "unknown-flow"),
    (FlowProblemsError, "flow-problems"),
    (DiagramLimitError, "diagram-too-large"),
    (OptionError, "bad-option"),
    (ObservedDataError, "observed"),
)

_NOT_CSS_IDENT = re.compile(r"[^A-Za-z0-9_-]")
_TRUE = frozenset({"", "true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


@dataclass(frozen=True)
class Drawn:
    """What one directive drew, kept on the environment to detect stale pages.

    Attributes:
        flow: the flow's name.
        options: the merged options the diagram was drawn with.
        result: the Mermaid text, or the error that stopped it (``"!ErrorClass: message"``).
        map_prefix: for a ``penstock-map``, its module prefixes (space-separated; "" for all),
            else ``None``.
    """

    flow: str
    options: DiagramOptions
    result: str
    map_prefix: str | None = None


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


def _direction(argument: str | None) -> str:
    # Not directives.choice: it lowercases, and users write LR and TD as Mermaid does. Any case
    # is accepted; the value is checked in run(), so a wrong one is a penstock.bad-option warning.
    return (argument or "").strip()


def _flag(argument: str | None) -> bool | str:
    # A bare ``:show-docs:`` means true; an explicit false overrides a site-wide default.
    # Anything else is returned as is and rejected in run() with the option's name.
    value = (argument or "").strip()
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    return value


class PenstockFlow(SphinxDirective):
    """``.. penstock-flow:: NAME``: draw flow ``NAME`` as a Mermaid diagram."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = True
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = _OptionSpec(
        {
            "direction": _direction,
            "title": directives.unchanged,
            "show-docs": _flag,
            "link-source": _flag,
            "links": _flag,
            "legend": _flag,
            "collapse": _flag,
            "link-api": _flag,
            "svg": _flag,
            "since": directives.unchanged_required,
            "caption": directives.unchanged_required,
            "name": directives.unchanged_required,
            "align": lambda arg: directives.choice(arg, ("left", "center", "right")),
            "zoom": directives.flag,
            "observed": directives.unchanged,
            "run": directives.unchanged_required,
            "coverage": directives.unchanged_required,
        }
    )

    def run(self) -> list[nodes.Node]:
        """Draw the flow, or warn and show an admonition saying why it cannot be drawn."""
        flow = self.arguments[0].strip()
        unknown = [k for k, v in self.options.items() if isinstance(v, _Unknown)]
        if unknown:
            known = list(self.option_spec)
            # The one phrasing of did-you-mean, as every other penstock message.
            names = "; ".join(f"{k!r}{did_you_mean(k, known)}" for k in unknown)
            problem = OptionError(
                f"unknown penstock-flow option {names} (options: {', '.join(known)})"
            )
            return self._failed(flow, problem, options=None)
        per_diagram = {
            key.replace("-", "_"): self.options[key]
            for key in (
                "direction",
                "title",
                "show-docs",
                "link-source",
                "observed",
                "run",
                "links",
                "legend",
                "collapse",
                "link-api",
                "since",
                "coverage",
            )
            if key in self.options
        }
        defaults: DiagramOptions = getattr(self.env, "penstock_defaults", DiagramOptions())
        try:
            options = defaults.merged(per_diagram)
        except OptionError as exc:
            return self._failed(flow, exc, options=None)
        try:
            diagram = flow_diagram(flow, options, flow_url=placeholder, api_url=api_placeholder)
            # :svg: draws it now with Graphviz (HTML without JavaScript); see _offline.
            svg = (
                flow_svg(flow, options, flow_url=placeholder, api_url=api_placeholder)
                if self.options.get("svg") is True
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
        target = target_node(self.env, flow, result)
        return [result] if target is None else [target, result]

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
                # Undeclared transitions in recorded runs, or a `since` that could not be read.
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
        if "zoom" in self.options:
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
            source = source_linker(options)
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
        self, flow: str, exc: PenstockError, *, options: DiagramOptions | None
    ) -> list[nodes.Node]:
        subtype = next((sub for cls, sub in _SUBTYPES if isinstance(exc, cls)), "diagram")
        message = str(exc)
        broken = getattr(self.env, "penstock_import_failures", [])
        if is_unavailable(exc, broken):
            # Reported once (penstock.import-error): a warning per diagram would bury it.
            message = unavailable_flow(flow, broken, "the penstock.import-error warning")
            logger.info("penstock-flow %s: %s", flow, message, location=self.get_location())
        else:
            hints = problem_hints(exc, getattr(self.env, "penstock_sources", None))
            message += "".join(f"\n  {h}" for h in hints)
            if isinstance(exc, UnknownFlowError) and not getattr(
                self.env, "penstock_module_names", self.config.penstock_modules
            ):
                message += (
                    " (penstock_modules in conf.py lists no modules, and no pyproject.toml "
                    "above conf.py has modules in [tool.penstock])"
                )
            logger.warning(
                "penstock-flow %s: %s",
                flow,
                message,
                # The directive's own file and line, right inside included files too.
                location=self.get_location(),
                type="penstock",
                subtype=subtype,
            )
        if options is not None:
            # Remembered so that a later build re-reads this page once the flow can be drawn.
            self._remember(Drawn(flow, options, _error_text(exc)))
        # The message goes in verbatim (no smart quotes), so names can be copied from the page;
        # with paths relative to the project: no folder of the build machine on a page.
        root = getattr(self.env, "penstock_page_root", None) or Path(self.env.srcdir).parent
        message = relative_paths(message, root)
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
        drawn_on(self.env).setdefault(self.env.docname, []).append(drawn)


def drawn_on(env: BuildEnvironment) -> dict[str, list[Drawn]]:
    """The diagrams each document drew in the last build that read it, kept on ``env``."""
    store: dict[str, list[Drawn]] | None = getattr(env, "penstock_drawn", None)
    if store is None:
        store = {}
        env.penstock_drawn = store  # type: ignore[attr-defined]
    return store
