"""Reading W3C headers: judge untrusted values, and the one reader of each header format.

- Incoming values are untrusted. `SafeGetter` and `clean` pass on only short, printable ASCII
  strings (tabs allowed: optional whitespace), and drop what OpenTelemetry's propagators would
  reject with a WARNING (a peer sending junk must not flood the logs).
- With the propagators OpenTelemetry configures by default (W3C trace context, then W3C
  baggage), penstock reads those headers itself, as W3C Trace Context says (the validation
  harness runs in the tests) and, wherever OpenTelemetry's propagator is conformant, exactly
  as it does (tests compare both): `parse_traceparent`, `check_tracestate` and `parse_names`
  are the one reader of each header; `parse_headers` reads a carrier's values, and
  `parse_metadata` gRPC metadata.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from opentelemetry.propagators.textmap import Getter

from penstock.propagation._carriers import MAX_VALUE_BYTES, as_text

_log = logging.getLogger("penstock.propagation")

#: The longest step or flow name accepted from baggage.
MAX_NAME_CHARS = 256
#: Baggage keys penstock sets.
BAGGAGE_STEP = "penstock.step"
BAGGAGE_FLOW = "penstock.flow"
BAGGAGE_TRACE = "penstock.trace"
PENSTOCK_KEYS = frozenset({BAGGAGE_STEP, BAGGAGE_FLOW, BAGGAGE_TRACE})

#: The longest traceparent OpenTelemetry accepts (W3C version 00 needs 55 characters).
_MAX_TRACEPARENT = 512
#: W3C Trace Context: at most 32 tracestate members; propagate at least 512 characters.
_MAX_TRACESTATE_MEMBERS = 32
_MAX_TRACESTATE_CHARS = 512
#: W3C Baggage limits (also OpenTelemetry's).
_MAX_BAGGAGE_MEMBERS = 180
#: OpenTelemetry's baggage limit per member; longer ones it drops (the slow path does that).
MAX_BAGGAGE_PAIR = 4096

#: The header names penstock reads, as gRPC metadata keys (always lower-case on the wire).
HEADERS = frozenset({"traceparent", "tracestate", "baggage"})

#: A traceparent of any version (W3C Trace Context): version, trace id, parent id, flags, and
#: what a later version may add after a dash; optional whitespace around it. The same
#: acceptance as OpenTelemetry's propagator (the tests compare both).
_TRACEPARENT = re.compile(
    r"^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:(-.*)|[ \t]*)$"
).search

# W3C Baggage: a key is an RFC 7230 token; a value is URL-encoded printable ASCII other than
# space, '"', ',', ';' and '\'; properties follow after ';' (a key, or key=value), optional
# whitespace around them. The grammar OpenTelemetry's baggage propagator checks too.
_OWS = r"[ \t]*"
_TOKEN = r"[\x21\x23-\x27\x2a\x2b\x2d\x2e\x30-\x39\x41-\x5a\x5e-\x7a\x7c\x7e]+"
_VALUE = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
_BAGGAGE_KEY = re.compile(_TOKEN).fullmatch
_BAGGAGE_VALUE = re.compile(_VALUE).fullmatch
_BAGGAGE_PROPERTY = re.compile(
    rf"{_OWS}{_TOKEN}{_OWS}={_OWS}{_VALUE}{_OWS}|{_OWS}{_TOKEN}{_OWS}"
).fullmatch


def valid_baggage_pair(key: str, value: str) -> bool:
    """Whether ``key=value`` is a valid W3C Baggage member (value with its properties)."""
    if _BAGGAGE_KEY(key) is None:
        return False
    value, *properties = value.split(";")
    if _BAGGAGE_VALUE(value.rstrip(" \t")) is None:
        return False
    return all(_BAGGAGE_PROPERTY(p) is not None for p in properties)


# --- untrusted values ----------------------------------------------------------------------


def clean(key: str, values: object) -> list[str] | None:
    """The printable ASCII strings of at most `MAX_VALUE_BYTES` among a getter's ``values``.

    A getter that forgot the list is forgiven; ``None`` when none is left.

    A ``tracestate`` is one list split over its headers: one bad header drops it all.
    """
    if values is None:
        return None
    if isinstance(values, (str, bytes)):
        values = [values]
    if not isinstance(values, (list, tuple)):
        _log.debug("penstock ignored header %r: the getter returned %r", key, type(values))
        return None
    kept = []
    for value in values:
        text = as_text(value)
        if text is None or len(text) > MAX_VALUE_BYTES or not _printable_ascii(text):
            _log.debug("penstock ignored a malformed or oversized %r header", key)
            if key.lower() == "tracestate":
                return None
            continue
        kept.append(text)
    return kept or None


def precheck(key: str, values: list[str] | None) -> list[str] | None:
    """``values`` without what OpenTelemetry's propagator for ``key`` would log and reject."""
    if values:
        check = _PRECHECKS.get(key.lower())
        if check is not None:
            values = check(values)
    return values or None


class SafeGetter(Getter[Any]):
    """Wraps a getter: never raises, and passes on only values `clean` keeps."""

    def __init__(self, inner: Getter[Any]) -> None:
        self.inner = inner

    def raw(self, carrier: Any, key: str) -> list[str] | None:
        """The clean values under ``key``, not yet checked for their header's format."""
        try:
            values = self.inner.get(carrier, key)
        except Exception as exc:
            _log.debug("penstock ignored header %r: the getter failed: %r", key, exc)
            return None
        return clean(key, values)

    def get(self, carrier: Any, key: str) -> list[str] | None:
        """The clean values under ``key`` that its propagator would accept."""
        return precheck(key, self.raw(carrier, key))

    def keys(self, carrier: Any) -> list[str]:
        """The carrier's printable ASCII keys."""
        try:
            keys = self.inner.keys(carrier)
            return [k for k in keys if isinstance(k, str) and _printable_ascii(k)]
        except Exception as exc:
            _log.debug("penstock could not list the carrier's keys: %r", exc)
            return []


def _printable_ascii(text: str) -> bool:
    """Printable ASCII, tabs allowed.

    Tabs are optional whitespace around a header value or between list members, which the
    W3C recommendation accepts.
    """
    if text.isascii() and text.isprintable():
        return True
    return "\t" in text and text.isascii() and text.replace("\t", " ").isprintable()


def _check_traceparent(values: list[str]) -> list[str]:
    if len(values) > 1:
        # W3C Trace Context: several traceparent headers make the context invalid (a new
        # trace starts); OpenTelemetry's propagator reads the first one.
        _log.debug("penstock ignored a repeated traceparent header")
        return []
    if len(values[0]) > _MAX_TRACEPARENT:
        _log.debug("penstock ignored an oversized traceparent header")
        return []
    return values


#: A tracestate list member as W3C Trace Context level 2 writes the grammar (and the W3C
#: validation harness tests it): a key of 1 to 256 characters, starting with a lower-case
#: letter or a digit, ``@`` allowed anywhere after that (multi-tenant ``tenant@system`` keys
#: and longer vendor parts than the level-1 grammar allowed); a value of 1 to 256 printable
#: characters other than ``,`` and ``=``, not ending with a space.
_MEMBER = re.compile(
    r"([a-z0-9][_0-9a-z\-*/@]{0,255})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])"
).fullmatch


def check_tracestate(values: list[str]) -> list[str]:
    """The tracestate headers as one normalized header; ``[]`` if a member is malformed.

    Optional whitespace around members is dropped; a key seen before keeps its first value
    (the recommendation lets a receiver drop duplicates); more than 32 members or a header
    longer than 512 characters invalidates the whole tracestate.
    """
    members: list[str] = []
    keys: set[str] = set()
    for header in values:
        for raw in header.split(","):
            member = raw.strip(" \t")
            if not member:
                continue
            match = _MEMBER(member)
            if match is None:
                _log.debug("penstock ignored a malformed tracestate header")
                return []
            key = match.group(1)
            if key in keys:
                continue
            keys.add(key)
            members.append(member)
    text = ",".join(members)
    if len(members) > _MAX_TRACESTATE_MEMBERS or len(text) > _MAX_TRACESTATE_CHARS:
        _log.debug("penstock ignored an oversized tracestate header")
        return []
    return [text] if text else []


def _check_baggage(values: list[str]) -> list[str]:
    members = []
    for member in values[0].split(","):
        name, sep, value = member.partition("=")
        if sep and valid_baggage_pair(name.strip(" \t"), value.strip(" \t")):
            members.append(member)
        elif member.strip():
            _log.debug("penstock ignored a malformed baggage member")
    text = ",".join(members[:_MAX_BAGGAGE_MEMBERS])
    return [text] if text and len(text) <= MAX_VALUE_BYTES else []


_PRECHECKS: dict[str, Any] = {
    "traceparent": _check_traceparent,
    "tracestate": check_tracestate,
    "baggage": _check_baggage,
}


#: What the readers below return: ``(trace_id, span_id, trace_flags, tracestate, flow,
#: step)``, ids non-zero, the tracestate normalized (or ``None``), the sending step's flow and
#: name from penstock's baggage when it names a step of this trace (else ``None``).
Parsed = tuple[int, int, int, "str | None", "str | None", "str | None"]

#: The exact shapes penstock itself writes, tried first (one match, no decoding): a version-00
#: traceparent, and baggage naming the step with characters that need no decoding. Anything
#: else takes the general reading, which reaches the same result for these.
#: (Its ids are non-zero: the pattern says so, which is cheaper than comparing afterwards.)
OWN_TRACEPARENT = re.compile(
    r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}"
).fullmatch
_OWN_PLAIN_BAGGAGE = re.compile(
    r"penstock\.trace=([0-9a-f]{32}),penstock\.step=([A-Za-z0-9_.~-]{1,256})"
    r"(?:,penstock\.flow=([A-Za-z0-9_.~-]{1,256}))?"
).fullmatch
#: The baggage penstock writes, names encoded as ``quote_plus`` makes them.
_OWN_BAGGAGE = re.compile(
    r"penstock\.trace=([0-9a-f]{32}),penstock\.step=([A-Za-z0-9_.~%+-]+)"
    r"(?:,penstock\.flow=([A-Za-z0-9_.~%+-]+))?"
).fullmatch


def parse_traceparent(text: str) -> tuple[int, int, int, str] | None:
    """The one reader of a ``traceparent`` value: ``(trace_id, span_id, flags, trace_hex)``.

    Optional whitespace around the value is accepted, as are later versions' longer values;
    version ``ff``, a version-00 value with more after it, all-zero ids, and values that are
    not printable ASCII of at most 512 characters are not (``None``).
    """
    if OWN_TRACEPARENT(text) is not None:
        trace_hex, span_hex, flags_hex = text[3:35], text[36:52], text[53:]
    else:
        if len(text) > _MAX_TRACEPARENT or not _printable_ascii(text):
            return None
        match = _TRACEPARENT(text)
        if match is None:
            return None
        version, trace_hex, span_hex, flags_hex = match.group(1, 2, 3, 4)
        if version == "ff" or (version == "00" and match.group(5)):
            return None
    trace_id, span_id = int(trace_hex, 16), int(span_hex, 16)
    if not (trace_id and span_id):
        return None
    return trace_id, span_id, int(flags_hex, 16), trace_hex


def parse_names(header: str, trace_hex: str) -> tuple[str | None, str] | None:
    """The one reader of penstock's baggage: ``(flow, step)`` of the sending step, or ``None``.

    Names are read only when the ``baggage`` value names a step of the trace ``trace_hex``.

    Names are decoded as OpenTelemetry's baggage propagator decodes them and must be
    printable and at most `MAX_NAME_CHARS` long.
    """
    own = _OWN_PLAIN_BAGGAGE(header)
    if own is not None:  # valid names by construction of the pattern
        return (own[3], own[2]) if own[1] == trace_hex else None
    own = _OWN_BAGGAGE(header)
    if own is not None:
        trace, step, flow = own.group(1, 2, 3)
        items = {BAGGAGE_TRACE: trace, BAGGAGE_STEP: _decoded(step)}
        if flow is not None:
            items[BAGGAGE_FLOW] = _decoded(flow)
    else:
        if len(header) > MAX_VALUE_BYTES or not _printable_ascii(header):
            return None
        items = _penstock_items(header)
    return names_from_items(items, trace_hex)


def names_from_items(items: Mapping[str, object], trace_hex: str) -> tuple[str | None, str] | None:
    """``(flow, step)`` from decoded baggage ``items``, when they name a step of the trace.

    ``items`` as ``opentelemetry.baggage.get_all`` gives them; ``trace_hex`` the trace's id.
    """
    if _name(items.get(BAGGAGE_TRACE)) != trace_hex:
        return None
    step = _name(items.get(BAGGAGE_STEP))
    if step is None:
        return None
    return _name(items.get(BAGGAGE_FLOW)), step


def _name(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable():
        return value
    return None


def parse_headers(
    traceparent: list[str] | None, tracestate: list[str] | None, baggage: list[str] | None
) -> Parsed | None:
    """What a conformant receiver reads from header values that `clean` kept.

    Where OpenTelemetry's default propagators are conformant, that is what they read too;
    ``None`` without a valid traceparent. Several ``traceparent`` values invalidate the
    context.
    """
    traceparent = precheck("traceparent", traceparent)
    if not traceparent:
        return None
    ids = parse_traceparent(traceparent[0])
    if ids is None:
        return None
    trace_id, span_id, flags, trace_hex = ids
    state = precheck("tracestate", tracestate)
    names = parse_names(baggage[0], trace_hex) if baggage else None
    if names is None:
        return trace_id, span_id, flags, state[0] if state else None, None, None
    return trace_id, span_id, flags, state[0] if state else None, names[0], names[1]


def parse_common(traceparent: object, tracestate: object, baggage: object) -> Parsed | None:
    """`parse_headers` of one value per header, flat, for the common case; else ``None``.

    The common case: a version-00 ``traceparent`` as penstock and OpenTelemetry write it,
    and ``tracestate`` and ``baggage`` each absent (``None``) or one ``str``. Every carrier
    of every integration comes here first (a server reads one per request, where each
    function call costs); ``None`` says "read these the general way" (`clean`, then
    `parse_headers`), which gives the same answer for the common case and judges the rest.
    """
    if type(traceparent) is not str or OWN_TRACEPARENT(traceparent) is None:
        return None
    state = None
    if tracestate is not None:
        if type(tracestate) is not str:
            return None
        if len(tracestate) <= MAX_VALUE_BYTES and _printable_ascii(tracestate):
            checked = check_tracestate([tracestate])
            state = checked[0] if checked else None
    names = None
    if baggage is not None:
        if type(baggage) is not str:
            return None
        names = parse_names(baggage, traceparent[3:35])
    trace_id, span_id = int(traceparent[3:35], 16), int(traceparent[36:52], 16)
    flags = int(traceparent[53:], 16)
    if names is None:
        return trace_id, span_id, flags, state, None, None
    return trace_id, span_id, flags, state, names[0], names[1]


def _decoded(value: str) -> str:
    return unquote_plus(value).strip() if "%" in value or "+" in value else value


def _penstock_items(header: str) -> dict[str, str]:
    """Penstock's members of a baggage header, as OpenTelemetry would decode them.

    Only penstock's members matter here, so only they are validated; with more members than
    OpenTelemetry keeps, the whole header is checked first, as OpenTelemetry would count.
    """
    if header.count(",") >= _MAX_BAGGAGE_MEMBERS:
        checked = _check_baggage([header])
        if not checked:
            return {}
        header = checked[0]
    items: dict[str, str] = {}
    for member in header.split(","):
        name, sep, value = member.partition("=")
        name = name.strip(" \t")
        if sep and name in PENSTOCK_KEYS:
            value = value.strip(" \t")
            # ASCII letters and digits (a trace id, most names) are valid baggage values and
            # decode to themselves: skip the regular expressions for them.
            if value.isalnum():
                items[name] = value
            elif valid_baggage_pair(name, value):
                items[name] = unquote_plus(value).strip()
    return items


def parse_metadata(metadata: Iterable[Any]) -> Parsed | None:
    """`parse_headers` of gRPC metadata (``(key, str | bytes)`` items), gathered by name.

    Keys are compared case-blind, as the getter does. A server's hot path reads penstock's
    own headers in one pass first (`penstock.propagation.extract`) and comes here for
    anything else.
    """
    by_name: dict[str, list[Any]] = {}
    for item in metadata:
        if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[0], str):
            continue
        name = item[0].lower()
        if name in HEADERS:
            by_name.setdefault(name, []).append(item[1])
    if not by_name:
        return None
    get = by_name.get
    return parse_headers(
        clean("traceparent", get("traceparent")),
        clean("tracestate", get("tracestate")),
        clean("baggage", get("baggage")),
    )
