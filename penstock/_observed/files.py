"""Recorded-run files: globs, ``.gz``, read line by line (memory does not grow with a file)."""

from __future__ import annotations

import glob
import gzip
import os
import zlib
from collections import Counter
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


def read_lines(path: Path, skipped: Counter[str] | None = None) -> Iterator[str]:
    """The lines of ``path`` (gunzipped when it is gzip data), one at a time.

    Undecodable bytes become U+FFFD, so one bad line is skipped later, not the whole file. A
    damaged or cut gzip stream ends the file there, counted in ``skipped``.

    Raises:
        ObservedError: the file cannot be opened (permissions, a folder).
    """
    try:
        with path.open("rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
    except OSError as exc:
        raise ObservedError(f"cannot read recorded-runs file {str(path)!r}: {exc}") from None
    if not gz:
        with path.open(encoding="utf-8", errors="replace") as stream:
            yield from stream
        return
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as stream:
            yield from stream
    except (EOFError, OSError, zlib.error):
        # gzip.BadGzipFile is an OSError; a file cut while being written ends in EOFError.
        if skipped is not None:
            skipped["damaged or cut .gz file (read up to the damage)"] += 1
