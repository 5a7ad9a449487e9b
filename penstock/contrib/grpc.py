"""gRPC: calls made inside a run carry it to the server, which continues it.

Client side, sync and ``grpc.aio``::

    from penstock.contrib.grpc import aio_client_interceptors, intercept_channel

    channel = intercept_channel(grpc.insecure_channel(target))
    aio_channel = grpc.aio.insecure_channel(target, interceptors=aio_client_interceptors())

Server side::

    server = grpc.server(pool, interceptors=[ServerInterceptor()])
    aio_server = grpc.aio.server(interceptors=[AioServerInterceptor()])

The client interceptors write the current run's W3C trace context into the call's metadata
(lower-case keys ``traceparent``, ``tracestate``, ``baggage``); outside a run they add nothing.
The server interceptors read it and run the method handler (and, for streamed responses, each
step of the response iterator) inside :func:`penstock.propagation.continue_from`, so the steps
the handler calls have the client's correlation ID and the client's step as parent
(``link=True`` starts linked runs instead). Metadata that is missing, malformed or hostile is
ignored and the handler runs as a fresh run; the interceptors never fail a call.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc
import grpc.aio

from penstock.propagation import RemoteContext, extract, grpc_getter, grpc_setter, inject

__all__ = [
    "AioServerInterceptor",
    "ClientInterceptor",
    "ServerInterceptor",
    "aio_client_interceptors",
    "intercept_channel",
    "metadata",
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


# --- client --------------------------------------------------------------------------------


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    """Sync call details with new metadata (``grpc.ClientCallDetails`` is abstract)."""


def _with_context(metadata: Any) -> list[tuple[str, Any]] | None:
    """``metadata`` plus the current run's context; ``None`` outside a run (leave it as is)."""
    try:
        carrier: list[tuple[str, Any]] = list(metadata or ())
        return carrier if inject(carrier, grpc_setter) else None
    except Exception as exc:  # odd metadata from another interceptor: send the call as is
        _log.debug("penstock could not add trace metadata to a gRPC call: %r", exc)
        return None


def metadata(existing: Any = None) -> list[tuple[str, Any]]:
    """Call metadata carrying the current run, for calls made without the interceptors.

    ``stub.Method(request, metadata=metadata())`` does what :class:`ClientInterceptor` does,
    without gRPC's interceptor machinery.

    Args:
        existing: metadata to send as well (penstock replaces only its own keys).

    Returns:
        A new list; outside a run, a copy of ``existing`` (or an empty list).
    """
    carrier: list[tuple[str, Any]] = list(existing or ())
    inject(carrier, grpc_setter)
    return carrier


def _sync_details(details: Any) -> Any:
    metadata = _with_context(details.metadata)
    if metadata is None:
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
    """Adds the current run's context to every call's metadata (sync channels)."""

    def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        """Unary request, unary response."""
        return continuation(_sync_details(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        """Unary request, streamed response."""
        return continuation(_sync_details(client_call_details), request)

    def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        """Streamed request, unary response."""
        return continuation(_sync_details(client_call_details), request_iterator)

    def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        """Streamed request, streamed response."""
        return continuation(_sync_details(client_call_details), request_iterator)


def intercept_channel(channel: grpc.Channel) -> grpc.Channel:
    """Wrap a sync channel so that its calls carry the current run."""
    return grpc.intercept_channel(channel, ClientInterceptor())


def _aio_details(details: Any) -> Any:
    metadata = _with_context(details.metadata)
    if metadata is None:
        return details
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout,
        grpc.aio.Metadata(*metadata),
        details.credentials,
        details.wait_for_ready,
    )


class _AioUnaryUnary(_AioUnaryUnaryBase):
    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details), request)


class _AioUnaryStream(_AioUnaryStreamBase):
    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details), request)


class _AioStreamUnary(_AioStreamUnaryBase):
    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details), request_iterator)


class _AioStreamStream(_AioStreamStreamBase):
    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_aio_details(client_call_details), request_iterator)


def aio_client_interceptors() -> list[Any]:
    """Interceptors for ``grpc.aio`` channels, one per call type (``grpc.aio`` files each
    interceptor under the first call type it handles, so one object cannot serve all four)."""
    return [_AioUnaryUnary(), _AioUnaryStream(), _AioStreamUnary(), _AioStreamStream()]


# --- server --------------------------------------------------------------------------------


def _remote(handler_call_details: Any) -> RemoteContext | None:
    try:
        return extract(handler_call_details.invocation_metadata or (), grpc_getter)
    except Exception as exc:  # extract does not raise; this guards the server all the same
        _log.debug("penstock could not read trace metadata: %r", exc)
        return None


def _replace(handler: Any, **behaviors: Any) -> Any:
    try:
        return handler._replace(**behaviors)
    except Exception as exc:  # a handler that is not grpc's namedtuple: serve it untraced
        _log.debug("penstock cannot wrap the gRPC handler %r: %r", handler, exc)
        return handler


def _sync_handler(handler: Any, remote: RemoteContext, link: bool) -> Any:
    def unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
        def serve(request: Any, context: Any) -> Any:
            with remote.continue_run(link=link):
                return behavior(request, context)

        return serve

    def streaming(behavior: Callable[..., Any]) -> Callable[..., Any]:
        def serve(request: Any, context: Any) -> Iterator[Any]:
            with remote.continue_run(link=link):
                responses = iter(behavior(request, context))
            return _iterate_in(responses, remote, link)

        return serve

    if handler.unary_unary is not None:
        return _replace(handler, unary_unary=unary(handler.unary_unary))
    if handler.stream_unary is not None:
        return _replace(handler, stream_unary=unary(handler.stream_unary))
    if handler.unary_stream is not None:
        return _replace(handler, unary_stream=streaming(handler.unary_stream))
    if handler.stream_stream is not None:
        return _replace(handler, stream_stream=streaming(handler.stream_stream))
    return handler


def _iterate_in(responses: Iterator[Any], remote: RemoteContext, link: bool) -> Iterator[Any]:
    """Run each step of a response iterator inside the remote run (gRPC drives it later)."""
    while True:
        with remote.continue_run(link=link):
            try:
                item = next(responses)
            except StopIteration:
                return
        yield item


class ServerInterceptor(_Server):
    """Runs each method handler inside the run its call's metadata carries (sync servers).

    Args:
        link: start a new run per call, linked to the client's, instead of continuing it.
    """

    def __init__(self, *, link: bool = False) -> None:
        self.link = link

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """Wrap the handler's behavior when the call carries a context."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        remote = _remote(handler_call_details)
        if remote is None:
            return handler
        return _sync_handler(handler, remote, self.link)


def _aio_handler(handler: Any, remote: RemoteContext, link: bool) -> Any:
    def unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def serve(request: Any, context: Any) -> Any:
            with remote.continue_run(link=link):
                return await behavior(request, context)

        return serve

    def streaming(behavior: Callable[..., Any]) -> Callable[..., Any]:
        if not _is_async_gen_function(behavior):
            # A coroutine that writes responses with context.write(): one awaited call.
            return unary(behavior)

        async def serve(request: Any, context: Any) -> AsyncIterator[Any]:
            responses = behavior(request, context)
            while True:
                with remote.continue_run(link=link):
                    try:
                        item = await responses.__anext__()
                    except StopAsyncIteration:
                        return
                yield item

        return serve

    if handler.unary_unary is not None:
        return _replace(handler, unary_unary=unary(handler.unary_unary))
    if handler.stream_unary is not None:
        return _replace(handler, stream_unary=unary(handler.stream_unary))
    if handler.unary_stream is not None:
        return _replace(handler, unary_stream=streaming(handler.unary_stream))
    if handler.stream_stream is not None:
        return _replace(handler, stream_stream=streaming(handler.stream_stream))
    return handler


def _is_async_gen_function(func: Any) -> bool:
    import inspect

    return inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(
        getattr(func, "__wrapped__", None)
    )


class AioServerInterceptor(_AioServer):
    """Runs each method handler inside the run its call's metadata carries (``grpc.aio``).

    Args:
        link: start a new run per call, linked to the client's, instead of continuing it.
    """

    def __init__(self, *, link: bool = False) -> None:
        self.link = link

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        """Wrap the handler's behavior when the call carries a context."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        remote = _remote(handler_call_details)
        if remote is None:
            return handler
        return _aio_handler(handler, remote, self.link)
