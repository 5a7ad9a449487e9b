"""W3C trace-context headers: judge untrusted values, and read and write the default headers.

Two jobs for :mod:`penstock.propagation`, which owns the public API:

- Incoming values are untrusted. :class:`SafeGetter` and :func:`clean` pass on only short,
  printable ASCII strings, and drop what OpenTelemetry's propagators would reject with a
  WARNING (a peer sending junk must not flood the logs).
- With the propagators OpenTelemetry configures by default (W3C trace context, then W3C
  baggage), penstock reads and writes those headers itself: byte for byte what
  :mod:`opentelemetry.propagate` would (tests compare both), at a fraction of the cost, which
  keeps a gRPC call or a Celery round trip within its overhead budget. Any other
  configuration, or a context that carries the application's own baggage, goes through
  :mod:`opentelemetry.propagate`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import partial
from operator import getitem
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from opentelemetry import context as _otel_context
from opentelemetry.propagators.textmap import Getter

from penstock._carriers import MAX_VALUE_BYTES, as_text
from penstock._runtime.steprun import StepRun

_log = logging.getLogger("penstock.propagation")

# opentelemetry.context.get_current() is two Python calls deep; its runtime context's own
# ContextVar answers the same (and this runs on every gRPC call).
_otel_current: Any = getattr(
    getattr(getattr(_otel_context, "_RUNTIME_CONTEXT", None), "_current_context", None),
    "get",
    _otel_context.get_current,
)

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
_MAX_BAGGAGE_PAIR = 4096

#: The header names penstock reads, as gRPC metadata keys (always lower-case on the wire).
_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})


# --- untrusted values ----------------------------------------------------------------------


def clean(key: str, values: object) -> list[str] | None:
    """The printable ASCII strings of at most :data:`MAX_VALUE_BYTES` among a getter's
    ``values`` (a getter that forgot the list is forgiven); ``None`` when none is left."""
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
    """Wraps a getter: never raises, and passes on only values :func:`clean` keeps."""

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
    return text.isascii() and text.isprintable()


def _check_traceparent(values: list[str]) -> list[str]:
    if len(values[0]) > _MAX_TRACEPARENT:
        _log.debug("penstock ignored an oversized traceparent header")
        return []
    return values


def check_tracestate(values: list[str]) -> list[str]:
    """The tracestate members as one normalized header; ``[]`` if any is malformed."""
    try:
        from opentelemetry.trace.span import _member_pattern
    except ImportError:  # pragma: no cover - a different API release: let OpenTelemetry judge
        return values
    members: list[str] = []
    keys: set[str] = set()
    for header in values:
        for raw in header.split(","):
            member = raw.strip(" \t")
            if not member:
                continue
            match = _member_pattern.fullmatch(member)
            if match is None or match.group(1) in keys:
                _log.debug("penstock ignored a malformed tracestate header")
                return []
            keys.add(match.group(1))
            members.append(member)
    text = ",".join(members)
    if len(members) > _MAX_TRACESTATE_MEMBERS or len(text) > _MAX_TRACESTATE_CHARS:
        _log.debug("penstock ignored an oversized tracestate header")
        return []
    return [text] if text else []


def _check_baggage(values: list[str]) -> list[str]:
    try:
        from opentelemetry.baggage import _is_valid_pair
    except ImportError:  # pragma: no cover - a different API release: let OpenTelemetry judge
        return values
    members = []
    for member in values[0].split(","):
        name, sep, value = member.partition("=")
        if sep and _is_valid_pair(name.strip(" \t"), value.strip(" \t")):
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


# --- OpenTelemetry's default propagators, without the detour ------------------------------

#: [the global propagator last checked, whether it is the default pair]
textmap_checked: list[Any] = [None, False]
#: Bound on the first check: OpenTelemetry's own traceparent pattern and baggage validator,
#: so that the fast path accepts exactly what OpenTelemetry accepts.
_traceparent_re: Any = None
_valid_pair: Any = None


def _global_textmap() -> Any:
    """``opentelemetry.propagate.get_global_textmap()`` (the module is imported on first use,
    then this name is rebound to :func:`textmap_reader`'s reader)."""
    global _global_textmap
    from opentelemetry import propagate

    _global_textmap = textmap_reader(propagate)
    return _global_textmap()


def textmap_reader(propagate: Any) -> Any:
    """A reader of the global propagator that runs no Python frame.

    ``get_global_textmap()`` returns the module's ``_HTTP_TEXT_FORMAT``, which
    ``set_global_textmap`` replaces; reading it through C (``partial`` of ``getitem``) saves
    a frame on every propagated call, where each costs a microsecond on a live server. If the
    API ever keeps it elsewhere, the function itself is used.
    """
    namespace = vars(propagate)
    if namespace.get("_HTTP_TEXT_FORMAT", namespace) is propagate.get_global_textmap():
        return partial(getitem, namespace, "_HTTP_TEXT_FORMAT")
    return propagate.get_global_textmap


def default_propagators() -> bool:
    """Whether the global propagator is OpenTelemetry's default pair (checked once per object)."""
    textmap = _global_textmap()
    if textmap is textmap_checked[0]:
        return bool(textmap_checked[1])
    global _traceparent_re, _valid_pair
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    valid_pair: Any = None
    pattern: Any = None
    try:
        from opentelemetry.baggage import _is_valid_pair as valid_pair

        pattern = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE
    except (ImportError, AttributeError):  # pragma: no cover - another API release
        pass
    inner = getattr(textmap, "_propagators", None)
    ok = (
        pattern is not None
        and type(textmap) is CompositePropagator
        and isinstance(inner, list)
        and [type(p) for p in inner] == [TraceContextTextMapPropagator, W3CBaggagePropagator]
    )
    _traceparent_re, _valid_pair = pattern, valid_pair
    textmap_checked[:] = [textmap, ok]
    return ok


#: (flow, step) -> the URL-encoded baggage members naming it.
_baggage_names: dict[tuple[str | None, str], str] = {}


#: (run, OpenTelemetry context, global propagator, names, headers) of the last cached_fields
#: call.
_last_fields: tuple[Any, Any, Any, bool, tuple[tuple[str, str], ...] | None] = (
    None,
    None,
    None,
    True,
    None,
)


def cached_fields(run: StepRun, names: bool = True) -> tuple[tuple[str, str], ...] | None:
    """:func:`default_fields` under the default propagators (``None`` under others), reused
    while the same run makes call after call.

    The headers depend only on the run (its ids and names never change), the OpenTelemetry
    context (immutable; a new object whenever something is attached) and the global
    propagator, so all three are compared by identity. The last ones are kept alive until
    the next call.
    """
    global _last_fields
    ctx = _otel_current()
    textmap = _global_textmap()
    last_run, last_ctx, last_textmap, last_names, fields = _last_fields
    if last_run is run and last_ctx is ctx and last_textmap is textmap and last_names is names:
        return fields
    ok = textmap_checked[1] if textmap is textmap_checked[0] else default_propagators()
    fields = default_fields(run, ctx, names) if ok else None
    _last_fields = (run, ctx, textmap, names, fields)
    return fields


def default_fields(
    run: StepRun, ctx: Any, names: bool = True
) -> tuple[tuple[str, str], ...] | None:
    """The headers the default propagators would write for ``run`` in the OpenTelemetry
    context ``ctx`` (with ``names``, penstock's baggage naming the step); ``None``: use the
    propagators.

    Kept flat: a client makes these for each call from a new step, and on a live client
    each frame costs several times what it costs in a loop.
    """
    # The ids are set by now for any step that started under a recording backend; the
    # properties make them otherwise.
    span_id = run._span_id or run.span_id
    trace_hex = run._corr or f"{run._trace_id or run.trace_id:032x}"
    flags = "01"
    state: str | None = None
    # An empty OpenTelemetry context (nothing attached: the logging and noop backends) has
    # neither baggage nor a current span: skip both look-ups.
    found = _otel_parent(run, ctx) if ctx else ()
    if found is None:
        return None  # the application's own baggage: let OpenTelemetry merge it
    if found:
        span_id, sampled, state = found
        flags = f"{sampled:02x}"
    else:
        origin: StepRun | None = run
        while origin is not None and not origin.remote:  # remote_origin(), inline
            origin = origin.parent
        if origin is not None:
            if not origin.sampled:
                flags = "00"
            if origin.trace_state:
                checked = check_tracestate([origin.trace_state])
                state = checked[0] if checked else None
    traceparent = ("traceparent", f"00-{trace_hex}-{span_id:016x}-{flags}")
    info = run.info
    if not (names and info.name):
        return (traceparent, ("tracestate", state)) if state else (traceparent,)
    members = _baggage_names.get((info.flow, info.name)) or _names_member(info.flow, info.name)
    if members is None:
        return None
    baggage = ("baggage", f"{BAGGAGE_TRACE}={trace_hex},{members}")
    return (traceparent, ("tracestate", state), baggage) if state else (traceparent, baggage)


def _otel_parent(run: StepRun, ctx: Any) -> tuple[int, int, str | None] | tuple[()] | None:
    """In a non-empty OpenTelemetry context: ``None`` if it carries baggage (the propagators
    must merge it); under the otel backend, the current span's ``(span_id, flags, state)``
    when it belongs to ``run``'s trace (the step's span or a descendant: the most precise
    parent); else ``()``."""
    from opentelemetry import baggage, trace

    if baggage.get_all(ctx):
        return None
    if getattr(run.active, "provides_ids", False):
        current = trace.get_current_span(ctx).get_span_context()
        if current.is_valid and current.trace_id == run.trace_id:
            state = current.trace_state.to_header() if len(current.trace_state) else None
            return current.span_id, int(current.trace_flags), state
    return ()


def _names_member(flow: str | None, name: str) -> str | None:
    members = [f"{BAGGAGE_STEP}={quote_plus(name)}"]
    if flow:
        members.append(f"{BAGGAGE_FLOW}={quote_plus(flow)}")
    if any(len(m) > _MAX_BAGGAGE_PAIR for m in members):
        return None
    if len(_baggage_names) > 4096:  # names of remote parents come from the wire
        _baggage_names.clear()
    names = _baggage_names[flow, name] = ",".join(members)
    return names


def remote_origin(run: StepRun) -> StepRun | None:
    """The remote parent ``run`` descends from, if any (its sampling decision applies)."""
    node: StepRun | None = run
    while node is not None:
        if node.remote:
            return node
        node = node.parent
    return None


def parse_default(
    traceparent: list[str] | None, tracestate: list[str] | None, baggage: list[str] | None
) -> tuple[int, int, int, str | None, dict[str, str]] | None:
    """What the default propagators would extract from header values that :func:`clean`
    kept, for the fields penstock uses: ``(trace_id, span_id, flags, tracestate, penstock's
    baggage items)``; ``None`` without a valid traceparent."""
    traceparent = precheck("traceparent", traceparent)
    if not traceparent:
        return None
    match = _traceparent_re.search(traceparent[0])
    if match is None:
        return None
    version, trace_hex, span_hex, flags_hex = match.group(1, 2, 3, 4)
    if version == "ff" or (version == "00" and match.group(5)):
        return None
    state = precheck("tracestate", tracestate)
    items = _penstock_items(baggage[0]) if baggage else {}
    return (
        int(trace_hex, 16),
        int(span_hex, 16),
        int(flags_hex, 16),
        state[0] if state else None,
        items,
    )


#: The baggage penstock writes: its trace id, then step and flow names as ``quote_plus`` makes
#: them (characters that are all valid W3C baggage values).
_OWN_BAGGAGE = re.compile(
    r"penstock\.trace=([0-9a-f]{32}),penstock\.step=([A-Za-z0-9_.~%+-]+)"
    r"(?:,penstock\.flow=([A-Za-z0-9_.~%+-]+))?"
)


def _decoded(value: str) -> str:
    return unquote_plus(value).strip() if "%" in value or "+" in value else value


def _penstock_items(header: str) -> dict[str, str]:
    """penstock's members of a baggage header, as OpenTelemetry would decode them.

    Only penstock's members matter here, so only they are validated; with more members than
    OpenTelemetry keeps, the whole header is checked first, as OpenTelemetry would count.
    """
    own = _OWN_BAGGAGE.fullmatch(header)
    if own is not None:
        # Exactly what penstock sends: valid by construction of the pattern.
        trace, name, flow = own.group(1, 2, 3)
        mine = {BAGGAGE_TRACE: trace, BAGGAGE_STEP: _decoded(name)}
        if flow is not None:
            mine[BAGGAGE_FLOW] = _decoded(flow)
        return mine
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
            elif _valid_pair(name, value):
                items[name] = unquote_plus(value).strip()
    return items


#: What penstock itself sends, matched whole on a server's hot path: version-00 traceparent,
#: and baggage whose names need no decoding (printable, at most MAX_NAME_CHARS). Anything
#: else takes the general path, which reaches the same result for these.
OWN_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
OWN_PLAIN_BAGGAGE = re.compile(
    r"penstock\.trace=([0-9a-f]{32}),penstock\.step=([A-Za-z0-9_.~-]{1,256})"
    r"(?:,penstock\.flow=([A-Za-z0-9_.~-]{1,256}))?"
)


def scan_metadata(metadata: Iterable[Any]) -> tuple[Any, ...] | None:
    """The ``traceparent``, ``tracestate`` and ``baggage`` values of gRPC metadata, as
    ``(name, text)`` pairs in one pass (``(key, str | bytes)`` items; keys compared case-blind,
    as the getter does); ``None`` when it has none of them."""
    found = None
    for item in metadata:
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        name = item[0]
        if not isinstance(name, str):
            continue
        name = name.lower()
        if name in _HEADERS:
            text = item[1]
            if type(text) is not str:
                text = as_text(text)
            if text is not None:
                if found is None:
                    found = []
                found.append((name, text))
    return None if found is None else tuple(found)


def parse_metadata(
    found: tuple[Any, ...],
) -> tuple[int, int, int, str | None, dict[str, str]] | None:
    """:func:`parse_default` of headers found by :func:`scan_metadata`."""
    if len(found) == 2 and found[0][0] == "traceparent" and found[1][0] == "baggage":
        # What penstock itself sends: skip sorting the headers by name.
        return parse_default(clean("traceparent", found[0][1]), None, clean("baggage", found[1][1]))
    by_name: dict[str, list[str]] = {}
    for name, text in found:
        by_name.setdefault(name, []).append(text)
    get = by_name.get
    return parse_default(
        clean("traceparent", get("traceparent")),
        clean("tracestate", get("tracestate")),
        clean("baggage", get("baggage")),
    )
