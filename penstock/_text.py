"""Text from outside (files, the wire, user code) made safe to print on a terminal."""

from __future__ import annotations

__all__ = ["shown"]


def shown(text: str) -> str:
    r"""``text`` for a terminal: characters that are not printable become ``\uXXXX`` escapes.

    So a name cannot move the cursor, recolour the terminal or reverse the text around it
    (ESC, C0 and C1 controls, bidi overrides such as U+202E are all escaped).
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
