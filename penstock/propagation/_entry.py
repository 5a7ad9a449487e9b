"""The servers' hot path: a call's metadata or request's headers read and entered, no objects.

Private, and used by two integrations only: `penstock.contrib.grpc`'s server wrappers
(`metadata_entry`) and `penstock.contrib.asgi`'s middleware (`http_entry`). Every call or
request a server receives comes here, where each Python frame costs about a microsecond on a
live server (more on a loaded or slower machine, where the code is cold in the CPU's caches
at each request): the general contract (`penstock.propagation.extract`, then
`RemoteContext.continue_run` in a ``with`` block) makes about six more frames and an object or
two per call, which measured 1.060 against the 1.05 limit on the "new step per call" gRPC rows
of ``make bench`` (this path: about 1.045), and cost a uvicorn server about 75 us of CPU per
continued request where this path costs about 50 (measured on a loaded 2-core machine). It
reads and accepts exactly what `extract` does (the tests compare both), with the same shared
parser (`_w3c.parse_common` for the common case); a third-party integration has the same
behaviour through `extract`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from penstock._runtime.remote import enter_remote, exit_remote, remote_info
from penstock._runtime.remote import remote_infos as _infos
from penstock.propagation import _propagators, _w3c
from penstock.propagation._propagators import default_propagators, textmap_checked

__all__ = [
    "AGAIN",
    "enter_remote",
    "exit_remote",
    "http_entry",
    "metadata_entry",
    "read_metadata",
    "stream_entry",
]

_log = logging.getLogger("penstock.propagation")

#: An entry: ``(trace_id, span_id, StepInfo of the sender, link, sampled, tracestate, hop)``,
#: as `penstock._runtime.remote.enter_remote` takes it.
Entry = tuple[Any, ...]

_UNNAMED = remote_info(None, "")
_NO_ATTRIBUTES: Mapping[str, Any] = {}
_HEADERS = _w3c.HEADERS
_OWN_TRACEPARENT = _w3c.OWN_TRACEPARENT
#: (traceparent, baggage, then the trace and span ids, the sender's StepInfo and sampled) of
#: the last metadata read the short way: reading depends on those two strings alone, and a
#: client calling from one step sends the same ones call after call.
_last_read: tuple[Any, ...] = (None, None, 0, 0, None, True)
#: Metadata to read the general way.
_OTHER = object()


def _compiled_reader() -> tuple[Any, object]:
    """The compiled reading of a call's metadata (`penstock.propagation._wire`), if built.

    Without it, `metadata_entry` itself, and a sentinel it never returns.
    """
    try:
        from penstock.propagation import _wire
    except ImportError:
        return metadata_entry, _OTHER
    _wire.setup(_propagators.textmap_checked, _propagators, _UNNAMED)
    return _wire.read_metadata, _wire.AGAIN


def metadata_entry(metadata: Any, link: bool, hop: tuple[str, Mapping[str, Any]]) -> Entry | None:
    """The entry of the run a call's gRPC ``metadata`` carries, ``None`` if none or malformed.

    ``hop`` is ``("server", attributes)``. Kept in one frame (see the module's docstring).
    """
    global _last_read
    try:
        if (
            textmap_checked[0] is not _propagators.global_textmap() or not textmap_checked[1]
        ) and not default_propagators():  # judged once per propagator object
            from penstock.propagation import extract as general
            from penstock.propagation import grpc_getter

            remote = general(metadata, grpc_getter)
            if remote is None:
                return None
            info = remote_info(remote.parent_flow, remote.parent_step or "")
            return (
                remote.trace_id,
                remote.span_id,
                info,
                link,
                remote.sampled,
                remote.trace_state,
                hop,
            )
        # Servers get lower-case keys and ``str`` values (gRPC decodes only ``-bin`` keys to
        # bytes): penstock's own headers are picked up in one pass. Anything else
        # (``tracestate``, a repeated header, a key in another case, bytes, items that are
        # not pairs, another traceparent form) is read by _w3c.parse_metadata.
        traceparent = baggage = None
        try:
            for key, value in metadata:
                if key == "traceparent" and traceparent is None:
                    traceparent = value
                elif key == "baggage" and baggage is None:
                    baggage = value
                elif key in _HEADERS or (not key.islower() and key.lower() in _HEADERS):
                    traceparent = _OTHER
                    break
        except (TypeError, ValueError, AttributeError):
            traceparent = _OTHER
        if traceparent is None:
            return None
        last = _last_read
        if traceparent == last[0] and baggage == last[1]:
            return (last[2], last[3], last[4], link, last[5], None, hop)
        if (
            traceparent is not _OTHER
            and type(traceparent) is str
            and (baggage is None or type(baggage) is str)
            and _OWN_TRACEPARENT(traceparent) is not None
        ):
            # Valid by the pattern (non-zero ids too).
            trace_hex = traceparent[3:35]
            info = _UNNAMED
            if baggage is not None:
                names = _w3c.parse_names(baggage, trace_hex)
                if names is not None:
                    info = _infos.get(names) or remote_info(*names)
            trace_id, span_id = int(trace_hex, 16), int(traceparent[36:52], 16)
            sampled = traceparent[54] in "13579bdf"  # trace-flags bit 0
            _last_read = (traceparent, baggage, trace_id, span_id, info, sampled)
            return (trace_id, span_id, info, link, sampled, None, hop)
        parsed = _w3c.parse_metadata(metadata)
        if parsed is None:
            return None
        trace_id, span_id, flags, state, flow, step = parsed
        info = _UNNAMED if step is None else (_infos.get((flow, step)) or remote_info(flow, step))
        return (trace_id, span_id, info, link, bool(flags & 1), state, hop)
    except Exception as exc:
        _log.debug("penstock ignored an unreadable trace context: %r", exc, exc_info=True)
        return None


#: ``read_metadata(metadata, link, hop)``: the compiled reading of the common case. It
#: returns `AGAIN` for what `metadata_entry` must read, the same entry otherwise (on a live
#: server it costs a few microseconds less per call). Without the C module, `metadata_entry`.
read_metadata, AGAIN = _compiled_reader()


def http_entry(headers: Iterable[Any], link: bool) -> Entry | None:
    """The entry of the run an HTTP request carries (ASGI ``headers``), without its hop.

    ``headers``: ``(name, value)`` byte pairs, names lower-case (as ASGI servers give them);
    the caller adds the hop (``("server", attributes)``) as the entry's last item. ``None``
    without a context, or a malformed one. One value per trace header, under the default
    propagators, is read flat (`_w3c.parse_common`); anything else by `extract`.
    """
    if type(headers) is not list and type(headers) is not tuple:
        headers = list(headers)  # read twice when the flat reading does not apply
    traceparent = tracestate = baggage = None
    repeated = False
    for name, value in headers:
        if name == b"traceparent":
            repeated = repeated or traceparent is not None
            traceparent = value
        elif name == b"tracestate":
            repeated = repeated or tracestate is not None
            tracestate = value
        elif name == b"baggage":
            repeated = repeated or baggage is not None
            baggage = value
    if traceparent is None:
        return None
    try:
        if not repeated and (
            (textmap_checked[0] is _propagators.global_textmap() and textmap_checked[1])
            or default_propagators()
        ):
            parsed = _w3c.parse_common(
                traceparent.decode("latin-1"),
                None if tracestate is None else tracestate.decode("latin-1"),
                None if baggage is None else baggage.decode("latin-1"),
            )
            if parsed is not None:
                trace_id, span_id, flags, state, flow, step = parsed
                if step is None:
                    info = _UNNAMED
                else:
                    info = _infos.get((flow, step)) or remote_info(flow, step)
                return (trace_id, span_id, info, link, bool(flags & 1), state, None)
        return _general_http(headers, link)
    except Exception as exc:
        _log.debug("penstock ignored an unreadable trace context: %r", exc, exc_info=True)
        return None


def _general_http(headers: Iterable[Any], link: bool) -> Entry | None:
    """`http_entry` of what its flat reading leaves: every value kept, read by `extract`."""
    from penstock.propagation import extract

    found: dict[str, list[str]] = {}
    for name, value in headers:
        if name in _HTTP_HEADERS:
            found.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    remote = extract(found)
    if remote is None:
        return None
    info = remote_info(remote.parent_flow, remote.parent_step or "")
    return (remote.trace_id, remote.span_id, info, link, remote.sampled, remote.trace_state, None)


_HTTP_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


def stream_entry(entry: Entry) -> Entry:
    """The entry for the later parts of a streamed call: the same run, without the hop.

    So that a call shows one ``SERVER`` span, not one per part.
    """
    return entry if entry[6] is None else (*entry[:6], None)
