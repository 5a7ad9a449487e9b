"""The ``penstock`` domain: where each flow is drawn, and the extension's state.

Every piece of state the extension keeps between builds is in the domain's ``data`` (as
``sphinx.ext.todo`` keeps its todos).

Per document: the flows each page draws (targets of ``:penstock:flow:``) and what each
directive drew (to find pages whose diagrams would come out different). Sphinx pickles the
data with the environment, hands each parallel reader a copy, and calls `clear_doc` and
`merge_domaindata` to forget a re-read page and to take over what parallel readers found.
Per build: what `load_flows` found at ``builder-inited`` (`BuildInfo`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.builders import Builder
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util.nodes import make_refnode

from penstock.docs import DiagramOptions, ModuleSources

__all__ = ["BuildInfo", "Drawn", "PenstockDomain", "domain_of"]


@dataclass(frozen=True)
class Drawn:
    """What one directive drew, kept to detect stale pages.

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


@dataclass
class BuildInfo:
    """What the build's ``builder-inited`` found, for every directive of the build.

    Attributes:
        defaults: the site-wide diagram options (``penstock_*`` in conf.py).
        sources: which modules were imported and why (for hints about a module left out).
        failed: the modules that failed to import.
        page_root: the folder paths on pages are relative to.
    """

    defaults: DiagramOptions = field(default_factory=DiagramOptions)
    sources: ModuleSources | None = None
    failed: list[str] = field(default_factory=list)
    page_root: str = ""


class PenstockDomain(Domain):
    """Where each flow's diagram is: ``:penstock:flow:`NAME``` links to it; and the state."""

    name = "penstock"
    label = "penstock"
    object_types = {"flow": ObjType("flow diagram", "flow")}  # noqa: RUF012 - Sphinx's API
    roles = {"flow": XRefRole()}  # noqa: RUF012 - Sphinx's API
    # Copied (deeply) into each new environment by Sphinx.
    initial_data = {"flows": {}, "drawn": {}, "build": None}  # noqa: RUF012 - Sphinx's API

    @property
    def flows(self) -> dict[str, tuple[str, str]]:
        """Flow -> (docname, anchor) of the page that draws it."""
        found: dict[str, tuple[str, str]] = self.data.setdefault("flows", {})
        return found

    @property
    def drawn(self) -> dict[str, list[Drawn]]:
        """Document -> what its directives drew in the last build that read it."""
        found: dict[str, list[Drawn]] = self.data.setdefault("drawn", {})
        return found

    @property
    def build(self) -> BuildInfo:
        """What this build's ``builder-inited`` found (defaults before it ran)."""
        info = self.data.get("build")
        if not isinstance(info, BuildInfo):
            info = self.data["build"] = BuildInfo()
        return info

    @build.setter
    def build(self, info: BuildInfo) -> None:
        self.data["build"] = info

    def note_flow(self, flow: str, docname: str, anchor: str) -> None:
        """Record that ``docname`` draws ``flow``.

        The first document by name wins, so the choice does not depend on the order parallel
        readers finish in.
        """
        current = self.flows.get(flow)
        if current is None or docname < current[0]:
            self.flows[flow] = (docname, anchor)

    def note_drawn(self, docname: str, drawn: Drawn) -> None:
        """Record what a directive of ``docname`` drew."""
        self.drawn.setdefault(docname, []).append(drawn)

    def clear_doc(self, docname: str) -> None:
        """Forget what ``docname`` drew, before it is re-read or after it is removed."""
        for flow, (doc, _) in list(self.flows.items()):
            if doc == docname:
                del self.flows[flow]
        self.drawn.pop(docname, None)

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        """Take over what a parallel reader found on ``docnames``."""
        wanted = set(docnames)
        for flow, (doc, anchor) in otherdata.get("flows", {}).items():
            if doc in wanted:
                self.note_flow(flow, doc, anchor)
        for doc, drawn in otherdata.get("drawn", {}).items():
            if doc in wanted:
                self.drawn[doc] = drawn

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        typ: str,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> nodes.reference | None:
        """The link to the page drawing flow ``target``, if one does."""
        found = self.flows.get(target)
        if found is None:
            return None
        docname, anchor = found
        return make_refnode(builder, fromdocname, docname, anchor, contnode, f"flow {target}")

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> list[tuple[str, nodes.reference]]:
        """``:any:`` references: a flow's diagram."""
        ref = self.resolve_xref(env, fromdocname, builder, "flow", target, node, contnode)
        return [] if ref is None else [("penstock:flow", ref)]

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        """Every flow drawn, for the search index and inventories."""
        for flow, (docname, anchor) in self.flows.items():
            yield flow, flow, "flow", docname, anchor, 1


def domain_of(env: BuildEnvironment) -> PenstockDomain:
    """The ``penstock`` domain of ``env``."""
    domain = env.get_domain("penstock")
    assert isinstance(domain, PenstockDomain)
    return domain
