"""Recorded-run files: globs, compression and wrappers, read line by line with a cap.

A file is read as bytes, one line at a time, and no line is ever held whole past a cap:
``LINE_CAP`` (1 MiB) for a line, ``DOCUMENT_CAP`` (32 MiB) for one that opens as an OTLP
document (a Collector batch holds thousands of spans on one line). Longer lines are skipped
and counted without being kept, so a small compressed file that expands to one huge line
costs no more memory than the cap.

Compression is detected by content, not by name: gzip, and zstd in both framings the
OpenTelemetry Collector's file exporter writes (one zstd stream, or each message as a 4-byte
big-endian length and a zstd frame). zstd needs the ``zstandard`` package (the ``zstd``
extra); without it the file is skipped with a message naming the extra.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from penstock._errors import ObservedError

__all__ = ["DOCUMENT_CAP", "LINE_CAP", "NAME_CAP", "expand", "is_compressed", "read_lines"]

#: The longest line read (bytes); longer ones are skipped ("line over 1 MiB").
LINE_CAP = 1 << 20
#: The longest line read when it opens as an OTLP document (bytes).
DOCUMENT_CAP = 32 << 20
#: The longest step, flow or run name kept (characters), as propagation enforces.
NAME_CAP = 256

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_OTLP_OPENINGS = (b'"resourceSpans"', b'"batches"', b'"trace"')
_OVER_LINE = "line over 1 MiB"
_OVER_DOCUMENT = "OTLP document over 32 MiB"
_NO_ZSTD = "zstd-compressed file: install penstock[zstd] (the zstandard package) to read it"


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


def is_compressed(path: Path) -> bool:
    """Whether ``path`` opens as gzip or zstd (read by content, as `read_lines` does)."""
    try:
        with path.open("rb") as probe:
            head = probe.read(8)
    except OSError:
        return False
    return head[:2] == _GZIP or head[:4] == _ZSTD or head[4:8] == _ZSTD


def read_lines(
    path: Path,
    skipped: Counter[str] | None = None,
    window: tuple[int, int] | None = None,
) -> Iterator[bytes]:
    """The lines of ``path`` as bytes (decompressed), one at a time, each within the cap.

    A damaged or cut compressed stream ends the file there, counted in ``skipped``; so are
    lines over the cap. ``window`` reads only the bytes from ``start`` to ``end`` of an
    uncompressed file (both at the start of a line), for a part read by another process.

    Raises:
        ObservedError: the file cannot be opened (permissions, a folder).
    """
    if skipped is None:
        skipped = Counter()
    if window is not None:
        try:
            file = path.open("rb", buffering=0)
        except OSError as exc:
            raise ObservedError(f"cannot read recorded-runs file {str(path)!r}: {exc}") from None
        with io.BufferedReader(_Window(file, *window), 1 << 16) as part:
            yield from _capped(part, skipped)
        return
    try:
        with path.open("rb") as probe:
            head = probe.read(8)
    except OSError as exc:
        raise ObservedError(f"cannot read recorded-runs file {str(path)!r}: {exc}") from None
    if head[:2] == _GZIP:
        try:
            with gzip.open(path, "rb") as stream:
                yield from _capped(stream, skipped)  # type: ignore[arg-type]  # GzipFile is IO
        except (EOFError, OSError, zlib.error):
            # gzip.BadGzipFile is an OSError; a file cut while being written ends in EOFError.
            skipped["damaged or cut .gz file (read up to the damage)"] += 1
        return
    if head[:4] == _ZSTD or head[4:8] == _ZSTD:
        zstd = _zstandard()
        if zstd is None:
            skipped[_NO_ZSTD] += 1
            return
        framed = head[:4] != _ZSTD
        try:
            with path.open("rb") as raw:
                if framed:
                    yield from _framed_messages(zstd, raw, skipped)
                else:
                    reader = zstd.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
                    with io.BufferedReader(reader) as stream:
                        yield from _capped(stream, skipped)
        except (zstd.ZstdError, OSError, EOFError):
            skipped["damaged or cut zstd file (read up to the damage)"] += 1
        return
    with path.open("rb") as stream:
        yield from _capped(stream, skipped)


def _capped(stream: IO[bytes], skipped: Counter[str]) -> Iterator[bytes]:
    """Lines of ``stream``, skipping (without holding) those over the cap."""
    readline = stream.readline
    cap = LINE_CAP
    while True:
        line = readline(cap)
        if len(line) < cap or line[-1:] == b"\n":
            if not line:
                return
            yield line
            continue
        # At the cap with no end of line: an OTLP document may be longer, nothing else.
        if any(opening in line[:256] for opening in _OTLP_OPENINGS):
            parts = [line]
            size = len(line)
            while size <= DOCUMENT_CAP and parts[-1][-1:] != b"\n":
                more = readline(cap)
                if not more:
                    break
                parts.append(more)
                size += len(more)
            if size <= DOCUMENT_CAP:
                yield b"".join(parts)
                continue
            del parts
            skipped[_OVER_DOCUMENT] += 1
        else:
            skipped[_OVER_LINE] += 1
        del line
        while True:  # drop the rest of the line, a cap-sized piece at a time
            rest = readline(cap)
            if not rest or rest[-1:] == b"\n":
                break


class _Window(io.RawIOBase):
    """The bytes of an open file from ``start`` to ``end``, as a stream of its own."""

    def __init__(self, raw: Any, start: int, end: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = end - start
        raw.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)
        size = self._raw.readinto(view[: min(len(view), self._left)])
        self._left -= size
        return int(size)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _framed_messages(zstd: Any, raw: IO[bytes], skipped: Counter[str]) -> Iterator[bytes]:
    """The lines of each length-prefixed zstd message (the Collector's older framing)."""
    while True:
        size_bytes = raw.read(4)
        if not size_bytes:
            return
        if len(size_bytes) < 4:
            raise EOFError("cut length prefix")
        size = int.from_bytes(size_bytes, "big")
        if size > DOCUMENT_CAP:
            # A compressed message over the cap would only expand further.
            skipped[_OVER_DOCUMENT] += 1
            raw.seek(size, os.SEEK_CUR)
            continue
        frame = raw.read(size)
        if len(frame) < size:
            raise EOFError("cut message")
        reader = zstd.ZstdDecompressor().stream_reader(io.BytesIO(frame))
        with io.BufferedReader(reader) as stream:
            yield from _capped(stream, skipped)


def _zstandard() -> Any:
    """The ``zstandard`` module, or ``None`` when it is not installed."""
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard
