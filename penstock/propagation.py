"""Carry a run across processes as W3C Trace Context.

A producer calls :func:`inject` with a carrier (message headers, call metadata) and the
carrier's setter; a consumer calls :func:`extract` (or :func:`continue_from`) with the carrier
and its getter, and the steps it then calls continue the producer's run: same correlation ID,
same trace, parent = the producer's step.

Both go through :mod:`opentelemetry.propagate`, so the propagators a user configures with
``OTEL_PROPAGATORS`` apply (W3C ``traceparent``/``tracestate`` and ``baggage`` by default), and
they work the same under every penstock backend: under the logging backend the context carries
penstock's own ids (the trace id *is* the correlation ID), under the otel backend the current
span's.

Besides the trace context, :func:`inject` puts the sending step's name in W3C baggage
(``penstock.flow``, ``penstock.step``, and ``penstock.trace``, the trace id they belong to), so
the consumer's records can name their parent step (``parent_step``) and cross-process
transitions count as observed edges. Baggage travels only when the ``baggage`` propagator is
configured (it is by default); without it the run still continues, with ``parent_step`` unset.

Getter/setter pairs are provided for the carriers penstock's integrations use; each follows
OpenTelemetry's :class:`~opentelemetry.propagators.textmap.Getter` and
:class:`~opentelemetry.propagators.textmap.Setter`:

=================================  ==========================  ===========================
carrier                            getter                      setter
=================================  ==========================  ===========================
``dict[str, str]``                 :data:`dict_getter`         :data:`dict_setter`
Celery message headers / request   :data:`celery_getter`       :data:`dict_setter`
Kafka ``list[tuple[str, bytes]]``  :data:`kafka_getter`        :data:`kafka_setter`
gRPC metadata                      :data:`grpc_getter`         :data:`grpc_setter`
=================================  ==========================  ===========================

Incoming carriers are untrusted: malformed, oversized (> 8192 bytes per value), non-ASCII or
undecodable values, wrong types and all-zero ids are ignored with a debug log on the
``penstock.propagation`` logger, and :func:`extract` returns ``None`` (a fresh run starts).
Neither function ever raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote_plus

from opentelemetry.propagators.textmap import CarrierT, Getter, Setter

from penstock._runtime import StepRun, continue_remote, current_run

__all__ = [
    "CeleryGetter",
    "DictGetter",
    "DictSetter",
    "GrpcMetadataGetter",
    "GrpcMetadataSetter",
    "KafkaHeadersGetter",
    "KafkaHeadersSetter",
    "RemoteContext",
    "celery_getter",
    "continue_from",
    "dict_getter",
    "dict_setter",
    "extract",
    "grpc_getter",
    "grpc_setter",
    "inject",
    "kafka_getter",
    "kafka_setter",
]

_log = logging.getLogger("penstock.propagation")

#: The largest value penstock reads from a carrier (the W3C baggage limit; far above what a
#: valid traceparent or tracestate needs).
MAX_VALUE_BYTES = 8192
#: The longest step or flow name accepted from baggage.
MAX_NAME_CHARS = 256
#: Baggage keys penstock sets.
BAGGAGE_STEP = "penstock.step"
BAGGAGE_FLOW = "penstock.flow"
BAGGAGE_TRACE = "penstock.trace"

_MAX_TRACE_ID = (1 << 128) - 1
_MAX_SPAN_ID = (1 << 64) - 1


# --- carriers ------------------------------------------------------------------------------


class DictGetter(Getter[Mapping[str, Any]]):
    """Read a ``dict`` of ``str`` to ``str`` (other value types are skipped)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        """The value under ``key`` (exact, else lower-case), as a one-item list."""
        value = carrier.get(key)
        if value is None:
            value = carrier.get(key.lower())
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [v for v in value if isinstance(v, str)] or None
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        """The carrier's string keys."""
        return [k for k in carrier if isinstance(k, str)]


class DictSetter(Setter[MutableMapping[str, Any]]):
    """Write into a ``dict`` of ``str`` to ``str`` (Celery's message ``headers`` too)."""

    def set(self, carrier: MutableMapping[str, Any], key: str, value: str) -> None:
        """Set ``key``, replacing any previous value."""
        carrier[key] = value


class CeleryGetter(Getter[Any]):
    """Read a Celery ``task.request`` (or a message's ``headers`` dict).

    Celery 5.7 shows a custom message header both in ``request.headers`` and as an attribute
    of ``request``; older releases only as the attribute. Both are read.
    """

    def get(self, carrier: Any, key: str) -> list[str] | None:
        """The header ``key`` from ``request.headers``, else the request's attribute."""
        if isinstance(carrier, Mapping):
            return dict_getter.get(carrier, key)
        headers = getattr(carrier, "headers", None)
        if isinstance(headers, Mapping):
            found = dict_getter.get(headers, key)
            if found:
                return found
        attrs = getattr(carrier, "__dict__", None)
        if isinstance(attrs, Mapping):
            return dict_getter.get(attrs, key)
        return None

    def keys(self, carrier: Any) -> list[str]:
        """The message header names."""
        if isinstance(carrier, Mapping):
            return dict_getter.keys(carrier)
        headers = getattr(carrier, "headers", None)
        return dict_getter.keys(headers) if isinstance(headers, Mapping) else []


class KafkaHeadersGetter(Getter[Sequence[tuple[str, bytes]]]):
    """Read Kafka record headers: a sequence of ``(str, bytes)`` pairs, keys matched case-blind.

    The same shape is used by kafka-python, confluent-kafka and aiokafka.
    """

    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        """Every value under ``key``, decoded (values that are not bytes or text are skipped)."""
        wanted = key.lower()
        found: list[str] = []
        for item in carrier:
            if not isinstance(item, tuple) or len(item) != 2:
                continue
            name, value = item
            if not isinstance(name, str) or name.lower() != wanted:
                continue
            text = _text(value)
            if text is not None:
                found.append(text)
        return found or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        """The header names."""
        return [
            item[0]
            for item in carrier
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        ]


class KafkaHeadersSetter(Setter[list[tuple[str, bytes]]]):
    """Write into a Kafka headers list, replacing earlier headers of the same name."""

    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        """Drop existing ``key`` headers (any case), then append ``(key, value as bytes)``."""
        wanted = key.lower()
        carrier[:] = [
            item for item in carrier if not (isinstance(item[0], str) and item[0].lower() == wanted)
        ]
        carrier.append((key, value.encode("ascii", "strict")))


class GrpcMetadataGetter(Getter[Sequence[tuple[str, Any]]]):
    """Read gRPC metadata: ``(key, str | bytes)`` pairs; keys are lower-case on the wire."""

    def get(self, carrier: Sequence[tuple[str, Any]], key: str) -> list[str] | None:
        """Every value under ``key`` (``-bin`` keys carry bytes; both forms are decoded)."""
        return kafka_getter.get(carrier, key)

    def keys(self, carrier: Sequence[tuple[str, Any]]) -> list[str]:
        """The metadata keys."""
        return kafka_getter.keys(carrier)


class GrpcMetadataSetter(Setter[list[tuple[str, Any]]]):
    """Write into a gRPC metadata list (keys lower-cased, as gRPC requires)."""

    def set(self, carrier: list[tuple[str, Any]], key: str, value: str) -> None:
        """Drop existing ``key`` entries, then append ``(key.lower(), value)``."""
        wanted = key.lower()
        carrier[:] = [item for item in carrier if item[0] != wanted]
        carrier.append((wanted, value))


dict_getter = DictGetter()
dict_setter = DictSetter()
celery_getter = CeleryGetter()
kafka_getter = KafkaHeadersGetter()
kafka_setter = KafkaHeadersSetter()
grpc_getter = GrpcMetadataGetter()
grpc_setter = GrpcMetadataSetter()


def _text(value: object) -> str | None:
    """``value`` as text when it is ``str`` or ASCII ``bytes``; ``None`` otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        if len(value) > MAX_VALUE_BYTES:
            return None
        try:
            return bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    return None


class _SafeGetter(Getter[Any]):
    """Wraps a getter: never raises, and passes on only short, printable ASCII strings."""

    def __init__(self, inner: Getter[Any]) -> None:
        self.inner = inner

    def get(self, carrier: Any, key: str) -> list[str] | None:
        try:
            values = self.inner.get(carrier, key)
        except Exception as exc:
            _log.debug("penstock ignored header %r: the getter failed: %r", key, exc)
            return None
        if values is None:
            return None
        if isinstance(values, (str, bytes)):
            values = [values]  # a getter that forgot the list
        if not isinstance(values, (list, tuple)):
            _log.debug("penstock ignored header %r: the getter returned %r", key, type(values))
            return None
        clean = []
        for value in values:
            text = _text(value)
            if text is None or len(text) > MAX_VALUE_BYTES or not _printable_ascii(text):
                _log.debug("penstock ignored a malformed or oversized %r header", key)
                continue
            clean.append(text)
        if clean:
            # OpenTelemetry's propagators log a WARNING for each malformed header; a peer
            # sending junk must not flood the logs, so drop what they would reject, quietly.
            check = _PRECHECKS.get(key.lower())
            if check is not None:
                clean = check(clean)
        return clean or None

    def keys(self, carrier: Any) -> list[str]:
        try:
            keys = self.inner.keys(carrier)
            return [k for k in keys if isinstance(k, str) and _printable_ascii(k)]
        except Exception as exc:
            _log.debug("penstock could not list the carrier's keys: %r", exc)
            return []


def _printable_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()


#: The longest traceparent OpenTelemetry accepts (W3C version 00 needs 55 characters).
_MAX_TRACEPARENT = 512
#: W3C Trace Context: at most 32 tracestate members; propagate at least 512 characters.
_MAX_TRACESTATE_MEMBERS = 32
_MAX_TRACESTATE_CHARS = 512
#: W3C Baggage limits (also OpenTelemetry's).
_MAX_BAGGAGE_MEMBERS = 180


def _check_traceparent(values: list[str]) -> list[str]:
    if len(values[0]) > _MAX_TRACEPARENT:
        _log.debug("penstock ignored an oversized traceparent header")
        return []
    return values


def _check_tracestate(values: list[str]) -> list[str]:
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
    "tracestate": _check_tracestate,
    "baggage": _check_baggage,
}


# --- the remote context --------------------------------------------------------------------


class RemoteContext:
    """A validated trace context read from a carrier.

    Attributes:
        trace_id: 128-bit W3C trace id (non-zero); its 32-hex form is the correlation ID.
        span_id: 64-bit W3C span id of the sender (non-zero).
        trace_flags: the W3C trace-flags byte (bit 0: sampled).
        trace_state: the W3C ``tracestate`` header, re-serialized, or ``None``.
        parent_step: the sending penstock step's name, from baggage, or ``None``.
        parent_flow: that step's flow, or ``None``.
    """

    __slots__ = ("parent_flow", "parent_step", "span_id", "trace_flags", "trace_id", "trace_state")

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        trace_flags: int = 1,
        trace_state: str | None = None,
        parent_step: str | None = None,
        parent_flow: str | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        self.trace_state = trace_state
        self.parent_step = parent_step
        self.parent_flow = parent_flow

    @property
    def sampled(self) -> bool:
        """Whether the sender sampled the trace (W3C flag bit 0)."""
        return bool(self.trace_flags & 1)

    @property
    def correlation_id(self) -> str:
        """The run's correlation ID: the trace id as 32 lower-case hex digits."""
        return f"{self.trace_id:032x}"

    @property
    def traceparent(self) -> str:
        """The W3C ``traceparent`` header value of this context."""
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{self.trace_flags & 0xFF:02x}"

    def continue_run(self, *, link: bool = False) -> continue_remote:
        """A context manager in which steps continue this run (or, ``link=True``, link to it)."""
        return continue_remote(
            self.trace_id,
            self.span_id,
            sampled=self.sampled,
            trace_state=self.trace_state,
            parent_step=self.parent_step,
            parent_flow=self.parent_flow,
            link=link,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteContext):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash(self.traceparent)

    def __repr__(self) -> str:
        step = f" from {self.parent_flow}.{self.parent_step}" if self.parent_step else ""
        return f"<RemoteContext {self.traceparent}{step}>"


# --- inject / extract ----------------------------------------------------------------------


def inject(carrier: CarrierT, setter: Setter[CarrierT] = dict_setter) -> bool:  # type: ignore[assignment]
    """Write the current run's context into ``carrier`` (no-op outside a run).

    Args:
        carrier: the outgoing headers or metadata; changed in place.
        setter: how to write into it (default: a ``dict``).

    Returns:
        Whether a context was written.
    """
    try:
        run = current_run()
        if run is None:
            return False
        if _default_propagators():
            fields = _default_fields(run)
            if fields is not None:
                for key, value in fields:
                    setter.set(carrier, key, value)
                return True
        from opentelemetry import propagate

        propagate.inject(carrier, context=_context_of(run), setter=setter)
        return True
    except Exception as exc:
        _log.debug("penstock could not inject the trace context: %r", exc, exc_info=True)
        return False


def extract(carrier: Any, getter: Getter[Any] = dict_getter) -> RemoteContext | None:
    """Read a trace context from an incoming ``carrier``.

    Args:
        carrier: the incoming headers or metadata (any object ``getter`` understands).
        getter: how to read it (default: a ``dict``).

    Returns:
        The validated context, or ``None`` when the carrier has none, or a malformed one.
    """
    try:
        if carrier is None:
            return None
        safe = _SafeGetter(getter)
        if _default_propagators():
            return _extract_default(carrier, safe)
        from opentelemetry import baggage, propagate, trace
        from opentelemetry.context import Context

        # An empty base context: otherwise a span current in *this* process would be
        # mistaken for one read from the carrier.
        ctx = propagate.extract(carrier, context=Context(), getter=safe)
        sc = trace.get_current_span(ctx).get_span_context()
        if not sc.is_valid or not sc.is_remote:
            return None
        state = sc.trace_state.to_header() if len(sc.trace_state) else None
        return _remote(sc.trace_id, sc.span_id, int(sc.trace_flags), state, baggage.get_all(ctx))
    except Exception as exc:
        _log.debug("penstock ignored an unreadable trace context: %r", exc, exc_info=True)
        return None


def _remote(
    trace_id: int, span_id: int, flags: int, state: str | None, items: Mapping[str, object]
) -> RemoteContext | None:
    if not (0 < trace_id <= _MAX_TRACE_ID and 0 < span_id <= _MAX_SPAN_ID):
        return None
    step = flow = None
    if _name(items.get(BAGGAGE_TRACE)) == f"{trace_id:032x}":
        step = _name(items.get(BAGGAGE_STEP))
        flow = _name(items.get(BAGGAGE_FLOW)) if step else None
    return RemoteContext(trace_id, span_id, flags & 0xFF, state or None, step, flow)


# --- OpenTelemetry's default propagators, without the detour ------------------------------
#
# With the propagators OpenTelemetry configures by default (W3C trace context, then W3C
# baggage), penstock reads and writes those headers itself: byte for byte what
# opentelemetry.propagate would (a test compares both), at a fifth of the cost, which keeps
# a gRPC call or a Celery round trip within its overhead budget. Any other configuration,
# or a context that carries the application's own baggage, goes through opentelemetry.propagate.

_textmap_checked: list[Any] = [None, False]


def _global_textmap() -> Any:
    """``opentelemetry.propagate.get_global_textmap()`` (the module is imported on first use)."""
    global _global_textmap
    from opentelemetry import propagate

    _global_textmap = propagate.get_global_textmap
    return propagate.get_global_textmap()


def _default_propagators() -> bool:
    """Whether the global propagator is OpenTelemetry's default pair (checked once per object)."""
    textmap = _global_textmap()
    if textmap is _textmap_checked[0]:
        return bool(_textmap_checked[1])
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    inner = getattr(textmap, "_propagators", None)
    ok = (
        type(textmap) is CompositePropagator
        and isinstance(inner, list)
        and [type(p) for p in inner] == [TraceContextTextMapPropagator, W3CBaggagePropagator]
    )
    _textmap_checked[:] = [textmap, ok]
    return ok


#: (flow, step) -> the URL-encoded baggage members naming it.
_baggage_names: dict[tuple[str | None, str], str] = {}
#: OpenTelemetry's baggage limit per member; longer ones it drops (the slow path does that).
_MAX_BAGGAGE_PAIR = 4096


def _default_fields(run: StepRun) -> list[tuple[str, str]] | None:
    """The headers the default propagators would write for ``run``; ``None``: use them."""
    from opentelemetry import baggage, trace
    from opentelemetry import context as otel_context

    base = otel_context.get_current()
    if baggage.get_all(base):
        return None  # the application's own baggage: let OpenTelemetry merge it
    trace_id, span_id = run.trace_id, run.span_id
    current = trace.get_current_span(base).get_span_context()
    state: str | None
    if (
        getattr(run.active, "provides_ids", False)
        and current.is_valid
        and (current.trace_id == trace_id)
    ):
        trace_id, span_id, flags = current.trace_id, current.span_id, int(current.trace_flags)
        state = current.trace_state.to_header() if len(current.trace_state) else None
    else:
        origin = _remote_origin(run)
        flags = 1 if origin is None or origin.sampled else 0
        state = None
        if origin is not None and origin.trace_state:
            checked = _check_tracestate([origin.trace_state])
            state = checked[0] if checked else None
    fields = [("traceparent", f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}")]
    if state:
        fields.append(("tracestate", state))
    info = run.info
    if info.name:
        key = (info.flow, info.name)
        names = _baggage_names.get(key)
        if names is None:
            from urllib.parse import quote_plus

            members = [f"{BAGGAGE_STEP}={quote_plus(info.name)}"]
            if info.flow:
                members.append(f"{BAGGAGE_FLOW}={quote_plus(info.flow)}")
            if any(len(m) > _MAX_BAGGAGE_PAIR for m in members):
                return None
            names = ",".join(members)
            if len(_baggage_names) > 4096:  # names of remote parents come from the wire
                _baggage_names.clear()
            _baggage_names[key] = names
        fields.append(("baggage", f"{BAGGAGE_TRACE}={trace_id:032x},{names}"))
    return fields


def _extract_default(carrier: Any, getter: _SafeGetter) -> RemoteContext | None:
    """What the default propagators would extract, for the fields penstock uses."""
    header = getter.get(carrier, "traceparent")
    if not header:
        return None
    match = _traceparent_re().search(header[0])
    if match is None:
        return None
    version, trace_hex, span_hex, flags_hex = match.group(1, 2, 3, 4)
    if version == "ff" or (version == "00" and match.group(5)):
        return None
    trace_id, span_id = int(trace_hex, 16), int(span_hex, 16)
    state_header = getter.get(carrier, "tracestate")
    state = state_header[0] if state_header else None  # already normalized by the pre-check
    items: dict[str, str] = {}
    for values in getter.get(carrier, "baggage") or ():
        for member in values.split(","):
            name, _, value = member.partition("=")
            name = name.strip(" \t")
            if name in _PENSTOCK_KEYS:
                items[unquote_plus(name).strip()] = unquote_plus(value.strip(" \t")).strip()
    return _remote(trace_id, span_id, int(flags_hex, 16), state, items)


_PENSTOCK_KEYS = frozenset({BAGGAGE_STEP, BAGGAGE_FLOW, BAGGAGE_TRACE})


def _traceparent_re() -> Any:
    """OpenTelemetry's own traceparent pattern (looked up once)."""
    global _traceparent_re
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    pattern = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE

    def cached() -> Any:
        return pattern

    _traceparent_re = cached
    return pattern


@contextmanager
def continue_from(
    carrier: Any, getter: Getter[Any] = dict_getter, *, link: bool = False
) -> Iterator[RemoteContext | None]:
    """Continue the run found in ``carrier`` while the block runs (a fresh run if none).

    Args:
        carrier: the incoming headers or metadata.
        getter: how to read it.
        link: start a new run linked to the remote one instead of continuing it.

    Yields:
        The remote context, or ``None`` when the carrier has none (steps then start new runs).
    """
    remote = extract(carrier, getter)
    if remote is None:
        yield None
        return
    with remote.continue_run(link=link):
        yield remote


def _name(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable():
        return value
    return None


def _context_of(run: StepRun) -> Any:
    """The OpenTelemetry context to inject for ``run``, with penstock's baggage."""
    from opentelemetry import baggage, trace
    from opentelemetry import context as otel_context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

    base = otel_context.get_current()
    trace_id, span_id = run.trace_id, run.span_id
    current = trace.get_current_span(base).get_span_context()
    if (
        getattr(run.active, "provides_ids", False)
        and current.is_valid
        and (current.trace_id == trace_id)
    ):
        # otel backend: the current span is the step's span or a descendant of it (say the
        # producer span of an OpenTelemetry instrumentation): the most precise parent.
        ctx = base
    else:
        origin = _remote_origin(run)
        sampled = origin.sampled if origin is not None else True
        state = origin.trace_state if origin is not None else None
        span_context = SpanContext(
            trace_id=trace_id,
            span_id=span_id,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
            trace_state=TraceState.from_header([state]) if state else None,
        )
        ctx = trace.set_span_in_context(NonRecordingSpan(span_context), base)
    info = run.info
    if info.name:
        ctx = baggage.set_baggage(BAGGAGE_TRACE, f"{trace_id:032x}", ctx)
        ctx = baggage.set_baggage(BAGGAGE_STEP, info.name, ctx)
        if info.flow:
            ctx = baggage.set_baggage(BAGGAGE_FLOW, info.flow, ctx)
        else:
            ctx = baggage.remove_baggage(BAGGAGE_FLOW, ctx)
    return ctx


def _remote_origin(run: StepRun) -> StepRun | None:
    """The remote parent this run descends from, if any (its sampling decision applies)."""
    node: StepRun | None = run
    while node is not None:
        if node.remote:
            return node
        node = node.parent
    return None
