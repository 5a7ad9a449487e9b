"""Cross-references to flow diagrams: the ``penstock`` domain, and links inside Mermaid text.

Each drawn flow registers a target (``penstock:flow``) in the ``penstock`` domain, so pages can
write ``:penstock:flow:`bom_sync``` and the stubs of linked flows (and the boxes of the map)
link to that flow's diagram. Mermaid text cannot hold docutils nodes, so a link is written
with a placeholder URL and a hidden ``pending_xref`` beside it; Sphinx resolves the reference
when the page is written (so it works with ``-j`` and incremental builds), and
`resolve_diagram_links` puts the resolved URL in place of the placeholder (or drops the link
when no page draws that flow).
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from penstock import StepNode
from penstock.docs import flow_anchor, mermaid_url
from penstock_sphinx._domain import domain_of

logger = logging.getLogger(__name__)

__all__ = [
    "api_placeholder",
    "attach_links",
    "linked_flows",
    "moved_flows",
    "placeholder",
    "resolve_diagram_links",
    "target_node",
]

_PREFIX = "penstock-xref-"
#: Placeholder URLs: ``penstock-xref-flow-HEX`` (a flow's diagram) and ``penstock-xref-api-HEX``
#: (a step's API entry), HEX being the UTF-8 of the flow name or ``module.qualname``.
_CLICK = re.compile(
    r'^    click (\S+) href "' + _PREFIX + r'(flow|api)-([0-9a-f]*)" "([^"]*)"\n', re.MULTILINE
)


def placeholder(flow: str) -> str:
    """The URL written into Mermaid for a link to ``flow``'s diagram, until it is resolved."""
    return f"{_PREFIX}flow-{flow.encode('utf-8').hex()}"


def api_placeholder(node: StepNode) -> str:
    """The URL written into Mermaid for a link to a step's API entry, until it is resolved."""
    return f"{_PREFIX}api-{f'{node.module}.{node.qualname}'.encode().hex()}"


def _targets(code: str) -> list[tuple[str, str]]:
    """``(kind, target)`` of each placeholder link in ``code``, once each."""
    return list(
        dict.fromkeys((m[2], bytes.fromhex(m[3]).decode("utf-8")) for m in _CLICK.finditer(code))
    )


def linked_flows(code: str) -> set[str]:
    """The flows whose diagrams ``code`` (Mermaid text with placeholders) links to."""
    return {target for kind, target in _targets(code) if kind == "flow"}


def moved_flows(env: BuildEnvironment, docnames: set[str]) -> set[str]:
    """The flows drawn on ``docnames``: their link target may change when those are re-read."""
    return {flow for flow, (doc, _) in domain_of(env).flows.items() if doc in docnames}


def target_node(env: BuildEnvironment, flow: str, drawn: nodes.Element) -> nodes.raw | None:
    """Register where ``flow``'s diagram is; an anchor to put before it, if one is needed.

    A diagram with an id of its own (a figure with ``:name:``) is the target itself; otherwise
    an HTML anchor with the flow's id goes before it (raw HTML rather than a docutils target,
    which docutils would move onto the diagram's own element). Only the first diagram of a
    flow on a page is registered.
    """
    seen: set[str] = env.temp_data.setdefault("penstock_flows", set())  # type: ignore[assignment]
    if flow in seen:
        return None
    seen.add(flow)
    domain = domain_of(env)
    if drawn["ids"]:
        domain.note_flow(flow, env.docname, drawn["ids"][0])
        return None
    anchor = flow_anchor(flow)
    domain.note_flow(flow, env.docname, anchor)
    return nodes.raw("", f'<span id="{anchor}"></span>', format="html")


def attach_links(node: nodes.Element, code: str, docname: str) -> None:
    """Put a hidden ``pending_xref`` under ``node`` for each placeholder link in ``code``.

    Flows go to the ``penstock`` domain, steps' API entries to the Python domain.
    """
    for kind, target in _targets(code):
        domain, reftype = ("penstock", "flow") if kind == "flow" else ("py", "obj")
        ref = addnodes.pending_xref(
            "",
            nodes.inline(target, target),
            refdomain=domain,
            reftype=reftype,
            reftarget=target,
            refdoc=docname,
            refexplicit=False,
            refwarn=False,
        )
        node += nodes.inline("", "", ref, classes=[f"penstock-{kind}"])


def resolve_diagram_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Swap placeholder URLs for the resolved ones (``doctree-resolved``).

    A step not in the API reference falls back to its source link (when ``source_url`` is
    set) and is reported as a ``penstock.api-undocumented`` warning at the directive.
    """
    for node in list(doctree.findall(nodes.Element)):
        code = node.get("code")
        if isinstance(code, str) and _PREFIX in code:
            urls = _urls(node)
            node["code"] = _resolved(node, code, urls)
            svg = node.get("penstock_svg")
            if isinstance(svg, str):
                node["penstock_svg"] = _resolved_svg(svg, urls)
            node.children = []


_SVG_LINK = re.compile(r'xlink:href="' + _PREFIX + r'(flow|api)-([0-9a-f]*)"')


def _resolved_svg(svg: str, urls: dict[tuple[str, str], str]) -> str:
    """``svg`` with resolved links (an unresolved one points nowhere: ``#``)."""

    def swap(match: re.Match[str]) -> str:
        url = urls.get((match[1], bytes.fromhex(match[2]).decode("utf-8")), "#")
        return 'xlink:href="' + html.escape(url) + '"'

    return _SVG_LINK.sub(swap, svg)


def _urls(node: nodes.Element) -> dict[tuple[str, str], str]:
    urls: dict[tuple[str, str], str] = {}
    for box in node.findall(nodes.inline):
        kinds = [c[len("penstock-") :] for c in box["classes"] if c.startswith("penstock-")]
        if not kinds:
            continue
        for ref in box.findall(nodes.reference):
            url = ref.get("refuri") or ("#" + ref["refid"] if ref.get("refid") else "")
            if url:
                urls[(kinds[0], ref.astext())] = url
    return urls


def _resolved(node: nodes.Element, code: str, urls: dict[tuple[str, str], str]) -> str:
    fallbacks: dict[str, str] = node.get("penstock_api_fallback", {})

    def swap(match: re.Match[str]) -> str:
        kind, target = match[2], bytes.fromhex(match[3]).decode("utf-8")
        url = urls.get((kind, target))
        if url is None and kind == "api":
            url = fallbacks.get(target)
            if url:
                urls[(kind, target)] = url  # the SVG form takes the same fallback
            logger.warning(
                "penstock-flow: step %s is not in the API reference; %s",
                target,
                "linked to its source instead" if url else "no link",
                location=node,
                type="penstock",
                subtype="api-undocumented",
            )
        if not url:
            return ""  # no page draws that flow: the stub stays, without a link
        return f'    click {match[1]} href "{mermaid_url(url)}" "{match[4]}"\n'

    return _CLICK.sub(swap, code)
