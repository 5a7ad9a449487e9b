"""Runs continued from another process: a remote parent made current while a block runs.

Integrations (``penstock.propagation``, ``penstock.contrib``, a user's own) read a trace context
from a carrier and continue the run it names with `continue_remote` (public in
``penstock.propagation``), which enters and leaves it with `enter_remote`/`exit_remote`.
"""

from __future__ import annotations

from penstock._runtime import lifecycle
from penstock._runtime.active import IDLE, hook_failed
from penstock._runtime.backend import StepRun
from penstock._runtime.stepinfo import StepInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType
    from typing import Any

__all__ = [
    "RunScope",
    "continue_remote",
    "continuing",
    "enter_remote",
    "exit_remote",
    "remote_info",
]

# The ContextVar's own methods: no Python frame on the per-message path.
_set_current = lifecycle.CURRENT.set
_reset_current = lifecycle.CURRENT.reset


class _RemoteRun(StepRun):
    """The parent that steps continuing a remote run see.

    Made with ``object.__new__`` and class defaults, without an ``__init__`` call: a server
    makes one per call it receives.
    """

    remote = True
    status = "remote"
    parent = None
    _active = IDLE
    #: ``(kind, attributes)`` of the hop that brought the run ("consumer" or "server", and
    #: e.g. messaging or RPC attributes), for the first step that continues it; or ``None``.
    hop: tuple[str, Mapping[str, Any]] | None = None


_new_remote = object.__new__


def enter_remote(entry: tuple[Any, ...]) -> Any:
    """Make the remote run of ``entry`` current, as entering `continue_remote` does.

    `exit_remote` undoes it.

    Args:
        entry: ``(trace_id, span_id, StepInfo of the remote step, link, sampled,
            tracestate, hop)``, as `continue_remote` makes it.

    Returns:
        What `exit_remote` needs; call it in the same context, also when the code raised.
    """
    trace_id, span_id, info, link, sampled, trace_state, hop = entry
    run = _new_remote(_RemoteRun)
    run._info = info
    run._trace_id = trace_id
    run._span_id = span_id
    if link:
        run.link = True
    if not sampled:
        run.sampled = False
    if trace_state is not None:
        run.trace_state = trace_state
    if hop is not None:
        run.hop = hop
    token = _set_current(run)
    active = lifecycle.ACTIVE
    if active is None:
        active = lifecycle.resolve()
    if lifecycle.RECHECK is not None:
        active = lifecycle.recheck()
    attach = active.attach_remote
    if attach is None or link:
        return token
    # The otel backend makes the remote span current, so that spans of other
    # instrumentations inside the block join the remote trace too.
    try:
        return (token, active, attach(step=run))
    except Exception as exc:
        hook_failed(active.backend, "attach_remote", exc)
        return token


def exit_remote(entered: Any) -> None:
    """Undo `enter_remote`: what was current before is current again.

    Args:
        entered: what `enter_remote` returned.
    """
    if type(entered) is tuple:
        entered, active, attach_token = entered
        detach = active.detach_remote
        if detach is not None:
            try:
                detach(token=attach_token)
            except Exception as exc:
                hook_failed(active.backend, "detach_remote", exc)
    try:
        _reset_current(entered)
    except (ValueError, RuntimeError):
        lifecycle.restore(entered)


class continue_remote:
    """Continue a run that another process started (or link to it), while the block runs.

    Steps called directly inside the block continue the remote run: same correlation ID and
    trace id, their parent is the remote span ``span_id`` (named ``parent_step`` in records).
    With ``link=True`` each of them starts a new run instead, whose record carries a link to
    the remote one (an OpenTelemetry span link; ``linked_correlation_id`` in log records).
    Leaving the block restores the previous state even if no step ran.

    Args:
        trace_id: the remote 128-bit trace id.
        span_id: the remote 64-bit span id (the parent of the next step).
        sampled: the remote sampling decision (W3C ``trace-flags``).
        trace_state: the remote W3C ``tracestate`` header, if any.
        parent_step: the remote step's name.
        parent_flow: the remote step's flow.
        link: start a new run linked to the remote one rather than continue it.
        kind: how the run came: ``"consumer"`` (a message: Celery, Kafka...) or ``"server"``
            (a call: gRPC, HTTP...); the otel backend gives the first step that continues it
            that span kind (``CONSUMER``/``SERVER``) unless another instrumentation already
            made the span of the hop. ``None``: ``INTERNAL``.
        attributes: span attributes of the hop for that first step (``messaging.system``,
            ``rpc.method``...).
    """

    __slots__ = ("_args", "_entered")

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        *,
        sampled: bool = True,
        trace_state: str | None = None,
        parent_step: str | None = None,
        parent_flow: str | None = None,
        link: bool = False,
        kind: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        info = remote_info(parent_flow, parent_step or "")
        hop = None if kind is None else (kind, dict(attributes or {}))
        self._args = (trace_id, span_id, info, link, sampled, trace_state, hop)
        self._entered: Any = None

    def __enter__(self) -> None:
        self._entered = enter_remote(self._args)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entered, self._entered = self._entered, None
        if entered is not None:
            exit_remote(entered)


def continuing(entry: tuple[Any, ...]) -> continue_remote:
    """A `continue_remote` block for a ready entry, as ``__init__`` would make it.

    For `penstock.propagation.RemoteContext.continue_run`, which has its parts at hand (one
    block per received call or message): no look-up, no copy.
    """
    block = _new_block(continue_remote)
    block._args = entry
    block._entered = None
    return block


_new_block = object.__new__

remote_infos: dict[tuple[str | None, str], StepInfo] = {}


def remote_info(flow: str | None, step: str) -> StepInfo:
    """One shared StepInfo per remote (flow, step), so drift checks run once per transition."""
    key = (flow, step)
    info = remote_infos.get(key)
    if info is None:
        if len(remote_infos) > 4096:  # names come from the wire: keep the cache bounded
            remote_infos.clear()
        info = remote_infos[key] = StepInfo(None, flow, step)
    return info


class RunScope:
    """The run a block of code belongs to: the one it continues, or the first one it starts.

    A server integration opens one around a request to answer with the run's correlation ID
    (an ``X-Correlation-ID`` response header): when the request continues a remote run the ID
    is known at once; otherwise it is the ID of the first run an entrypoint starts inside the
    block, known from that moment on. Public as `penstock.propagation.RunScope`.

    Example:
        >>> with RunScope() as scope:
        ...     handle_request()
        >>> scope.correlation_id  # None if no run was continued or started
    """

    __slots__ = ("_outer", "_started", "_token")

    def __init__(self) -> None:
        self._started: list[StepRun] = []
        self._outer: StepRun | None = None
        self._token: Any = None

    def __enter__(self) -> RunScope:
        lifecycle.SCOPED = True
        self._outer = lifecycle.CURRENT.get()
        self._token = lifecycle.SCOPE.set(self._started)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is not None:
            try:
                lifecycle.SCOPE.reset(token)
            except (ValueError, RuntimeError):  # left in another context: put back its value
                lifecycle.SCOPE.set(
                    token.old_value if token.old_value is not token.MISSING else None
                )

    @property
    def correlation_id(self) -> str | None:
        """The run's correlation ID (32 hex digits), or ``None`` while there is none."""
        if self._outer is not None:
            return self._outer.correlation_id
        if self._started:
            return self._started[0].correlation_id
        return None
