"""Did-you-mean suggestions for names a user mistyped: the one place penstock phrases them."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["close_matches", "did_you_mean", "suggestion"]


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates close to ``word``, best first."""
    import difflib  # only on the error path: not at import time

    pool = sorted(set(candidates))
    found = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if not found:
        # A case-only difference is a typo difflib can miss on short names.
        lowered = word.lower()
        found = [c for c in pool if c.lower() == lowered][:n]
    return found


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` or an empty string."""
    return suggestion(close_matches(word, candidates))


def suggestion(found: Iterable[str]) -> str:
    """Phrase close matches found already: ``"; did you mean 'x' or 'y'?"``, or ``""``."""
    names = [repr(f) for f in found]
    return f"; did you mean {' or '.join(names)}?" if names else ""
