"""All the records in a list of files: each JSON object told apart by its shape.

A step record of the logging backend, or an OTLP trace document (`penstock._observed.
documents` has taken container wrappers off and joined pretty-printed documents). Anything
else is counted in ``skipped`` by reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from penstock._observed.documents import PartEnd, decoder, documents
from penstock._observed.fast import BlockSink, LineReader, block_records, line_reader
from penstock._observed.files import is_compressed
from penstock._observed.logs import log_record
from penstock._observed.otlp import is_otlp_document, otlp_records
from penstock._observed.record import RawRecord, Skipped

__all__ = ["part_batches", "read_batches", "read_records"]


def read_records(files: Sequence[Path], skipped: Skipped) -> Iterator[RawRecord]:
    """The step records of ``files``, in file order; what is not one is counted in ``skipped``.

    Spans of an older penstock that need the span tree to be placed come last.
    """
    for batch in read_batches(files, skipped):
        yield from batch


def read_batches(
    files: Sequence[Path], skipped: Skipped, sink: BlockSink | None = None
) -> Iterator[list[RawRecord]]:
    """`read_records` in lists of records (a block of lines each): one step per list.

    With a ``sink`` (`penstock._observed.tally.Tally.block_sink`), the plain step records
    of log files are counted by it instead, and only the others come out.
    """
    held: set[str] = set()
    for path in files:
        yield from part_batches(path, skipped, held, sink=sink)
    if held:
        from penstock._observed.tree import place_held_spans

        yield from _chunks(place_held_spans(files, held))


def part_batches(
    path: Path,
    skipped: Skipped,
    held: set[str],
    window: tuple[int, int] | None = None,
    ends: PartEnd | None = None,
    sink: BlockSink | None = None,
) -> Iterator[list[RawRecord]]:
    """The step records of one file (or of the ``window`` of it), spans to place in ``held``.

    ``window`` and ``ends`` are those of `documents`; ``sink`` that of `read_batches`.
    """
    name = str(path)
    fast = line_reader(name)
    first = 1
    if fast is not None and not is_compressed(path):
        # Blocks of plain log lines, decoded many at a time, as long as the file has only
        # those; the line-by-line reading below goes on from where they stop.
        done: list[int] = []
        single = _single(name, skipped, held)
        yield from block_records(path, name, window, skipped, single, done, sink)
        if done[0] < 0:
            if ends is not None:
                ends.lines = done[1]
            return
        window = (done[0], window[1] if window is not None else path.stat().st_size)
        first = done[1] + 1
    yield from _chunks(_line_by_line(path, name, skipped, held, fast, window, ends, first))


def _line_by_line(
    path: Path,
    name: str,
    skipped: Skipped,
    held: set[str],
    fast: LineReader | None,
    window: tuple[int, int] | None,
    ends: PartEnd | None,
    first: int,
) -> Iterator[RawRecord]:
    for number, data in documents(path, skipped, fast, window, ends, first):
        if type(data) is tuple:  # a step record the fast path read
            yield data
        else:
            yield from _records_of(data, name, number, skipped, held)  # type: ignore[arg-type]


def _chunks(records: Iterable[RawRecord], size: int = 1024) -> Iterator[list[RawRecord]]:
    """``records`` in lists of up to ``size``."""
    batch: list[RawRecord] = []
    keep = batch.append
    for record in records:
        keep(record)
        if len(batch) >= size:
            yield batch
            batch = []
            keep = batch.append
    if batch:
        yield batch


def _records_of(
    data: dict[str, Any], name: str, number: int, skipped: Skipped, held: set[str]
) -> Iterator[RawRecord]:
    """The records of one decoded object, by its shape."""
    if "step" in data and "duration_ms" in data and "status" in data:
        record = log_record(data, name, number, skipped)
        if record is not None:
            yield record
    elif is_otlp_document(data):
        yield from otlp_records(data, name, number, skipped, held)
    else:
        skipped["not a step record"] += 1


def _single(
    name: str, skipped: Skipped, held: set[str]
) -> Callable[[bytes, int], Iterator[RawRecord] | None]:
    """One line of a block, read as `documents` reads a line opening with ``{``.

    ``None`` for a line that must be read in order with the next ones (a piece of a
    container log line, a pretty-printed document's first line).
    """
    loads = decoder()

    def single(line: bytes, number: int) -> Iterator[RawRecord] | None:
        if len(line) < 4 and line.strip() == b"{":
            return None
        try:
            data = loads(line)
        except (ValueError, RecursionError):
            skipped["truncated or invalid JSON"] += 1
            return iter(())
        if type(data) is not dict:
            skipped["not a JSON object"] += 1
            return iter(())
        if "log" in data and "stream" in data and type(data["log"]) is str:
            return None
        return _records_of(data, name, number, skipped, held)

    return single
