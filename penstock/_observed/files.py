"""Recorded-run files: globs, ``.gz``, read line by line (memory does not grow with a file)."""

from __future__ import annotations

import glob
import gzip
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from penstock._errors import ObservedError

__all__ = ["expand", "read_lines"]


def expand(
    patterns: Iterable[str | os.PathLike[str]], base: str | Path | None = None
) -> list[Path]:
    """The files ``patterns`` name, in order; a glob is expanded and sorted.

    Args:
        patterns: file paths or glob patterns (``*``, ``?``, ``[...]``, ``**``).
        base: the folder relative paths are resolved against (default: the current one).

    Raises:
        ObservedError: a path that does not exist or a glob that matches no file.
    """
    found: list[Path] = []
    for pattern in patterns:
        text = os.fspath(pattern)
        path = Path(text)
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        if glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                raise ObservedError(f"no file matches {text!r} (looked in {path.parent})")
            found.extend(matches)
        elif path.is_file():
            found.append(path)
        else:
            raise ObservedError(f"recorded-runs file {text!r} not found (looked for {path})")
    return list(dict.fromkeys(found))


def read_lines(path: Path) -> Iterator[str]:
    """The lines of ``path`` (gunzipped when it is gzip data), one at a time.

    Undecodable bytes become U+FFFD, so one bad line is skipped later, not the whole file.
    """
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if gz:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as stream:
            yield from stream
    else:
        with path.open(encoding="utf-8", errors="replace") as stream:
            yield from stream
