"""All the records in a list of files, each file read in its own format (detected)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

from penstock._observed.files import read_lines
from penstock._observed.logs import looks_like_log_line, read_log_lines
from penstock._observed.otlp import read_otlp_lines
from penstock._observed.record import RawRecord, Skipped

__all__ = ["read_records"]


def read_records(files: Sequence[Path], skipped: Skipped) -> Iterator[RawRecord]:
    """The step records of ``files``, in file order; what is not one is counted in ``skipped``.

    A file holds OTLP JSON when its first non-blank line is an OTLP document, else log lines.
    Spans of an older penstock that need the span tree to be placed come last.
    """
    held: set[str] = set()
    otlp_files: list[Path] = []
    for path in files:
        lines = read_lines(path, skipped)
        head: list[str] = []
        for line in lines:
            head.append(line)
            if line.strip():
                break
        if not head:
            continue
        stream = itertools.chain(head, lines)
        name = str(path)
        if looks_like_log_line(head[-1]):
            yield from read_log_lines(name, stream, skipped)
        else:
            otlp_files.append(path)
            yield from read_otlp_lines(name, stream, skipped, held)
    if held:
        from penstock._observed.tree import place_held_spans

        yield from place_held_spans(otlp_files, held)
