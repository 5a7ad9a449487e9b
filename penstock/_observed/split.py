"""Large inputs read on two cores: the second half in a forked process, counts merged exactly.

The files are cut in two at about half their bytes: at a file boundary, or inside an
uncompressed file at the start of a line that opens a JSON object (``{"``). This process
counts the first part while a forked child counts the second; the child sends its counts
back and they are added up. The result is the one reading the files in order gives, or the
files are read in order after all:

- a call read in both parts (the same run and span id) must count once: when the two parts
  share any, the files are read again in order;
- a cut inside a file must not fall inside something the lines around it continue (a
  container line's pieces, a long pretty-printed document): then too;
- line numbers of the second part of a cut file start after the first part's;
- the first place an undeclared edge was seen is the first part's when both saw it.

Only where it pays and is safe: inputs of ``MIN_BYTES`` or more, on a system with ``fork``,
from a process running no other thread (forking one that does can deadlock the child).
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Protocol, TypeVar

from penstock._observed.documents import PartEnd
from penstock._observed.fast import BlockSink
from penstock._observed.files import is_compressed
from penstock._observed.record import RawRecord, Skipped
from penstock._observed.source import part_batches

__all__ = ["MIN_BYTES", "Counts", "tally_in_two"]

#: Below this many bytes of input a second process costs more than it saves.
MIN_BYTES = 8 << 20
#: How far past the middle of a file to look for a line to cut it at.
_SEARCH = 4 << 20

C = TypeVar("C", bound="Counts")

#: One unit of work: a file, and the bytes of it to read (``None``: all of it).
_Unit = tuple[Path, "tuple[int, int] | None"]


class Counts(Protocol):
    """What is asked of the tally of each part (`penstock._observed.tally.Tally`)."""

    skipped: Skipped
    seen: set[int]

    def add_all(self, records: Iterable[RawRecord]) -> None: ...

    def add_batches(self, batches: Iterable[list[RawRecord]]) -> None: ...

    def block_sink(self) -> BlockSink | None: ...

    def fold(self) -> None: ...

    def state(self, held: set[str]) -> dict[str, Any]: ...

    def merge(self, theirs: dict[str, Any], cut_file: str | None, offset: int) -> bool: ...


def tally_in_two(new: Callable[[], C], paths: Sequence[Path], *, force: bool = False) -> C | None:
    """The counts of ``paths`` read on two cores, or ``None`` when it does not pay or apply.

    ``new`` makes an empty tally (one per part); ``force`` reads any input this way
    (tests), as long as it can be cut in two.
    """
    if not hasattr(os, "fork") or not (force or _alone()):
        return None
    cut = _cut(paths, 1 if force else MIN_BYTES)
    if cut is None:
        return None
    first, second, cut_file = cut
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        os.close(read_fd)
        _child(write_fd, new, second)
    os.close(write_fd)
    try:
        tally = new()
        held: set[str] = set()
        ends = PartEnd()
        tally.add_batches(_read(first, tally, held, ends))
        tally.fold()  # while the child may still be counting
        with os.fdopen(read_fd, "rb") as pipe:
            read_fd = -1
            payload = pipe.read()
    finally:
        if read_fd >= 0:
            os.close(read_fd)
        os.waitpid(pid, 0)
    theirs = pickle.loads(payload) if payload else None
    if theirs is None or (cut_file is not None and ends.loose):
        return None
    offset = ends.lines if cut_file is not None else 0
    if not tally.merge(theirs, cut_file, offset):
        return None
    held |= theirs["held"]
    if held:
        tally.seen.update(theirs["seen"])
        from penstock._observed.tree import place_held_spans

        tally.add_all(place_held_spans(paths, held))
    return tally


def _alone() -> bool:
    """Whether this process runs one thread only (C libraries' threads counted too)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _read(
    units: Sequence[_Unit], tally: Counts, held: set[str], ends: PartEnd
) -> Iterator[list[RawRecord]]:
    last = len(units) - 1
    sink = tally.block_sink()
    return chain.from_iterable(
        part_batches(path, tally.skipped, held, window, ends if i == last else None, sink)
        for i, (path, window) in enumerate(units)
    )


def _cut(paths: Sequence[Path], least: int) -> tuple[list[_Unit], list[_Unit], str | None] | None:
    """The two parts (and the file cut inside, if any), or ``None`` when not worth it."""
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            return None  # the plain reading names the file
    total = sum(sizes)
    if total < least or total < 2:
        return None
    half = total // 2
    before = 0
    for i, (path, size) in enumerate(zip(paths, sizes, strict=True)):
        if before + size < half:
            before += size
            continue
        whole: list[_Unit] = [(p, None) for p in paths]
        if not is_compressed(path):
            at = _line_start(path, half - before, size)
            if at is not None:
                return (
                    [*whole[:i], (path, (0, at))],
                    [(path, (at, size)), *whole[i + 1 :]],
                    str(path),
                )
        # At the file boundary nearest the half.
        at_index = i if half - before < before + size - half else i + 1
        if 0 < at_index < len(paths):
            return whole[:at_index], whole[at_index:], None
        return None
    return None  # pragma: no cover - the half falls in some file


def _line_start(path: Path, middle: int, size: int) -> int | None:
    """The offset of a line opening with ``{"`` at or after ``middle``, or ``None``."""
    try:
        with path.open("rb") as stream:
            stream.seek(max(middle - 1, 0))
            chunk = stream.read(_SEARCH)
    except OSError:
        return None
    found = chunk.find(b'\n{"')
    if found < 0:
        return None
    at = max(middle - 1, 0) + found + 1
    return at if 0 < at < size else None


def _child(
    write_fd: int, new: Callable[[], Counts], units: list[_Unit]
) -> None:  # pragma: no cover - runs in the forked child
    """Count ``units`` and send the counts down the pipe; never returns."""
    code = 1
    try:
        try:
            tally = new()
            held: set[str] = set()
            tally.add_batches(_read(units, tally, held, PartEnd()))
            payload = pickle.dumps(tally.state(held), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            payload = b""  # the plain reading in order names the problem
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
        code = 0
    finally:
        os._exit(code)
