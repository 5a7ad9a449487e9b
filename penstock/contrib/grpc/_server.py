"""Sync servers: the wrapped server and the server interceptor."""

from __future__ import annotations

from typing import Any, TypeVar

import grpc
import grpc.aio

from penstock.contrib.grpc._aio import ContinuingAioServer
from penstock.contrib.grpc._handlers import Registering, cached

TYPE_CHECKING = False
if TYPE_CHECKING:
    _Server = grpc.ServerInterceptor[Any, Any]
else:
    _Server = grpc.ServerInterceptor


class _ContinuingServer(Registering, grpc.Server):
    def __init__(self, server: grpc.Server, link: bool) -> None:
        self._server = server
        self._link = link

    def start(self) -> None:
        self._server.start()

    def stop(self, grace: float | None = None) -> Any:
        return self._server.stop(grace)

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(self._server.wait_for_termination(timeout))


ServerT = TypeVar("ServerT", grpc.Server, grpc.aio.Server)


def wrap_server(server: ServerT, *, link: bool = False) -> ServerT:
    """A server whose services continue the run each call's metadata carries.

    What `ServerInterceptor` does, at the cost of `wrap_handler`: every handler
    registered through the returned server is wrapped once, as it is registered, so no
    interceptor runs per call. Register the services after wrapping; generated code's
    ``add_*Servicer_to_server(servicer, server)`` registers through the server it is given:

    ```python
    server = wrap_server(grpc.server(futures.ThreadPoolExecutor()))
    orders_pb2_grpc.add_OrdersServicer_to_server(Orders(), server)
    ```

    Args:
        server: a ``grpc.Server`` or a ``grpc.aio.Server``.
        link: start a new run per call, linked to the client's, instead of continuing it.

    Returns:
        A server of the same kind that delegates everything else to ``server``.
    """
    if isinstance(server, grpc.aio.Server):
        return ContinuingAioServer(server, link)
    return _ContinuingServer(server, link)


class ServerInterceptor(_Server):
    """Runs each method handler inside the run its call's metadata carries (sync servers).

    Each method handler is wrapped once and reused; per call, the wrapper reads the metadata
    in the handler's thread. `wrap_handler` does the same without gRPC's interceptor
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
        return cached(self._cache, handler, self.link, handler_call_details.method)
