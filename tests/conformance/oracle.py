"""What a conformant receiver reads from trace headers, written from the recommendation's ABNF.

An oracle for the property tests, kept apart from penstock's parser and written differently
(character sets, no regular expressions), so the two can disagree. Where OpenTelemetry's W3C
propagator is conformant, `otel_conformant` says so, and penstock must read exactly what it
reads; elsewhere penstock must read what this oracle reads.

- ``traceparent``: exactly one header; optional whitespace (spaces, tabs) around it; version
  two lower-case hex digits, not ``ff``; version ``00`` is exactly 55 characters, a later
  version may go on after a ``-``; trace id and parent id lower-case hex and not all zero.
- ``tracestate``: every header's comma-separated members, optional whitespace around each,
  empty members skipped; a key is 1 to 256 characters, ``a-z`` or ``0-9`` first, then
  ``a-z 0-9 _ - * / @`` (W3C Trace Context level 2); a value is 1 to 256 printable ASCII
  characters other than ``,`` and ``=``, not ending with a space. A malformed member, more than
  32 members, or a combined header over 512 characters invalidates the whole tracestate; a
  repeated key keeps its first value.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

HEX = set("0123456789abcdef")
OWS = " \t"
KEY_FIRST = set(string.ascii_lowercase + string.digits)
KEY_CHARS = KEY_FIRST | set("_-*/@")
VALUE_CHARS = {chr(c) for c in range(0x20, 0x7F)} - {",", "="}

#: OpenTelemetry's TraceState key grammar (W3C level 1): ``a-z`` first for simple keys, and
#: multi-tenant keys ``tenant@system`` with a tenant of at most 241 and a system id of at most
#: 14 characters, starting with a letter.
SIMPLE_CHARS = KEY_FIRST | set("_-*/")


def _hex(text: str, length: int) -> bool:
    return len(text) == length and set(text) <= HEX


def traceparent(values: Sequence[str] | None) -> tuple[int, int, int] | None:
    """``(trace_id, parent_id, flags)`` a conformant receiver reads, or ``None``."""
    if not values or len(values) != 1:
        return None
    value = values[0].strip(OWS)
    if len(value) < 55 or (len(value) > 55 and value[55] != "-"):
        return None
    version, trace, parent, flags = (value[0:2], value[3:35], value[36:52], value[53:55])
    if value[2] != "-" or value[35] != "-" or value[52] != "-":
        return None
    if not (_hex(version, 2) and _hex(trace, 32) and _hex(parent, 16) and _hex(flags, 2)):
        return None
    if version == "ff" or (version == "00" and len(value) != 55):
        return None
    if set(trace) == {"0"} or set(parent) == {"0"}:
        return None
    return int(trace, 16), int(parent, 16), int(flags, 16)


def valid_key(key: str) -> bool:
    """A level-2 tracestate key."""
    return 1 <= len(key) <= 256 and key[0] in KEY_FIRST and set(key) <= KEY_CHARS


def valid_value(value: str) -> bool:
    """A tracestate value."""
    return 1 <= len(value) <= 256 and set(value) <= VALUE_CHARS and value[-1] != " "


def otel_key(key: str) -> bool:
    """A key OpenTelemetry's TraceState accepts (the level-1 grammar)."""
    if "@" not in key:
        return (
            1 <= len(key) <= 256 and key[0] in string.ascii_lowercase and set(key) <= SIMPLE_CHARS
        )
    tenant, _, system = key.partition("@")
    return (
        1 <= len(tenant) <= 241
        and tenant[0] in KEY_FIRST
        and set(tenant) <= SIMPLE_CHARS
        and 1 <= len(system) <= 14
        and system[0] in string.ascii_lowercase
        and set(system) <= SIMPLE_CHARS
    )


def _members(values: Sequence[str]) -> list[tuple[str, str]] | None:
    members = []
    for header in values:
        for raw in header.split(","):
            member = raw.strip(OWS)
            if not member:
                continue
            key, eq, value = member.partition("=")
            if not eq or not valid_key(key) or not valid_value(value):
                return None
            members.append((key, value))
    return members


def tracestate(values: Sequence[str] | None) -> str | None:
    """The tracestate header a conformant receiver passes on, or ``None``."""
    members = _members(values or ())
    if members is None:
        return None
    kept: dict[str, str] = {}
    for key, value in members:
        kept.setdefault(key, value)
    text = ",".join(f"{k}={v}" for k, v in kept.items())
    if len(kept) > 32 or len(text) > 512:
        return None
    return text or None


def otel_conformant(traceparents: Sequence[str] | None, states: Sequence[str] | None) -> bool:
    """Whether OpenTelemetry's W3C propagator reads these headers as the recommendation says:
    at most one ``traceparent``, and a tracestate with no repeated key, no key that only the
    level-2 grammar allows, and within the 512 characters a receiver may cut at."""
    if traceparents is not None and len(traceparents) > 1:
        return False
    members = _members(states or ())
    if members is None:
        return True  # both discard it
    keys = [key for key, _ in members]
    if len(set(keys)) != len(keys) or not all(otel_key(k) for k in keys):
        return False
    return len(",".join(f"{k}={v}" for k, v in members)) <= 512
