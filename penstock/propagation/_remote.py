"""A remote run to continue: the context read from a carrier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from penstock._runtime.remote import continue_remote, continuing, remote_info, remote_infos


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
        "_info",
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
        #: The remote step's shared StepInfo, looked up at the first continue_run.
        self._info: Any = None

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
            attributes: span attributes of the hop (see `continue_remote`); used as given,
                not copied (an integration passes the same dict call after call): do not
                change it afterwards.

        Raises:
            ValueError: ``kind`` is neither ``"consumer"`` nor ``"server"`` (nor ``None``).
        """
        # Made for every call a server receives: no copies, the remote step looked up once.
        info = self._info
        if info is None:
            key = (self.parent_flow, self.parent_step or "")
            info = self._info = remote_infos.get(key) or remote_info(*key)
        if kind is None:
            hop = None
        elif kind == "server" or kind == "consumer":
            hop = (kind, attributes if attributes is not None else _NO_ATTRIBUTES)
        else:
            raise ValueError(f"kind={kind!r}: expected 'consumer' or 'server'")
        return continuing(
            (
                self.trace_id,
                self.span_id,
                info,
                link,
                bool(self.trace_flags & 1),
                self.trace_state,
                hop,
            )
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteContext):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __hash__(self) -> int:
        return hash(self.traceparent)

    def __repr__(self) -> str:
        step = f" from {self.parent_flow}.{self.parent_step}" if self.parent_step else ""
        return f"<RemoteContext {self.traceparent}{step}>"


_NO_ATTRIBUTES: Mapping[str, Any] = {}
