"""All the records in a list of files: each JSON object told apart by its shape.

A step record of the logging backend, or an OTLP trace document (`penstock._observed.
documents` has taken container wrappers off and joined pretty-printed documents). Anything
else is counted in ``skipped`` by reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from penstock._observed.documents import documents
from penstock._observed.logs import log_record
from penstock._observed.otlp import is_otlp_document, otlp_records
from penstock._observed.record import RawRecord, Skipped

__all__ = ["read_records"]


def read_records(files: Sequence[Path], skipped: Skipped) -> Iterator[RawRecord]:
    """The step records of ``files``, in file order; what is not one is counted in ``skipped``.

    Spans of an older penstock that need the span tree to be placed come last.
    """
    held: set[str] = set()
    for path in files:
        name = str(path)
        for number, data in documents(path, skipped):
            if "step" in data and "duration_ms" in data and "status" in data:
                record = log_record(data, name, number, skipped)
                if record is not None:
                    yield record
            elif is_otlp_document(data):
                yield from otlp_records(data, name, number, skipped, held)
            else:
                skipped["not a step record"] += 1
    if held:
        from penstock._observed.tree import place_held_spans

        yield from place_held_spans(files, held)
