"""The fast path for the common log line: decoded by msgspec into the step fields only.

A log line of the logging backend is decoded straight into a typed struct that holds only
the fields a step record has (the message, time and any other field are skipped without
being built), and turned into a `RawRecord` when it is a plain, valid step record. Anything
else, including any line msgspec refuses or any value the plain reader would count as a
skip reason, is handed back (``None``) to the plain reader
(`penstock._observed.documents`), so the output is the same byte for byte with or without
msgspec; only the time differs (the ``fast`` extra).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from penstock._observed.files import NAME_CAP
from penstock._observed.record import (
    MAX_DURATION_MS,
    MAX_EPOCH_S,
    SCHEMAS,
    STATUSES,
    RawRecord,
)

__all__ = [
    "APP_LINE",
    "BLOCK",
    "FAST_DECODE",
    "FAST_SCAN",
    "BlockSink",
    "LineReader",
    "SingleLine",
    "block_records",
    "compiled_scan",
    "line_reader",
]

#: Use msgspec when it is installed (tests turn it off to compare both readers).
FAST_DECODE = True
#: Count plain step records in C when the compiled scanner was built (tests turn it off).
FAST_SCAN = True

#: What the reader returns for a JSON object that is no step record (the application's own).
APP_LINE: Final = "not a step record"

#: A line's record, `APP_LINE`, or ``None``: the plain reader decides.
LineReader = Callable[[bytes, int], "RawRecord | str | None"]

#: Nesting deeper than this is left to the plain reader, whose decoders stop at a depth
#: that depends on the stack; a step record has none.
_MAX_BRACKETS = 64

#: Keys of the shapes the plain reader handles: a Docker wrapper, an OTLP document.
_OTHER_SHAPES = ("log", "stream", "resourceSpans", "batches", "trace")

_reader_type: Any = None


def _struct() -> Any:
    """The msgspec struct of a log line (built once, on first use: msgspec loads late)."""
    global _reader_type
    if _reader_type is not None:
        return _reader_type
    import msgspec
    from msgspec import UNSET, Meta, Raw, UnsetType

    # Built with defstruct: the types are objects here, not annotations to resolve. The
    # limits the plain reader checks are checked by msgspec while decoding (a value out of
    # them fails the line, which then goes to the plain reader for its reason).
    name = Annotated[str, Meta(max_length=NAME_CAP)] | None
    required = Annotated[str, Meta(min_length=1, max_length=NAME_CAP)] | UnsetType
    fields: list[tuple[str, Any, Any]] = [
        # Presence matters for these (a record needs step, duration_ms and status; a
        # missing penstock_schema is 1, a null one is wrong): UNSET tells absent from null.
        ("step", required, UNSET),
        ("duration_ms", Annotated[float, Meta(ge=0, lt=MAX_DURATION_MS)] | UnsetType, UNSET),
        # Not a Literal: an application's line with an HTTP status would fail its block.
        ("status", str | UnsetType, UNSET),
        ("penstock_schema", Literal[tuple(sorted(SCHEMAS))] | UnsetType, UNSET),
        ("correlation_id", required, UNSET),
        ("flow", name, None),
        ("parent_step", name, None),
        ("predecessor", name, None),
        ("edge_from", name, None),
        ("start_time", Annotated[float, Meta(ge=0, lt=MAX_EPOCH_S)] | None, None),
        ("span_id", name, None),
        ("parent_span_id", name, None),
        # Shapes the plain reader handles (a Docker wrapper, an OTLP document): only whether
        # they are present is looked at, their values are not built.
        *((key, Raw | UnsetType, UNSET) for key in _OTHER_SHAPES),
    ]
    # gc=False: a struct holds strings and numbers only, never a cycle.
    LogLine = msgspec.defstruct("LogLine", fields, gc=False)
    decoder = msgspec.json.Decoder(LogLine)
    _reader_type = (LogLine, decoder.decode, msgspec.DecodeError, decoder.decode_lines, UNSET)
    return _reader_type


def line_reader(file: str) -> LineReader | None:
    """The fast reader of single lines of ``file``, or ``None`` without msgspec."""
    convert = _converter(file)
    if convert is None:
        return None
    decode, refused = _struct()[1:3]

    def read(line: bytes, number: int) -> RawRecord | str | None:
        if line.count(b"{") + line.count(b"[") > _MAX_BRACKETS:
            return None
        try:
            r = decode(line)
        except (refused, RecursionError):
            return None
        return convert(r, number)

    return read


#: Bytes read at a time in block mode; lines in a block stay far below the line cap.
BLOCK = 256 << 10

#: What to do with a line of a block the fast path leaves to the plain reader: its records
#: (none for a line only counted), or ``None`` when the line must be read in order with the
#: lines after it (a container log's piece): then the plain reader takes over from there.
SingleLine = Callable[[bytes, int], "Iterator[RawRecord] | None"]

#: Counts the lines of a block it is sure of, from a byte offset on, straight into a tally:
#: returns where it stopped (the block's length at its end) and how many lines it counted.
BlockSink = Callable[[bytes, int], "tuple[int, int]"]


def compiled_scan() -> Callable[..., tuple[int, int, int, int]] | None:
    """The compiled scanner's ``scan`` (`penstock._observed._scan`), or ``None``.

    It is built with the package where a C compiler is at hand, and needs msgspec (the
    ``fast`` extra) for the lines it leaves to Python.
    """
    if not (FAST_SCAN and FAST_DECODE):
        return None
    try:
        import msgspec  # noqa: F401

        from penstock._observed._scan import scan
    except ImportError:
        return None
    return scan


def block_records(
    path: Path,
    file: str,
    window: tuple[int, int] | None,
    skipped: Counter[str],
    single: SingleLine,
    done: list[int],
    sink: BlockSink | None = None,
) -> Iterator[list[RawRecord]]:
    """The records of an uncompressed file read in blocks of whole lines, while it can.

    They come a block at a time (a list), which spares a generator step per record.

    A block of JSON objects, one a line, is decoded in one call (msgspec's
    ``decode_lines``); a line the fast path does not read as a plain step record goes to
    ``single``. Reading stops at a line that does not open with ``{``, a line without its
    newline at the end, or one ``single`` refuses: ``done`` is then set to the byte offset and the
    number of lines read, for the plain reader to go on from there (the offset is -1 when
    the whole file or window was read).

    With a ``sink`` (the compiled scanner, bound to a tally), a block's lines are counted
    by it; each line it leaves is read here as above and its records yielded at once, so
    that the tally sees every record in file order.
    """
    convert = _converter(file)
    assert convert is not None
    decode_lines = _struct()[3]
    refused = _struct()[2]
    start, end = window if window is not None else (0, None)
    number = 0
    with path.open("rb", buffering=0) as stream:
        stream.seek(start)
        offset = start  # where the bytes of the next block start
        tail = b""
        while True:
            want = BLOCK if end is None else min(BLOCK, end - offset - len(tail))
            chunk = stream.read(want) if want > 0 else b""
            if not chunk:
                # A last line without its newline is the plain reader's.
                done[:] = [offset, number] if tail else [-1, number]
                return
            data = tail + chunk if tail else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # a line longer than a block: the plain reader caps it
                done[:] = [offset, number]
                return
            block, tail = data[:cut], data[cut:]
            if sink is not None:
                stop, read = yield from _sunk(block, number, sink, convert, skipped, single)
                if stop >= 0:
                    done[:] = [offset + stop, read]
                    return
                number = read
                offset += cut
                continue
            count = block.count(b"\n")
            structs = None
            # A block whose lines each open one object and nothing else is decoded in one
            # call (it fails on any line that is not a JSON object, and a blank line it
            # passes over shows in the count); any nesting is checked line by line.
            if b"[" not in block and block.count(b"{") == count:
                try:
                    structs = decode_lines(block)
                except (refused, RecursionError):
                    structs = None
                if structs is not None and len(structs) != count:
                    structs = None
            lines = None
            out: list[RawRecord] = []
            keep = out.append
            for index in range(count):
                at = number + index + 1
                if structs is not None:
                    found = convert(structs[index], at)
                else:
                    if lines is None:
                        lines = block.split(b"\n")
                    if lines[index][:1] != b"{":  # other kinds of line: read in order
                        if out:
                            yield out
                        done[:] = [offset + sum(len(x) + 1 for x in lines[:index]), at - 1]
                        return
                    # An OTLP document (the Collector's layout) is no log line: straight on.
                    if lines[index][:17] == b'{"resourceSpans":':
                        found = None
                    else:
                        found = _line(lines[index], at, convert)
                if found is None:
                    if lines is None:
                        lines = block.split(b"\n")
                    records = single(lines[index], at)
                    if records is None:
                        if out:
                            yield out
                        done[:] = [offset + sum(len(x) + 1 for x in lines[:index]), at - 1]
                        return
                    out.extend(records)
                elif found is APP_LINE:
                    skipped[APP_LINE] += 1
                else:
                    keep(found)  # type: ignore[arg-type]  # a record, not the reason
            if out:
                yield out
            number += count
            offset += cut


def _sunk(
    block: bytes,
    number: int,
    sink: BlockSink,
    convert: Any,
    skipped: Counter[str],
    single: SingleLine,
) -> Generator[list[RawRecord], None, tuple[int, int]]:
    """One block counted by ``sink``, the lines it leaves read one by one.

    Returns where the plain reader goes on (-1 when the whole block was read, else the
    offset in the block) and the number of lines of the file read by then.
    """
    pos = index = 0
    size = len(block)
    while True:
        pos, counted = sink(block, pos)
        index += counted
        if pos >= size:
            return -1, number + index
        end = block.index(b"\n", pos)
        line = block[pos:end]
        at = number + index + 1
        if line[:1] != b"{":  # other kinds of line: read in order
            return pos, at - 1
        found = None if line[:17] == b'{"resourceSpans":' else _line(line, at, convert)
        if found is None:
            records = single(line, at)
            if records is None:
                return pos, at - 1
            out = list(records)
            if out:
                yield out
        elif found is APP_LINE:
            skipped[APP_LINE] += 1
        else:
            yield [found]  # type: ignore[list-item]  # a record, not the reason
        pos = end + 1
        index += 1


def _line(line: bytes, number: int, convert: Any) -> RawRecord | str | None:
    """One line decoded alone (its block had nesting or a line msgspec refused)."""
    if line.count(b"{") + line.count(b"[") > _MAX_BRACKETS:
        return None
    decode, refused = _struct()[1:3]
    try:
        r = decode(line)
    except (refused, RecursionError):
        return None
    return convert(r, number)  # type: ignore[no-any-return]


def _converter(file: str) -> Callable[[Any, int], RawRecord | str | None] | None:
    """Decoded line -> its record, `APP_LINE` or ``None``; ``None`` without msgspec."""
    if not FAST_DECODE:
        return None
    try:
        unset = _struct()[4]
    except ImportError:
        return None
    statuses = STATUSES

    def convert(r: Any, number: int) -> RawRecord | str | None:
        # Runs once per line (the observe rows of make bench): msgspec checked the types
        # and limits; what is left is kept flat, and every unusual case returns None for
        # the plain reader to name.
        if (
            r.log is not unset
            or r.stream is not unset
            or r.resourceSpans is not unset
            or r.batches is not unset
            or r.trace is not unset
        ):  # _OTHER_SHAPES
            return None
        step, duration, status = r.step, r.duration_ms, r.status
        if step is unset or duration is unset or status is unset:
            return APP_LINE
        cid = r.correlation_id
        if cid is unset or status not in statuses:
            return None
        schema = r.penstock_schema
        if schema is unset:
            schema = 1
        return (
            cid,
            r.flow,
            step,
            r.parent_step or None,
            r.predecessor or None,
            duration,
            status,
            r.start_time,
            r.span_id or None,
            r.parent_span_id or None,
            file,
            number,
            r.edge_from or None,
            schema,
            False,
        )

    return convert
