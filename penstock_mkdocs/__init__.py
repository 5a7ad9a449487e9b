"""penstock diagrams in MkDocs, ProperDocs and Zensical sites.

Write ``::: penstock-flow NAME`` on a line of its own in any page; the build replaces it with a
Mermaid diagram of that flow, drawn from the code. The work is done by a Python-Markdown
extension (`PenstockExtension`, registered as ``penstock_mkdocs``); the MkDocs plugin
``penstock`` (`penstock_mkdocs.plugin`) is a thin layer that configures it from
``mkdocs.yml`` and re-imports the flow modules before every build.
"""

from __future__ import annotations

from penstock_mkdocs._extension import (
    BuildState,
    DiagramFailure,
    PageContext,
    PenstockExtension,
    front_matter_offset,
    makeExtension,
)
from penstock_mkdocs._loader import ModuleLoader

__all__ = [
    "BuildState",
    "DiagramFailure",
    "ModuleLoader",
    "PageContext",
    "PenstockExtension",
    "front_matter_offset",
    "makeExtension",
]
