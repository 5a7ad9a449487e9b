"""What ``enabled: false`` leaves of the directives: a short note where each diagram would be.

Left alone, a ``::: penstock-flow orders`` line would show as text, or be taken by
mkdocstrings for an identifier to document (and fail the build). The note keeps the page's
layout readable in a quick preview, without importing a module or loading Mermaid.
"""

from __future__ import annotations

import html

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from penstock_mkdocs._directive import MARKER, find_directives

__all__ = ["DisabledExtension"]

#: The same place as the drawing extension: after fenced code is stashed, so examples stay.
_PRIORITY = 22


class DisabledExtension(Extension):
    """Replaces each directive (with its option lines) by a one-line note."""

    def extendMarkdown(self, md: Markdown) -> None:
        """Register the preprocessor on ``md``."""
        md.registerExtension(self)
        md.preprocessors.register(_Notes(md), "penstock_disabled", _PRIORITY)


class _Notes(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if not any(MARKER in line for line in lines):
            return lines
        out: list[str] = []
        done = 0
        for directive in find_directives(lines):
            out.extend(lines[done : directive.start])
            what = (
                f"diagram of flow <code>{html.escape(directive.flow)}</code>"
                if directive.kind == "flow"
                else "map of flows"
            )
            note = (
                f'<p class="penstock-disabled"><em>({what}: not drawn, the penstock plugin '
                "is disabled)</em></p>"
            )
            out.extend(["", directive.indent + self.md.htmlStash.store(note), ""])
            done = directive.end
        out.extend(lines[done:])
        return out
