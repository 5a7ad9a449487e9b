"""gRPC: calls made inside a run carry it to the server, which continues it.

Two ways to set it up, sync and ``grpc.aio`` alike. The fastest passes the metadata by hand and
wraps the server's handlers once, at registration, so that no interceptor runs per call::

    reply = stub.GetOrder(request, metadata=metadata())               # client
    server.add_generic_rpc_handlers((wrap_handler(generic_handler),))  # server

or decorate the servicer's methods with :func:`continue_call`. The interceptors do the same
for every call of a channel or server, at the cost of gRPC's interceptor machinery::

    channel = intercept_channel(grpc.insecure_channel(target))
    aio_channel = grpc.aio.insecure_channel(target, interceptors=aio_client_interceptors())
    server = grpc.server(pool, interceptors=[ServerInterceptor()])
    aio_server = grpc.aio.server(interceptors=[AioServerInterceptor()])

The client side writes the current run's W3C trace context into the call's metadata
(lower-case keys ``traceparent``, ``tracestate``, ``baggage``); outside a run it adds nothing.
The server side reads it and runs the method handler (and, for streamed responses, each step of
the response iterator) inside the remote run, so the steps the handler calls have the client's
correlation ID and the client's step as parent (``link=True`` starts linked runs instead).
Metadata that is missing, malformed or hostile is ignored and the handler runs as a fresh run;
penstock never fails a call.
"""

from __future__ import annotations

import collections
import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar, overload

import grpc
import grpc.aio
from opentelemetry import propagate as _propagate

from penstock import _w3c
from penstock._runtime.lifecycle import current_run
from penstock._runtime.remote import enter_remote, exit_remote, remote_info
from penstock._runtime.remote import remote_infos as _infos
from penstock.propagation import RemoteContext, extract, grpc_getter, grpc_setter, inject

__all__ = [
    "AioServerInterceptor",
    "ClientInterceptor",
    "ServerInterceptor",
    "aio_client_interceptors",
    "continue_call",
    "intercept_channel",
    "metadata",
    "wrap_handler",
    "wrap_server",
]

_log = logging.getLogger("penstock.contrib.grpc")

TYPE_CHECKING = False
if TYPE_CHECKING:
    # grpc-stubs declares these generic; at run time they are plain classes.
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.UnaryStreamClientInterceptor[Any, Any]
    _StreamUnary = grpc.StreamUnaryClientInterceptor[Any, Any]
    _StreamStream = grpc.StreamStreamClientInterceptor[Any, Any]
    _Server = grpc.ServerInterceptor[Any, Any]
    _AioUnaryUnaryBase = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _AioUnaryStreamBase = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
    _AioStreamUnaryBase = grpc.aio.StreamUnaryClientInterceptor[Any, Any]
    _AioStreamStreamBase = grpc.aio.StreamStreamClientInterceptor[Any, Any]
    _AioServer = grpc.aio.ServerInterceptor[Any, Any]
    _Generic = grpc.GenericRpcHandler[Any, Any]
else:
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.UnaryStreamClientInterceptor
    _StreamUnary = grpc.StreamUnaryClientInterceptor
    _StreamStream = grpc.StreamStreamClientInterceptor
    _Server = grpc.ServerInterceptor
    _AioUnaryUnaryBase = grpc.aio.UnaryUnaryClientInterceptor
    _AioUnaryStreamBase = grpc.aio.UnaryStreamClientInterceptor
    _AioStreamUnaryBase = grpc.aio.StreamUnaryClientInterceptor
    _AioStreamStreamBase = grpc.aio.StreamStreamClientInterceptor
    _AioServer = grpc.aio.ServerInterceptor
    _Generic = grpc.GenericRpcHandler


# --- client --------------------------------------------------------------------------------


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    """Sync call details with new metadata (``grpc.ClientCallDetails`` is abstract)."""


def _outgoing(existing: Any, names: bool) -> Any:
    """The metadata to send: ``existing`` plus the current run's context, or ``existing``
    itself outside a run (or if it cannot be extended)."""
    try:
        run = current_run()
        if run is None:
            return existing
        if not existing:
            fields = _w3c.cached_fields(run, names)
            if fields is not None:
                return fields
        carrier: list[tuple[str, Any]] = list(existing or ())
        return carrier if inject(carrier, grpc_setter, names=names) else existing
    except Exception as exc:  # odd metadata: send the call as it is
        _log.debug("penstock could not add trace metadata to a gRPC call: %r", exc)
        return existing


def metadata(existing: Any = None, *, names: bool = False) -> list[tuple[str, Any]]:
    """Call metadata carrying the current run, for calls made without the interceptors.

    ``stub.Method(request, metadata=metadata())`` does what :class:`ClientInterceptor` does,
    without gRPC's interceptor machinery.

    Args:
        existing: metadata to send as well (penstock replaces only its own keys).
        names: also name the calling step (W3C baggage), so that the server's records
            carry ``parent_step`` and the call counts as an observed edge. Off by default
            for gRPC: each metadata entry costs gRPC itself about 4 us per call.

    Returns:
        A new list; outside a run, a copy of ``existing`` (or an empty list).
    """
    if not existing:  # the common case, kept short: it runs on every call
        run = current_run()
        if run is None:
            return []
        fields = _w3c.cached_fields(run, names)
        if fields is not None:
            return list(fields)
    return list(_outgoing(existing, names) or ())


def _sync_details(details: Any, names: bool) -> Any:
    metadata = _outgoing(details.metadata, names)
    if metadata is details.metadata:
        return details
    return _CallDetails(
        details.method,
        details.timeout,
        metadata,
        details.credentials,
        getattr(details, "wait_for_ready", None),
        getattr(details, "compression", None),
    )


class ClientInterceptor(_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream):
    """Adds the current run's context to every call's metadata (sync channels).

    For ``grpc.intercept_channel(channel, ClientInterceptor(), ...)``, next to other
    interceptors; alone, :func:`intercept_channel` does the same at less cost.

    Args:
        names: also name the calling step (see :func:`metadata`).
    """

    def __init__(self, *, names: bool = False) -> None:
        self.names = names

    def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        """Unary request, unary response."""
        return continuation(_sync_details(client_call_details, self.names), request)

    def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        """Unary request, streamed response."""
        return continuation(_sync_details(client_call_details, self.names), request)

    def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        """Streamed request, unary response."""
        return continuation(_sync_details(client_call_details, self.names), request_iterator)

    def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        """Streamed request, streamed response."""
        return continuation(_sync_details(client_call_details, self.names), request_iterator)


class _Carrying:
    """A channel's multi-callable whose calls carry the current run in their metadata.

    gRPC's own interceptor path builds call details, a continuation and an outcome object per
    call, which costs more than the context itself; this only swaps the ``metadata`` argument.
    """

    __slots__ = ("_inner", "_names")

    def __init__(self, inner: Any, names: bool) -> None:
        self._inner = inner
        self._names = names

    # gRPC's multi-callable signature, spelled out: no packing of *args/**kwargs per call.
    def __call__(
        self,
        request: Any,
        timeout: Any = None,
        metadata: Any = None,
        credentials: Any = None,
        wait_for_ready: Any = None,
        compression: Any = None,
    ) -> Any:
        sent = _outgoing(metadata, self._names)
        return self._inner(request, timeout, sent, credentials, wait_for_ready, compression)

    def with_call(
        self, request: Any, timeout: Any = None, metadata: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        """As the wrapped multi-callable's ``with_call``."""
        sent = _outgoing(metadata, self._names)
        return self._inner.with_call(request, timeout, sent, *args, **kwargs)

    def future(
        self, request: Any, timeout: Any = None, metadata: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        """As the wrapped multi-callable's ``future``."""
        return self._inner.future(
            request, timeout, _outgoing(metadata, self._names), *args, **kwargs
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"<penstock carrying {self._inner!r}>"


class _CarryingChannel(grpc.Channel):
    """A sync channel whose calls carry the current run (see :func:`intercept_channel`)."""

    def __init__(self, channel: grpc.Channel, names: bool) -> None:
        self._channel = channel
        self._names = names

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The wrapped channel's multi-callable, carrying the run."""
        return _Carrying(self._channel.unary_unary(method, *args, **kwargs), self._names)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The wrapped channel's multi-callable, carrying the run."""
        return _Carrying(self._channel.unary_stream(method, *args, **kwargs), self._names)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The wrapped channel's multi-callable, carrying the run."""
        return _Carrying(self._channel.stream_unary(method, *args, **kwargs), self._names)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The wrapped channel's multi-callable, carrying the run."""
        return _Carrying(self._channel.stream_stream(method, *args, **kwargs), self._names)

    def subscribe(self, callback: Any, try_to_connect: bool = False) -> None:
        """As the wrapped channel's ``subscribe``."""
        self._channel.subscribe(callback, try_to_connect=try_to_connect)

    def unsubscribe(self, callback: Any) -> None:
        """As the wrapped channel's ``unsubscribe``."""
        self._channel.unsubscribe(callback)

    def close(self) -> None:
        """Close the wrapped channel."""
        self._channel.close()

    def __enter__(self) -> _CarryingChannel:
        self._channel.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._channel.__exit__(*exc_info)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)

    def __repr__(self) -> str:
        return f"<penstock carrying {self._channel!r}>"


def intercept_channel(channel: grpc.Channel, *, names: bool = False) -> grpc.Channel:
    """Wrap a sync channel so that its calls carry the current run.

    Each call's metadata gets what :func:`metadata` adds, keeping the call's own. The wrapper
    swaps the ``metadata`` argument of the channel's multi-callables rather than going through
    gRPC's interceptor machinery, which costs more per call than carrying the run does; to
    compose with other interceptors, pass :class:`ClientInterceptor` to
    ``grpc.intercept_channel`` instead.

    Args:
        channel: the channel to wrap.
        names: also name the calling step (see :func:`metadata`).
    """
    return _CarryingChannel(channel, names)


def _aio_details(details: Any, names: bool) -> Any:
    metadata = _outgoing(details.metadata, names)
    if metadata is details.metadata:
        return details
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout,
        grpc.aio.Metadata(*metadata),
        details.credentials,
        details.wait_for_ready,
    )


class _AioNames:
    def __init__(self, names: bool) -> None:
        self.names = names


class _AioUnaryUnary(_AioNames, _AioUnaryUnaryBase):
    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details, self.names), request)


class _AioUnaryStream(_AioNames, _AioUnaryStreamBase):
    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details, self.names), request)


class _AioStreamUnary(_AioNames, _AioStreamUnaryBase):
    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details, self.names), request_iterator)


class _AioStreamStream(_AioNames, _AioStreamStreamBase):
    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details, self.names), request_iterator)


def aio_client_interceptors(*, names: bool = False) -> list[Any]:
    """Interceptors for ``grpc.aio`` channels, one per call type (``grpc.aio`` files each
    interceptor under the first call type it handles, so one object cannot serve all four).

    Args:
        names: also name the calling step (see :func:`metadata`).
    """
    return [
        _AioUnaryUnary(names),
        _AioUnaryStream(names),
        _AioStreamUnary(names),
        _AioStreamStream(names),
    ]


# --- server --------------------------------------------------------------------------------

#: Marks a behavior penstock already wrapped (a decorated servicer method behind an
#: interceptor is not wrapped twice).
_MARK = "_penstock_continues_call"
#: Wrapped method handlers kept per generic handler or interceptor (they are reused per call).
_CACHE_SIZE = 1024
_checked = _w3c.textmap_checked
_textmap = _w3c.textmap_reader(_propagate)
_own_traceparent = _w3c.OWN_TRACEPARENT.fullmatch
_own_baggage = _w3c.OWN_PLAIN_BAGGAGE.fullmatch
_HEADERS = ("traceparent", "tracestate", "baggage")
#: The remote parent of a run whose sender sent no names.
_UNNAMED = remote_info(None, "")

#: An entry: the arguments of penstock._runtime.enter_remote (link always False).
_Entry = tuple[Any, ...]


def _entry_of(remote: RemoteContext | None) -> _Entry | None:
    return None if remote is None else remote._entry


def _received(metadata: Any) -> _Entry | None:
    """What ``extract(metadata, grpc_getter)`` finds in the metadata a server received, as
    ``enter_remote``'s arguments: the hot path of every call, kept flat (on a live server
    each frame and each object touched costs several times what it costs in a loop).

    Servers get lower-case keys and ``str`` values (gRPC decodes only ``-bin`` keys to bytes),
    so penstock's own headers are found in one pass and read with one match each. Anything
    else (``tracestate``, a repeated header, foreign baggage, a carrier that is not gRPC's,
    propagators other than the default pair) goes to :func:`extract`, which reaches the same
    result the general way.
    """
    if _checked[0] is not _textmap() or not _checked[1]:
        return _entry_of(extract(metadata, grpc_getter))
    traceparent = baggage = None
    try:
        for key, value in metadata:
            if key == "traceparent" and traceparent is None:
                traceparent = value
            elif key == "baggage" and baggage is None:
                baggage = value
            elif key in _HEADERS:
                return _entry_of(extract(metadata, grpc_getter))
        if traceparent is None:
            return None
        match = _own_traceparent(traceparent)
        if match is None:
            return _entry_of(extract(metadata, grpc_getter))
        trace_hex, span_hex, flags = match.groups()
        trace_id, span_id = int(trace_hex, 16), int(span_hex, 16)
        if not (trace_id and span_id):
            return None
        info = _UNNAMED
        if baggage is not None:
            own = _own_baggage(baggage)
            if own is None:
                return _entry_of(extract(metadata, grpc_getter))
            if own[1] == trace_hex:
                names = (own[3], own[2])
                info = _infos.get(names) or remote_info(*names)
        return (trace_id, span_id, info, False, flags[1] in _ODD, None)
    except (TypeError, ValueError):  # items that are not (str, str) pairs
        return _entry_of(extract(metadata, grpc_getter))


#: The second hex digit of sampled trace-flags (bit 0 set).
_ODD = "13579bdf"


def _remote(context: Any) -> _Entry | None:
    """The run the call's metadata carries (``context``: the servicer context)."""
    try:
        return _received(context.invocation_metadata())
    except Exception as exc:  # a context without metadata: serve the call as a fresh run
        _log.debug("penstock could not read trace metadata: %r", exc)
        return None


def _linked(entry: _Entry) -> _Entry:
    return (*entry[:3], True, *entry[4:])


def _continuing(
    behavior: Callable[..., Any], link: bool, streaming: bool | None = None
) -> Callable[..., Any]:
    """``behavior`` (sync or async, unary or streaming) run inside its call's remote run.

    ``streaming``: whether it returns a response iterator (``None``: look at what it returns).
    """
    if getattr(behavior, _MARK, False):
        return behavior
    serve: Callable[..., Any]
    if _is_async_gen_function(behavior):

        async def serve_stream(*args: Any) -> AsyncIterator[Any]:
            entry = _remote(args[-1])
            responses = behavior(*args)
            if entry is None:
                async for item in responses:
                    yield item
                return
            if link:
                entry = _linked(entry)
            while True:
                entered = enter_remote(*entry)
                try:
                    item = await responses.__anext__()
                except StopAsyncIteration:
                    return
                finally:
                    exit_remote(entered)
                yield item

        serve = serve_stream
    elif _is_coroutine_function(behavior):
        # Also a grpc.aio streaming handler that writes with context.write(): one await.
        async def serve_async(*args: Any) -> Any:
            entry = _remote(args[-1])
            if entry is None:
                return await behavior(*args)
            entered = enter_remote(*(_linked(entry) if link else entry))
            try:
                return await behavior(*args)
            finally:
                exit_remote(entered)

        serve = serve_async
    else:

        def serve_sync(*args: Any) -> Any:
            # The hot path of a sync server, kept flat: every frame costs here.
            try:
                entry = _received(args[-1].invocation_metadata())
            except Exception as exc:  # a context without metadata: serve a fresh run
                _log.debug("penstock could not read trace metadata: %r", exc)
                entry = None
            if entry is None:
                return behavior(*args)
            if link:
                entry = _linked(entry)
            entered = enter_remote(*entry)
            try:
                result = behavior(*args)
            finally:
                exit_remote(entered)
            if streaming is not False and isinstance(result, Iterator):
                # Streamed responses: gRPC drives the iterator after this returns.
                return _iterate_in(result, entry)
            return result

        serve = serve_sync
    functools.update_wrapper(serve, behavior)
    setattr(serve, _MARK, True)
    return serve


def _iterate_in(responses: Iterator[Any], entry: _Entry) -> Iterator[Any]:
    """Run each step of a response iterator inside the remote run (gRPC drives it later)."""
    while True:
        entered = enter_remote(*entry)
        try:
            item = next(responses)
        except StopIteration:
            return
        finally:
            exit_remote(entered)
        yield item


def _is_async_gen_function(func: Any) -> bool:
    import inspect

    return inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(
        getattr(func, "__wrapped__", None)
    )


def _is_coroutine_function(func: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__wrapped__", None)
    )


_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def continue_call(behavior: _F, *, link: bool = ...) -> _F: ...
@overload
def continue_call(*, link: bool = ...) -> Callable[[_F], _F]: ...
def continue_call(behavior: Any = None, *, link: bool = False) -> Any:
    """Decorate a gRPC method so that it runs inside the run its call's metadata carries.

    The fastest server path: the wrapper is made once, when the method is defined, and per
    call it only reads the call's metadata (``context.invocation_metadata()``, the servicer
    context being the method's last argument). It fits servicer methods of generated code
    (``def GetOrder(self, request, context)``) and plain behaviors (``(request, context)``),
    sync or ``grpc.aio``, unary or streaming (each step of a response iterator runs inside
    the run). A call without trace metadata runs as a fresh run; bad metadata is ignored.

    Args:
        behavior: the method; or leave it out to pass options (``@continue_call(link=True)``).
        link: start a new run per call, linked to the client's, instead of continuing it.

    Returns:
        The wrapped method (or a decorator).
    """
    if behavior is None:
        return lambda fn: _continuing(fn, link)
    return _continuing(behavior, link)


def _wrap_method_handler(handler: Any, link: bool) -> Any:
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind, None)
        if behavior is not None:
            wrapped = _continuing(behavior, link, kind.endswith("_stream"))
            if wrapped is behavior:
                return handler
            try:
                return handler._replace(**{kind: wrapped})
            except Exception as exc:  # not grpc's namedtuple: serve it untraced
                _log.debug("penstock cannot wrap the gRPC handler %r: %r", handler, exc)
                return handler
    return handler


def _cached(cache: dict[int, tuple[Any, Any]], handler: Any, link: bool) -> Any:
    """``handler`` wrapped, once per handler object (gRPC hands out the same one per call)."""
    entry = cache.get(id(handler))
    if entry is not None and entry[0] is handler:
        return entry[1]
    wrapped = _wrap_method_handler(handler, link)
    if len(cache) >= _CACHE_SIZE:  # handlers made per call: do not grow without bound
        cache.clear()
    cache[id(handler)] = (handler, wrapped)
    return wrapped


class _ContinuingHandler(_Generic):
    """A generic handler whose method handlers continue the run of each call."""

    def __init__(self, inner: _Generic, link: bool) -> None:
        self._inner = inner
        self._link = link
        self._cache: dict[int, tuple[Any, Any]] = {}

    def service(self, handler_call_details: Any) -> Any:
        handler = self._inner.service(handler_call_details)
        if handler is None:
            return None
        return _cached(self._cache, handler, self._link)


_H = TypeVar("_H")


def wrap_handler(handler: _H, *, link: bool = False) -> _H:
    """Make a server's handlers continue the run each call's metadata carries.

    Wrap once, when registering, instead of installing :class:`ServerInterceptor`: no
    interceptor runs per call (``server.add_generic_rpc_handlers((wrap_handler(h),))``).

    Args:
        handler: a ``grpc.GenericRpcHandler`` (as made by
            ``grpc.method_handlers_generic_handler``), a ``grpc.RpcMethodHandler``, or a
            ``dict`` of method name to ``grpc.RpcMethodHandler`` (for
            ``method_handlers_generic_handler`` or ``server.add_registered_method_handlers``).
        link: start a new run per call, linked to the client's, instead of continuing it.

    Returns:
        The same kind of object, its behaviors wrapped as :func:`continue_call` does.
    """
    if isinstance(handler, dict):
        return {name: _wrap_method_handler(h, link) for name, h in handler.items()}  # type: ignore[return-value]
    if hasattr(handler, "service"):
        return _ContinuingHandler(handler, link)  # type: ignore[arg-type, return-value]
    return _wrap_method_handler(handler, link)  # type: ignore[no-any-return]


class _Registering:
    """What both wrapped servers share: handlers are wrapped as they are registered."""

    _server: Any
    _link: bool

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Any) -> None:
        """Register the handlers, each wrapped by :func:`wrap_handler`."""
        wrapped = tuple(wrap_handler(h, link=self._link) for h in generic_rpc_handlers)
        self._server.add_generic_rpc_handlers(wrapped)

    def add_registered_method_handlers(self, service_name: str, method_handlers: Any) -> None:
        """Register the method handlers (as generated code does), each wrapped."""
        wrapped = wrap_handler(dict(method_handlers), link=self._link)
        self._server.add_registered_method_handlers(service_name, wrapped)

    def add_insecure_port(self, address: str) -> int:
        """As the wrapped server's."""
        port: int = self._server.add_insecure_port(address)
        return port

    def add_secure_port(self, address: str, server_credentials: Any) -> int:
        """As the wrapped server's."""
        port: int = self._server.add_secure_port(address, server_credentials)
        return port

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)

    def __repr__(self) -> str:
        return f"<penstock continuing calls of {self._server!r}>"


class _ContinuingServer(_Registering, grpc.Server):
    def __init__(self, server: grpc.Server, link: bool) -> None:
        self._server = server
        self._link = link

    def start(self) -> None:
        self._server.start()

    def stop(self, grace: float | None = None) -> Any:
        return self._server.stop(grace)

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(self._server.wait_for_termination(timeout))


class _ContinuingAioServer(_Registering, grpc.aio.Server):
    def __init__(self, server: grpc.aio.Server, link: bool) -> None:
        self._server = server
        self._link = link

    async def start(self) -> None:
        await self._server.start()

    async def stop(self, grace: float | None = None) -> None:
        await self._server.stop(grace)

    async def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(await self._server.wait_for_termination(timeout))


_S = TypeVar("_S", grpc.Server, grpc.aio.Server)


def wrap_server(server: _S, *, link: bool = False) -> _S:
    """A server whose services continue the run each call's metadata carries.

    What :class:`ServerInterceptor` does, at the cost of :func:`wrap_handler`: every handler
    registered through the returned server is wrapped once, as it is registered, so no
    interceptor runs per call. Register the services after wrapping; generated code's
    ``add_*Servicer_to_server(servicer, server)`` registers through the server it is given::

        server = wrap_server(grpc.server(futures.ThreadPoolExecutor()))
        orders_pb2_grpc.add_OrdersServicer_to_server(Orders(), server)

    Args:
        server: a ``grpc.Server`` or a ``grpc.aio.Server``.
        link: start a new run per call, linked to the client's, instead of continuing it.

    Returns:
        A server of the same kind that delegates everything else to ``server``.
    """
    if isinstance(server, grpc.aio.Server):
        return _ContinuingAioServer(server, link)
    return _ContinuingServer(server, link)


class ServerInterceptor(_Server):
    """Runs each method handler inside the run its call's metadata carries (sync servers).

    Each method handler is wrapped once and reused; per call, the wrapper reads the metadata
    in the handler's thread. :func:`wrap_handler` does the same without gRPC's interceptor
    machinery, which costs more per call than penstock does.

    Args:
        link: start a new run per call, linked to the client's, instead of continuing it.
    """

    def __init__(self, *, link: bool = False) -> None:
        self.link = link
        self._cache: dict[int, tuple[Any, Any]] = {}

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """The method handler, its behavior wrapped to continue the call's run."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        entry = self._cache.get(id(handler))  # _cached()'s hit, inline: it runs per call
        if entry is not None and entry[0] is handler:
            return entry[1]
        return _cached(self._cache, handler, self.link)


class AioServerInterceptor(_AioServer):
    """Runs each method handler inside the run its call's metadata carries (``grpc.aio``).

    Args:
        link: start a new run per call, linked to the client's, instead of continuing it.
    """

    def __init__(self, *, link: bool = False) -> None:
        self.link = link
        self._cache: dict[int, tuple[Any, Any]] = {}

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """The method handler, its behavior wrapped to continue the call's run."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return _cached(self._cache, handler, self.link)
