"""Wrap a decorated function so each call can be recorded.

Placeholder until the run-time layer lands: wrappers only pass calls through, keeping the
function's kind (sync, coroutine, generator, async generator) so ``inspect`` sees it unchanged.
"""

from __future__ import annotations

import functools

# Not `from typing import TYPE_CHECKING`: importing typing alone costs more than penstock.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Generator
    from typing import Any

    from penstock._spec import StepHandle


def instrument(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    """Return a wrapper around ``func`` that records calls of the step ``handle`` points at."""
    kind = function_kind(func)
    if kind == "asyncgen":

        async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            async for item in func(*args, **kwargs):
                yield item

        wrapper: Callable[..., Any] = agen_wrapper
    elif kind == "coroutine":

        async def coro_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await func(*args, **kwargs)

        wrapper = coro_wrapper
    elif kind == "generator":

        def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            result = yield from func(*args, **kwargs)
            return result

        wrapper = gen_wrapper
    else:

        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        wrapper = sync_wrapper
    return functools.wraps(func)(wrapper)


# Code flags from CPython's code.h (stable across versions); checked directly so that
# `import penstock` need not import `inspect`.
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


def function_kind(func: Callable[..., Any]) -> str:
    """``"sync"``, ``"coroutine"``, ``"generator"`` or ``"asyncgen"``."""
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    code = getattr(target, "__code__", None)
    if code is None:
        # A callable object: its class's __call__ decides.
        code = getattr(type(target).__call__, "__code__", None)
        if code is None:
            return "sync"
    flags = code.co_flags
    if flags & _CO_ASYNC_GENERATOR:
        return "asyncgen"
    if flags & _CO_COROUTINE or getattr(target, "_is_coroutine_marker", None) is not None:
        return "coroutine"
    if flags & _CO_GENERATOR:
        return "generator"
    return "sync"
