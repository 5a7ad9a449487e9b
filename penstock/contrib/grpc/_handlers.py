"""Method handlers that run inside the run their call's metadata carries.

One wrapper per kind of behavior (sync, coroutine, async generator), made once per handler
(when a servicer method is decorated or a handler registered); per call it reads the metadata
into an entry and enters the run without making an object (`penstock.propagation._entry`:
the one private path an integration uses, for the reason given there; it reads exactly what
`penstock.propagation.extract` reads).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar, overload

import grpc

from penstock.contrib._semconv import rpc
from penstock.propagation._entry import (
    AGAIN,
    Entry,
    enter_remote,
    exit_remote,
    metadata_entry,
    read_metadata,
    stream_entry,
)

_log = logging.getLogger("penstock.contrib.grpc")

TYPE_CHECKING = False
if TYPE_CHECKING:
    _Generic = grpc.GenericRpcHandler[Any, Any]
else:
    _Generic = grpc.GenericRpcHandler

#: Marks a behavior penstock already wrapped (a decorated servicer method behind an
#: interceptor is not wrapped twice).
_MARK = "_penstock_continues_call"
#: Wrapped method handlers kept per generic handler or interceptor (they are reused per call).
CACHE_SIZE = 1024


def _remote(context: Any, link: bool, hop: tuple[str, dict[str, Any]]) -> Entry | None:
    """The run the call's metadata carries (``context``: the servicer context)."""
    try:
        metadata = context.invocation_metadata()
        entry: Any = read_metadata(metadata, link, hop)
        if entry is AGAIN:
            entry = metadata_entry(metadata, link, hop)
        return entry  # type: ignore[no-any-return]
    except Exception as exc:  # a context without metadata: serve the call as a fresh run
        _log.debug("penstock could not read trace metadata: %r", exc)
        return None


def continuing(
    behavior: Callable[..., Any],
    link: bool,
    streaming: bool | None = None,
    method: str | None = None,
) -> Callable[..., Any]:
    """``behavior`` (sync or async, unary or streaming) run inside its call's remote run.

    ``streaming``: whether it returns a response iterator (``None``: look at what it returns;
    ``False``: a method handler's behavior, which gRPC calls with ``(request, context)``).
    ``method``: the gRPC method path (``/package.Service/Method``), when known, for the
    ``rpc.service`` and ``rpc.method`` attributes of the call's first step.
    """
    if getattr(behavior, _MARK, False):
        return behavior
    hop = ("server", rpc("grpc", method))
    if _is_async_gen_function(behavior):
        serve = _serving_async_gen(behavior, link, hop)
    elif _is_coroutine_function(behavior):
        serve = _serving_coroutine(behavior, link, hop)
    elif streaming is False:
        serve = _serving_unary(behavior, link, hop)
    else:
        serve = _serving_sync(behavior, link, hop)
    functools.update_wrapper(serve, behavior)
    setattr(serve, _MARK, True)
    return serve


def _serving_unary(
    behavior: Callable[..., Any], link: bool, hop: tuple[str, dict[str, Any]]
) -> Callable[..., Any]:
    # A method handler's behavior that returns one response: gRPC calls it with exactly
    # these two arguments, so no tuple is packed per call and the result is not inspected.
    def serve_unary(request: Any, context: Any) -> Any:
        try:  # _remote(), inline: every frame costs on a live server
            metadata = context.invocation_metadata()
            entry: Any = read_metadata(metadata, link, hop)
            if entry is AGAIN:
                entry = metadata_entry(metadata, link, hop)
        except Exception as exc:  # a context without metadata: serve a fresh run
            _log.debug("penstock could not read trace metadata: %r", exc)
            entry = None
        if entry is None:
            return behavior(request, context)
        entered = enter_remote(entry)
        try:
            return behavior(request, context)
        finally:
            exit_remote(entered)

    return serve_unary


def _serving_sync(
    behavior: Callable[..., Any], link: bool, hop: tuple[str, dict[str, Any]]
) -> Callable[..., Any]:
    # A decorated servicer method ((self, request, context)) or a streaming behavior.
    def serve_sync(*args: Any) -> Any:
        entry = _remote(args[-1], link, hop)
        if entry is None:
            return behavior(*args)
        entered = enter_remote(entry)
        try:
            result = behavior(*args)
        finally:
            exit_remote(entered)
        if isinstance(result, Iterator):
            # Streamed responses: gRPC drives the iterator after this returns.
            return _iterate_in(result, entry)
        return result

    return serve_sync


def _serving_coroutine(
    behavior: Callable[..., Any], link: bool, hop: tuple[str, dict[str, Any]]
) -> Callable[..., Any]:
    # Also a grpc.aio streaming handler that writes with context.write(): one await.
    async def serve_async(*args: Any) -> Any:
        entry = _remote(args[-1], link, hop)
        if entry is None:
            return await behavior(*args)
        entered = enter_remote(entry)
        try:
            return await behavior(*args)
        finally:
            exit_remote(entered)

    return serve_async


def _serving_async_gen(
    behavior: Callable[..., Any], link: bool, hop: tuple[str, dict[str, Any]]
) -> Callable[..., Any]:
    async def serve_stream(*args: Any) -> AsyncIterator[Any]:
        entry = _remote(args[-1], link, hop)
        responses = behavior(*args)
        if entry is None:
            async for item in responses:
                yield item
            return
        while True:
            entered = enter_remote(entry)
            try:
                item = await responses.__anext__()
            except StopAsyncIteration:
                return
            finally:
                exit_remote(entered)
            entry = stream_entry(entry)
            yield item

    return serve_stream


def _iterate_in(responses: Iterator[Any], entry: Entry) -> Iterator[Any]:
    """Run each step of a response iterator inside the remote run (gRPC drives it later)."""
    while True:
        entered = enter_remote(entry)
        try:
            item = next(responses)
        except StopIteration:
            return
        finally:
            exit_remote(entered)
        entry = stream_entry(entry)
        yield item


def _is_async_gen_function(func: Any) -> bool:
    return inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(
        getattr(func, "__wrapped__", None)
    )


def _is_coroutine_function(func: Any) -> bool:
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

    The wrapper is made once, when the method is defined, and per call it only reads the
    call's metadata (``context.invocation_metadata()``, the servicer context being the
    method's last argument). It fits servicer methods of generated code
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
        return lambda fn: continuing(fn, link)
    return continuing(behavior, link)


def _wrap_method_handler(handler: Any, link: bool, method: str | None = None) -> Any:
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind, None)
        if behavior is not None:
            wrapped = continuing(behavior, link, kind.endswith("_stream"), method)
            if wrapped is behavior:
                return handler
            try:
                return handler._replace(**{kind: wrapped})
            except Exception as exc:  # not grpc's namedtuple: serve it untraced
                _log.debug("penstock cannot wrap the gRPC handler %r: %r", handler, exc)
                return handler
    return handler


def cached(
    cache: dict[int, tuple[Any, Any]], handler: Any, link: bool, method: object = None
) -> Any:
    """``handler`` wrapped, once per handler object (gRPC hands out the same one per call).

    ``method`` is the call's method path (``handler_call_details.method``).
    """
    entry = cache.get(id(handler))
    if entry is not None and entry[0] is handler:
        return entry[1]
    wrapped = _wrap_method_handler(handler, link, method if isinstance(method, str) else None)
    if len(cache) >= CACHE_SIZE:  # handlers made per call: do not grow without bound
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
        return cached(self._cache, handler, self._link, handler_call_details.method)


HandlerT = TypeVar("HandlerT")


def wrap_handler(handler: HandlerT, *, link: bool = False) -> HandlerT:
    """Make a server's handlers continue the run each call's metadata carries.

    Wrap once, when registering, instead of installing `ServerInterceptor`: no
    interceptor runs per call (``server.add_generic_rpc_handlers((wrap_handler(h),))``).

    Args:
        handler: a ``grpc.GenericRpcHandler`` (as made by
            ``grpc.method_handlers_generic_handler``), a ``grpc.RpcMethodHandler``, or a
            ``dict`` of method name to ``grpc.RpcMethodHandler`` (for
            ``method_handlers_generic_handler`` or ``server.add_registered_method_handlers``).
        link: start a new run per call, linked to the client's, instead of continuing it.

    Returns:
        The same kind of object, its behaviors wrapped as `continue_call` does.
    """
    if isinstance(handler, dict):
        return wrap_methods(handler, link)  # type: ignore[return-value]
    if hasattr(handler, "service"):
        return _ContinuingHandler(handler, link)  # type: ignore[arg-type, return-value]
    return _wrap_method_handler(handler, link)  # type: ignore[no-any-return]


def wrap_methods(
    handlers: dict[str, Any], link: bool, service: str | None = None
) -> dict[str, Any]:
    """A ``dict`` of method name to handler, each wrapped.

    ``service`` is their service's name, for the ``rpc.service``/``rpc.method`` attributes.
    """
    return {
        name: _wrap_method_handler(h, link, f"/{service}/{name}" if service else None)
        for name, h in handlers.items()
    }


class Registering:
    """What both wrapped servers share: handlers are wrapped as they are registered."""

    _server: Any
    _link: bool

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Any) -> None:
        """Register the handlers, each wrapped by `wrap_handler`."""
        wrapped = tuple(wrap_handler(h, link=self._link) for h in generic_rpc_handlers)
        self._server.add_generic_rpc_handlers(wrapped)

    def add_registered_method_handlers(self, service_name: str, method_handlers: Any) -> None:
        """Register the method handlers (as generated code does), each wrapped."""
        wrapped = wrap_methods(dict(method_handlers), self._link, service_name)
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
