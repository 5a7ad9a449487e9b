"""A remote run to continue: the context read from a carrier, and the hot path's entry.

`enter_remote` and `exit_remote` are the run state's own functions, re-exported by
`penstock.propagation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from penstock._runtime.remote import continue_remote, remote_info, remote_infos

RemoteEntry = tuple[Any, ...]
"""A remote run ready to be entered by `enter_remote` (continued, or linked to).

Opaque: make one with `remote_entry`, `RemoteContext.entry` or `extract_entry`. It can be
entered any number of times, from any thread (a server reuses one for calls that bring the
same context).
"""
RemoteToken = object
"""What `enter_remote` returns and `exit_remote` takes. Opaque."""

_UNNAMED = remote_info(None, "")


def remote_entry(
    trace_id: int,
    span_id: int,
    *,
    sampled: bool = True,
    trace_state: str | None = None,
    parent_step: str | None = None,
    parent_flow: str | None = None,
    link: bool = False,
    kind: Literal["consumer", "server"] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RemoteEntry:
    """A remote run to continue with `enter_remote` (what `continue_remote` enters).

    Args:
        trace_id: the remote 128-bit trace id (non-zero).
        span_id: the remote 64-bit span id, the parent of the next step (non-zero).
        sampled: the remote sampling decision (W3C trace-flags bit 0).
        trace_state: the remote W3C ``tracestate`` header, if any.
        parent_step: the remote step's name, if known.
        parent_flow: the remote step's flow, if known.
        link: start new runs linked to the remote one instead of continuing it.
        kind: how the run came, for the span kind of the first step that continues it
            (see `continue_remote`): ``"consumer"`` or ``"server"``.
        attributes: span attributes of the hop for that step (``messaging.system``...).

    Returns:
        The entry; make it once and enter it as often as needed.
    """
    key = (parent_flow, parent_step or "")
    info = remote_infos.get(key) or remote_info(*key)
    return (trace_id, span_id, info, link, sampled, trace_state, hop_of(kind, attributes))


def hop_of(
    kind: str | None, attributes: Mapping[str, Any] | None
) -> tuple[str, Mapping[str, Any]] | None:
    """The hop part of an entry (``attributes`` is kept, not copied: do not change it)."""
    if kind is None:
        return None
    if kind != "consumer" and kind != "server":
        raise ValueError(f"kind={kind!r}: expected 'consumer' or 'server'")
    return (kind, attributes if attributes is not None else _NO_ATTRIBUTES)


_NO_ATTRIBUTES: Mapping[str, Any] = {}


def stream_entry(entry: RemoteEntry) -> RemoteEntry:
    """The entry for the later parts of a streamed call or message (gRPC streamed responses).

    The same run, without the hop's span kind, so that a call shows one ``SERVER`` (or
    ``CONSUMER``) span, not one per part.

    Args:
        entry: the call's entry, as entered for its first part.
    """
    return entry if entry[6] is None else (*entry[:6], None)


class RemoteContext:
    """A validated trace context read from a carrier.

    Attributes:
        trace_id: 128-bit W3C trace id (non-zero); its 32-hex form is the correlation ID.
        span_id: 64-bit W3C span id of the sender (non-zero).
        trace_flags: the W3C trace-flags byte (bit 0: sampled).
        trace_state: the W3C ``tracestate`` header, normalized, or ``None``.
        parent_step: the sending penstock step's name, from baggage, or ``None``.
        parent_flow: that step's flow, or ``None``.
    """

    __slots__ = (
        "_entry",
        "parent_flow",
        "parent_step",
        "span_id",
        "trace_flags",
        "trace_id",
        "trace_state",
    )
    _FIELDS = ("trace_id", "span_id", "trace_flags", "trace_state", "parent_step", "parent_flow")

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
        # Made once: a server reuses this context for every call that brings the same one.
        self._entry = remote_entry(
            trace_id,
            span_id,
            sampled=bool(trace_flags & 1),
            trace_state=trace_state,
            parent_step=parent_step,
            parent_flow=parent_flow,
        )

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

    def continue_run(
        self,
        *,
        link: bool = False,
        kind: Literal["consumer", "server"] | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> continue_remote:
        """A context manager in which steps continue this run (or, ``link=True``, link to it).

        Args:
            link: start a new run linked to this one instead of continuing it.
            kind: how the run came (see `continue_remote`).
            attributes: span attributes of the hop (see `continue_remote`).
        """
        return continue_remote(
            self.trace_id,
            self.span_id,
            sampled=bool(self.trace_flags & 1),
            trace_state=self.trace_state,
            parent_step=self.parent_step,
            parent_flow=self.parent_flow,
            link=link,
            kind=kind,
            attributes=attributes,
        )

    def entry(
        self,
        *,
        link: bool = False,
        kind: Literal["consumer", "server"] | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> RemoteEntry:
        """This context as a `RemoteEntry`, for `enter_remote`.

        Args:
            link: start new runs linked to this one instead of continuing it.
            kind: how the run came (see `continue_remote`).
            attributes: span attributes of the hop (see `continue_remote`).
        """
        entry = self._entry
        if not link and kind is None:
            return entry
        return (*entry[:3], link, *entry[4:6], hop_of(kind, attributes))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteContext):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __hash__(self) -> int:
        return hash(self.traceparent)

    def __repr__(self) -> str:
        step = f" from {self.parent_flow}.{self.parent_step}" if self.parent_step else ""
        return f"<RemoteContext {self.traceparent}{step}>"
