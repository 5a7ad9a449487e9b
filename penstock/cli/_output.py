"""Where a command's output goes: standard output, or a file named with ``-o``."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["write"]


def write(text: str, output: str | None = None) -> None:
    """Write ``text`` to standard output, or to the file ``output`` (its folders created)."""
    if output is None:
        sys.stdout.write(text)
        return
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
