"""MkDocs hook of this site: the penstock version it documents, shown in the footer."""

from __future__ import annotations

from typing import Any

from penstock import __version__


def on_config(config: Any, **kwargs: Any) -> Any:
    """Put ``penstock VERSION`` in the footer (Material shows ``copyright`` there)."""
    config.copyright = f"penstock {__version__}"
    return config
