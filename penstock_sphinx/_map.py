"""The ``penstock-map`` directive: every flow as one box, the links between flows as edges."""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinxcontrib.mermaid import mermaid  # type: ignore[import-untyped]

from penstock import PenstockError, flows
from penstock.docs import SIZE_CONFIG, DiagramOptions, map_diagram, with_mermaid_config
from penstock_sphinx._directive import diagram_box
from penstock_sphinx._domain import Drawn, domain_of
from penstock_sphinx._offline import keep_offline_map
from penstock_sphinx._xref import attach_links, placeholder

__all__ = ["PenstockMap", "map_outcome"]

logger = logging.getLogger(__name__)


def map_outcome(prefix: str, direction: str) -> str:
    """The map's Mermaid text now (equal text: an unchanged page), or a marked error."""
    try:
        return map_diagram(prefix.split() or None, direction, placeholder)
    except PenstockError as exc:
        return f"!{type(exc).__name__}: {exc}"


class PenstockMap(SphinxDirective):
    """``.. penstock-map::``: the map of flows; each box links to that flow's diagram.

    Options: ``:prefix:`` (module names, space-separated: only flows with a step under one of
    them), ``:direction:`` (default ``LR``).
    """

    required_arguments = 0
    optional_arguments = 0
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "prefix": directives.unchanged,
        "direction": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        """Draw the map, or warn (``penstock.bad-option``) and draw nothing."""
        prefixes = (self.options.get("prefix") or "").split() or None
        direction = (self.options.get("direction") or "LR").strip()
        try:
            code = map_diagram(prefixes, direction, placeholder)
        except PenstockError as exc:
            logger.warning(
                "penstock-map: %s",
                exc,
                location=self.get_location(),
                type="penstock",
                subtype="bad-option",
            )
            return []
        # Any edit to the flows' code re-reads this page (new flows, new links).
        for graph in flows().values():
            for step in graph.steps:
                if step.file and not step.file.startswith("<"):
                    self.env.note_dependency(step.file)
        # Remembered so that a build re-reads this page when flows or links change, and
        # writes it again when a flow it links to moves (see stale_pages).
        domain_of(self.env).note_drawn(
            self.env.docname,
            Drawn("", DiagramOptions(direction=direction), code, " ".join(prefixes or [])),
        )
        node = mermaid()
        # Drawn at its natural size and fitted to the column, as flows are (not stretched
        # into sphinxcontrib-mermaid's 500 px box).
        node["code"] = with_mermaid_config(code, SIZE_CONFIG)
        node["options"] = {}
        attach_links(node, code, self.env.docname)
        # Outputs without JavaScript get a Graphviz picture or an outline (see _offline).
        keep_offline_map(node, prefixes, direction)
        self.set_source_info(node)
        return [diagram_box(("penstock-diagram",), node)]
