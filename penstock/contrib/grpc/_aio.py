"""``grpc.aio``: client interceptors carrying the run, and the server that continues it."""

from __future__ import annotations

from typing import Any

import grpc
import grpc.aio

from penstock.contrib.grpc._client import _outgoing
from penstock.contrib.grpc._handlers import Registering, cached

TYPE_CHECKING = False
if TYPE_CHECKING:
    # grpc-stubs declares these generic; at run time they are plain classes.
    _AioUnaryUnaryBase = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _AioUnaryStreamBase = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
    _AioStreamUnaryBase = grpc.aio.StreamUnaryClientInterceptor[Any, Any]
    _AioStreamStreamBase = grpc.aio.StreamStreamClientInterceptor[Any, Any]
    _AioServer = grpc.aio.ServerInterceptor[Any, Any]
else:
    _AioUnaryUnaryBase = grpc.aio.UnaryUnaryClientInterceptor
    _AioUnaryStreamBase = grpc.aio.UnaryStreamClientInterceptor
    _AioStreamUnaryBase = grpc.aio.StreamUnaryClientInterceptor
    _AioStreamStreamBase = grpc.aio.StreamStreamClientInterceptor
    _AioServer = grpc.aio.ServerInterceptor


# --- client --------------------------------------------------------------------------------


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
    """Interceptors for ``grpc.aio`` channels, one per call type.

    ``grpc.aio`` files each interceptor under the first call type it handles, so one object
    cannot serve all four.

    Args:
        names: also name the calling step (see `penstock.contrib.grpc.metadata`).
    """
    return [
        _AioUnaryUnary(names),
        _AioUnaryStream(names),
        _AioStreamUnary(names),
        _AioStreamStream(names),
    ]


# --- server --------------------------------------------------------------------------------


class ContinuingAioServer(Registering, grpc.aio.Server):
    """A ``grpc.aio`` server whose handlers are wrapped as they are registered."""

    def __init__(self, server: grpc.aio.Server, link: bool) -> None:
        self._server = server
        self._link = link

    async def start(self) -> None:
        await self._server.start()

    async def stop(self, grace: float | None = None) -> None:
        await self._server.stop(grace)

    async def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(await self._server.wait_for_termination(timeout))


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
        return cached(self._cache, handler, self.link, handler_call_details.method)
