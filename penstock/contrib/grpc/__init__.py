"""gRPC: calls made inside a run carry it to the server, which continues it.

Two ways to set it up, sync and ``grpc.aio`` alike. The fastest passes the metadata by hand and
wraps the server's handlers once, at registration, so that no interceptor runs per call:

```python
reply = stub.GetOrder(request, metadata=metadata())               # client
server.add_generic_rpc_handlers((wrap_handler(generic_handler),))  # server
```

or decorate the servicer's methods with `continue_call`. The interceptors do the same for every
call of a channel or server, at the cost of gRPC's interceptor machinery:

```python
channel = intercept_channel(grpc.insecure_channel(target))
aio_channel = grpc.aio.insecure_channel(target, interceptors=aio_client_interceptors())
server = grpc.server(pool, interceptors=[ServerInterceptor()])
aio_server = grpc.aio.server(interceptors=[AioServerInterceptor()])
```

The client side writes the current run's W3C trace context into the call's metadata
(lower-case keys ``traceparent``, ``tracestate``, ``baggage``); outside a run it adds nothing.
The server side reads it and runs the method handler (and, for streamed responses, each step of
the response iterator) inside the remote run, so the steps the handler calls have the client's
correlation ID and the client's step as parent (``link=True`` starts linked runs instead).
Metadata that is missing, malformed or hostile is ignored and the handler runs as a fresh run;
penstock never fails a call.

Built on `penstock.propagation`'s integration kit (`trace_headers`, `inject`, `extract`),
except for the server's per-call reading, which goes through the private
`penstock.propagation._entry` (the same reading, without an object per call; why is said
there): the client in `_client`, the handler wrappers in `_handlers`, sync servers in
`_server`, ``grpc.aio`` in `_aio`.
"""

from __future__ import annotations

from penstock.contrib.grpc._aio import AioServerInterceptor, aio_client_interceptors
from penstock.contrib.grpc._client import ClientInterceptor, intercept_channel, metadata
from penstock.contrib.grpc._handlers import continue_call, wrap_handler
from penstock.contrib.grpc._server import ServerInterceptor, wrap_server

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
