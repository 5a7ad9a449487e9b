"""The JSON objects of a recorded-runs file: each line sniffed on its own, wrappers off.

A line (or a pretty-printed document over several lines) is decoded as JSON; a container
runtime's wrapper around it (Docker's json-file ``{"log": ...}``, the CRI format ``<time>
stdout F <line>`` of Kubernetes nodes, partial lines joined) is taken off. Anything that is
not a JSON object is counted in ``skipped`` by reason; one odd line never decides how the
rest of a file is read.

JSON is decoded by orjson when it is installed (``penstock[fast]``), else by the standard
library; a line orjson refuses is decoded again by the standard library, so both give the
same objects and the same reasons.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from penstock._observed.fast import APP_LINE, LineReader
from penstock._observed.files import DOCUMENT_CAP, LINE_CAP, read_lines
from penstock._observed.record import RawRecord, Skipped

__all__ = ["FAST_JSON", "PartEnd", "decoder", "documents"]

#: Use orjson when it is installed (tests turn it off to compare both decoders).
FAST_JSON = True

#: A CRI log line: time, stream, P(artial) or F(ull), the content.
_CRI = re.compile(rb"^\d{4}-\d\d-\d\dT[^ ]+ (stdout|stderr) ([PF]) ?(.*?)\r?\n?$", re.DOTALL)
_PRETTY_OPEN = (b"{", b"[")
_PRETTY_CLOSE = (b"}", b"]")


def decoder() -> Callable[[bytes | str], Any]:
    """``loads`` for one line: orjson when installed (and wanted), falling back per line."""
    plain = json.loads
    if FAST_JSON:
        try:
            import orjson
        except ImportError:
            pass
        else:
            fast = orjson.loads
            refused = orjson.JSONDecodeError

            def loads(text: bytes | str) -> Any:
                try:
                    return fast(text)
                except refused:
                    # NaN, huge integers, lone surrogates...: what the standard library
                    # makes of them is then checked like any other value.
                    return plain(text)

            return loads
    return plain


def documents(
    path: Path,
    skipped: Skipped,
    fast: LineReader | None = None,
    window: tuple[int, int] | None = None,
    ends: PartEnd | None = None,
    first: int = 1,
) -> Iterator[tuple[int, dict[str, Any] | RawRecord]]:
    """The JSON objects of ``path`` with the line number each starts on, wrappers taken off.

    Lines that are not JSON objects are counted in ``skipped``. With ``fast``, a line it
    reads as a step record comes as that record (a tuple) instead of its object.
    ``window`` reads a part of the file (`read_lines`; line numbers count from its start);
    ``ends`` is told how many lines the part had and whether it may end inside something a
    next part would continue. ``first`` is the number of the first line read.
    """
    loads = decoder()
    partial: dict[bytes, list[bytes]] = {}
    docker: list[str] = []
    # zip, not enumerate: the counter tells how many lines there were once they run out
    # (zip takes a number before it finds the lines exhausted, so it is 2 ahead then).
    counter = itertools.count(first)
    lines = zip(counter, read_lines(path, skipped, window))  # noqa: B905 - endless counter
    for number, line in lines:
        if fast is not None and line[:1] == b"{":
            found = fast(line, number)
            if found is not None:
                if found is APP_LINE:
                    skipped[APP_LINE] += 1
                else:
                    yield number, found  # type: ignore[misc]  # a record, not the reason
                continue
        if line[:1] != b"{" or len(line) < 4:  # the rare lines: a short one may open a document
            stripped = line.strip()
            if not stripped:
                continue
            if stripped in _PRETTY_OPEN and line[:1] in _PRETTY_OPEN:
                text, after = _pretty(line, lines, skipped)
                if text is not None:
                    try:
                        data = loads(text)
                    except (ValueError, RecursionError):
                        skipped["truncated or invalid JSON"] += 1
                    else:
                        yield from _objects(number, data, skipped)
                elif after is None and ends is not None:
                    ends.loose = True
                if after is None:
                    continue
                number, line = after
            elif stripped[:1] == b"{":
                line = stripped
            else:
                cri = _CRI.match(line)
                if cri is None:
                    skipped["not JSON"] += 1
                    continue
                stream, tag, content = cri.groups()
                if tag == b"P":
                    parts = partial.setdefault(stream, [])
                    parts.append(content)
                    if sum(map(len, parts)) > LINE_CAP:
                        partial.pop(stream)
                        skipped["line over 1 MiB"] += 1
                    continue
                if stream in partial:
                    content = b"".join([*partial.pop(stream), content])
                if content[:1] != b"{":
                    skipped["not JSON" if content.strip() else "empty container log line"] += 1
                    continue
                line = content
        try:
            data = loads(line)
        except (ValueError, RecursionError):
            skipped["truncated or invalid JSON"] += 1
            continue
        if type(data) is not dict:
            skipped["not a JSON object"] += 1
            continue
        if "log" in data and "stream" in data and type(data["log"]) is str:
            # Docker's json-file driver: the application's line is a string field; lines
            # over 16 KiB come in pieces, the last one ending in a newline.
            piece: str = data["log"]
            if not piece.endswith("\n"):
                docker.append(piece)
                if sum(map(len, docker)) > LINE_CAP:
                    docker.clear()
                    skipped["line over 1 MiB"] += 1
                continue
            if docker:
                piece = "".join([*docker, piece])
                docker.clear()
            piece = piece.strip()
            if piece[:1] != "{":
                skipped["not JSON" if piece else "empty container log line"] += 1
                continue
            try:
                data = loads(piece)
            except (ValueError, RecursionError):
                skipped["truncated or invalid JSON"] += 1
                continue
            if type(data) is not dict:
                skipped["not a JSON object"] += 1
                continue
        yield number, data
    if ends is not None:
        ends.lines = next(counter) - 2  # the number of the last line
        ends.loose = ends.loose or bool(partial or docker)


class PartEnd:
    """How a part of a file ended, for the part after it (read by another process).

    Attributes:
        lines: the lines read (the next part's line numbers start after them).
        loose: whether the part may end inside something the next part continues (a
            container line's pieces, a pretty-printed document): then reading the parts
            apart would not be reading the file.
    """

    __slots__ = ("lines", "loose")

    def __init__(self) -> None:
        self.lines = 0
        self.loose = False


def _objects(number: int, data: Any, skipped: Skipped) -> Iterator[tuple[int, dict[str, Any]]]:
    if type(data) is dict:
        yield number, data
    elif type(data) is list:  # a saved array of documents or records
        for item in data:
            if type(item) is dict:
                yield number, item
            else:
                skipped["not a JSON object"] += 1
    else:
        skipped["not a JSON object"] += 1


def _pretty(
    first: bytes, lines: Iterator[tuple[int, bytes]], skipped: Skipped
) -> tuple[bytes | None, tuple[int, bytes] | None]:
    """A pretty-printed document opening with ``first``: its text, and a line read past it.

    The document ends at a closing bracket in the first column (as every pretty printer
    writes it). A line starting with ``{"`` in the first column cannot be inside it: the
    document was cut, and that line is handed back to be read on its own. ``None`` for the
    text when the document is cut or over the cap (counted in ``skipped``).
    """
    parts = [first]
    size = len(first)
    for number, line in lines:
        if line[:1] in _PRETTY_CLOSE:
            parts.append(line)
            return b"".join(parts), None
        if line[:2] == b'{"':
            skipped["truncated or invalid JSON"] += 1
            return None, (number, line)
        parts.append(line)
        size += len(line)
        if size > DOCUMENT_CAP:
            skipped["OTLP document over 32 MiB"] += 1
            for _, rest in lines:  # skip to its end without holding it
                if rest[:1] in _PRETTY_CLOSE:
                    break
            return None, None
    skipped["truncated or invalid JSON"] += 1
    return None, None
