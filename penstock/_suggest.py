"""Did-you-mean suggestions for names a user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates close to ``word``, best first."""
    pool = sorted(set(candidates))
    found = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if not found:
        # A case-only difference is a typo difflib can miss on short names.
        lowered = word.lower()
        found = [c for c in pool if c.lower() == lowered][:n]
    return found


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` or an empty string."""
    found = close_matches(word, candidates)
    if not found:
        return ""
    return f"; did you mean {' or '.join(repr(f) for f in found)}?"
