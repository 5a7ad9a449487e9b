"""Kafka: messages produced inside a run carry it to the step that consumes them.

Works with kafka-python, confluent-kafka and aiokafka alike: all three take and give record
headers as a list of ``(str, bytes)`` pairs, so nothing here imports a client library.

Producing:

```python
from penstock.contrib.kafka import headers

producer.send("bom", value, headers=headers())            # kafka-python
producer.produce("bom", value, headers=headers())         # confluent-kafka
await producer.send("bom", value, headers=headers())      # aiokafka
```

Consuming: `message_entrypoint` (or `message_step`) declares a function that takes
the consumed message as a penstock entrypoint (or step) and runs it, *for its whole duration*,
inside the run found in the message's headers:

```python
@flow("bom_sync")
@message_entrypoint
def handle_kafka_message(msg): ...
```

OpenTelemetry's kafka-python instrumentation ends its consumer span inside ``__next__``,
before the application processes the record; here the step that processes the message is the
child of the producer's step until the function returns. With ``link=True`` it instead starts
a new run whose record carries a *link* to the producer's (what the messaging semantic
conventions suggest for batch processing or when producer and consumer traces should stay
apart). `continue_from_message` does the same for code that is not a decorated function.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast, overload

from penstock import DefinitionError, declare_channels, declare_step
from penstock.contrib._semconv import messaging
from penstock.propagation import RemoteContext, extract, inject, kafka_getter, kafka_setter

__all__ = [
    "continue_from_message",
    "extract_message",
    "headers",
    "message_entrypoint",
    "message_headers",
    "message_step",
    "produces",
]

_log = logging.getLogger("penstock.contrib.kafka")

F = TypeVar("F", bound=Callable[..., Any])


def headers(existing: Sequence[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
    """Record headers carrying the current run (``existing`` ones kept, same names replaced).

    Args:
        existing: headers to send as well.

    Returns:
        A new list; outside a run, a copy of ``existing`` (or an empty list).
    """
    carrier = list(existing or ())
    inject(carrier, kafka_setter)
    return carrier


def message_headers(message: Any) -> Sequence[tuple[str, bytes]]:
    """The headers of a consumed message of any of the three clients (``[]`` if none).

    kafka-python's and aiokafka's ``ConsumerRecord`` have a ``headers`` attribute,
    confluent-kafka's ``Message`` a ``headers()`` method; a bare headers list is accepted too.
    """
    try:
        if isinstance(message, list):
            return message
        found = getattr(message, "headers", None)
        if callable(found):
            found = found()
        if isinstance(found, (list, tuple)):
            return found
    except Exception as exc:  # a broken message object must not break the consumer
        _log.debug("penstock could not read the headers of %r: %r", type(message), exc)
    return []


def extract_message(message: Any) -> RemoteContext | None:
    """The run a consumed message carries, or ``None``."""
    return extract(message_headers(message), kafka_getter)


@contextmanager
def continue_from_message(message: Any, *, link: bool = False) -> Iterator[RemoteContext | None]:
    """Continue the run ``message`` carries while the block runs (a fresh run if none).

    Args:
        message: a consumed message or record (or its headers list).
        link: start a new run linked to the producer's instead of continuing it.

    Yields:
        The producer's context, or ``None``.

    Under the otel backend the first step in the block is a ``CONSUMER`` span with
    ``messaging.system = "kafka"`` and the topic as ``messaging.destination.name``.
    """
    remote = extract_message(message)
    if remote is None:
        yield None
        return
    hop = messaging("kafka", _topic(message))
    with remote.continue_run(link=link, kind="consumer", attributes=hop):
        yield remote


def _topic(message: Any) -> object:
    """The topic of a consumed message of any of the three clients (``None`` if unknown)."""
    try:
        topic = getattr(message, "topic", None)
        return topic() if callable(topic) else topic  # confluent-kafka: a method
    except Exception:  # a message without a readable topic: the hop just has no destination
        return None


@overload
def message_entrypoint(func: F, /) -> F: ...


@overload
def message_entrypoint(
    *,
    after: Any = None,
    name: str | None = None,
    description: str | None = None,
    link: bool = False,
    message: str | None = None,
    topic: str | None = None,
) -> Callable[[F], F]: ...


def message_entrypoint(
    func: Callable[..., Any] | None = None,
    /,
    *,
    after: Any = None,
    name: str | None = None,
    description: str | None = None,
    link: bool = False,
    message: str | None = None,
    topic: str | None = None,
) -> Any:
    """Declare a Kafka message handler as an entrypoint that continues the producer's run.

    Bare (``@message_entrypoint``) or called. Stack ``@flow("name")`` above it.

    Args:
        func: the handler, when used bare (``@message_entrypoint``).
        after: steps that produce the message, if they are in the same flow.
        name: the step's name (default: the function's).
        description: replaces the docstring summary in diagrams.
        link: start a run linked to the producer's instead of continuing it.
        message: the name of the parameter holding the message; default: the first argument
            with a ``headers`` attribute.
        topic: the topic consumed; a step marked `produces` with the same topic in another
            flow links the two flows in diagrams and in ``penstock map``.
    """
    return _consumer(
        "entrypoint", "@message_entrypoint", func, after, name, description, link, message, topic
    )


@overload
def message_step(func: F, /) -> F: ...


@overload
def message_step(
    *,
    after: Any = None,
    name: str | None = None,
    description: str | None = None,
    link: bool = False,
    message: str | None = None,
    topic: str | None = None,
) -> Callable[[F], F]: ...


def message_step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    after: Any = None,
    name: str | None = None,
    description: str | None = None,
    link: bool = False,
    message: str | None = None,
    topic: str | None = None,
) -> Any:
    """Declare a Kafka message handler as a step after its producer, in the producer's run.

    Same options as `message_entrypoint`; ``after=`` names the producing step, and the
    diagram draws the edge as a ``kafka`` process boundary.
    """
    return _consumer("step", "@message_step", func, after, name, description, link, message, topic)


def _consumer(
    kind: Any,
    label: str,
    func: Callable[..., Any] | None,
    after: Any,
    name: str | None,
    description: str | None,
    link: bool,
    message: str | None,
    topic: str | None = None,
) -> Any:
    if topic is not None and (not isinstance(topic, str) or not topic.strip()):
        raise DefinitionError(f"{label}(topic=...) must be a non-empty string, got {topic!r}")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise DefinitionError.at(
                fn,
                f"{label} needs a plain or async function, not a generator "
                f"({fn.__qualname__!r}); iterate inside the handler instead",
            )
        inner = declare_step(
            fn,
            decorator=label,
            kind=kind,
            after=after,
            name=name,
            description=description,
            transport="kafka",
            receives=(("kafka", topic),) if topic else (),
        )
        pick = _picker(fn, message, label)
        if inspect.iscoroutinefunction(fn):

            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with continue_from_message(pick(args, kwargs), link=link):
                    return await inner(*args, **kwargs)

            outer: Callable[..., Any] = run_async
        else:

            def run(*args: Any, **kwargs: Any) -> Any:
                with continue_from_message(pick(args, kwargs), link=link):
                    return inner(*args, **kwargs)

            outer = run
        # Copies __dict__ too, so @flow above finds the step's handle on the outer function.
        return functools.update_wrapper(outer, inner)

    if func is not None:
        return decorate(func)
    return decorate


def produces(topic: str) -> Callable[[F], F]:
    """Mark a step as producing messages to ``topic`` (stack it with ``@step``).

    Nothing changes at run time (send with `headers` as usual); diagrams link the step to the
    flow whose `message_entrypoint` (or `message_step`) consumes ``topic``. Write it between
    ``@flow`` and ``@step``: ``@produces("bom-changes")``.

    Args:
        topic: the topic the step sends to.

    Raises:
        DefinitionError: the topic is empty or not a string.
    """
    if not isinstance(topic, str) or not topic.strip():
        raise DefinitionError(f"@produces needs a non-empty topic name, got {topic!r}")

    def decorate(fn: F) -> F:
        return cast("F", declare_channels(fn, decorator="@produces", sends=[("kafka", topic)]))

    return decorate


def _picker(
    fn: Callable[..., Any], message: str | None, label: str
) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    """How to find the message among a call's arguments."""
    if message is None:

        def first_with_headers(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            for value in (*args, *kwargs.values()):
                if hasattr(value, "headers"):
                    return value
            return None

        return first_with_headers

    params = list(inspect.signature(fn).parameters)
    if message not in params:
        raise DefinitionError.at(
            fn,
            f"{label}(message={message!r}) names no parameter of {fn.__qualname__!r} "
            f"(its parameters: {', '.join(params)})",
            unknown=message,
            known=params,
        )
    index = params.index(message)

    def by_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if message in kwargs:
            return kwargs[message]
        return args[index] if index < len(args) else None

    return by_name
