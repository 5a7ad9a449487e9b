"""Reading the diagrams back out of built HTML pages."""

from __future__ import annotations

import html
import re
from pathlib import Path

_PRE = re.compile(r'<pre\b[^>]*\bclass="mermaid[^"]*"[^>]*>(.*?)</pre>', re.DOTALL)


def mermaid_blocks(page: Path) -> list[str]:
    """The Mermaid text of every ``<pre class="mermaid">`` on a page, as Mermaid reads it."""
    return [html.unescape(m).strip() for m in _PRE.findall(page.read_text(encoding="utf-8"))]
