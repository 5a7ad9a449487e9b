"""``link: api``: nodes link to the steps' entries in the API reference (mkdocstrings).

mkdocstrings registers an anchor per documented object with mkdocs-autorefs while pages are
rendered, so the URLs are only known once every page is: the diagrams get placeholder URLs,
and `resolve` swaps them for the real ones at ``on_env``, as autorefs does for its own links.
A step the reference does not document links to its source instead, with a warning.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from penstock import StepNode
from penstock.docs import mermaid_url

__all__ = ["PREFIX", "placeholder", "resolve"]

PREFIX = "penstock-api-"
# `click N href "..."` in Mermaid text, `xlink:href="..."` in an inline SVG.
_LINK = re.compile(r'href( |=)"' + PREFIX + r'([0-9a-f]+)"')


def placeholder(node: StepNode) -> str:
    """The URL written for ``node`` until the API reference's URLs are known."""
    return PREFIX + f"{node.module}.{node.qualname}".encode().hex()


def resolve(
    content: str,
    url_of: Callable[[str], str | None],
    fallback: Callable[[str], str | None],
    warn: Callable[[str, str | None], None],
) -> str:
    """``content`` (a page's HTML) with each placeholder replaced.

    Args:
        content: the page's HTML.
        url_of: identifier -> URL relative to the page, or ``None`` when not documented.
        fallback: identifier -> source URL (or ``None``).
        warn: called with the identifier and the fallback URL used, for undocumented steps.
    """

    def swap(match: re.Match[str]) -> str:
        identifier = bytes.fromhex(match[2]).decode("utf-8")
        url = url_of(identifier)
        if url is None:
            url = fallback(identifier)
            warn(identifier, url)
        # A missing URL leaves an inert relative link to "#" rather than a broken line.
        text = mermaid_url(url or "#")
        return f'href{match[1]}"' + html.escape(text, quote=match[1] == "=") + '"'

    return _LINK.sub(swap, content)
