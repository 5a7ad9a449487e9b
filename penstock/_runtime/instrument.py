"""Wrap a decorated function so each call is recorded as a step of a run.

A wrapper keeps the function's kind (sync, coroutine, generator, async generator) so
``inspect`` sees it unchanged. It reads ``handle.spec`` on every call (a later ``@flow``
replaces it) and caches the per-spec data (`SpecInfo`) until it changes.

Generators and async generators are recorded for the whole iteration, and the step is
current only while their body runs: the context is set and restored around each resume, in
the consumer's context, so no context token outlives a ``yield`` (closing a generator early,
or from another task, cannot break context restoration).
"""

from __future__ import annotations

import functools

from penstock._runtime.active import hook_failed
from penstock._runtime.lifecycle import activate, begin, deactivate, end
from penstock._runtime.steprun import SpecInfo

# Not `from typing import TYPE_CHECKING`: importing typing alone costs more than penstock.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Generator
    from typing import Any

    from penstock._declared.spec import StepHandle, StepSpec
    from penstock._runtime.steprun import StepRun

    Cache = list[Any]


def instrument(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    """Return a wrapper around ``func`` that records calls of the step ``handle`` points at."""
    # [spec, SpecInfo]: rebuilt when a stacked decorator replaces the spec.
    cache: list[Any] = [None, None]
    factory = _FACTORIES[function_kind(func)]
    return functools.wraps(func)(factory(func, handle, cache))


def _start(handle: StepHandle, cache: Cache) -> StepRun | None:
    """Begin a run whose step is current only while its body runs (generators)."""
    spec = handle.spec
    si = cache[1] if cache[0] is spec else _refresh(cache, spec)
    try:
        return begin(si, False)
    except Exception as exc:  # a bug in penstock must not break the application
        hook_failed("penstock runtime", "begin", exc)
        return None


def _sync(func: Callable[..., Any], handle: StepHandle, cache: Cache) -> Callable[..., Any]:
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        spec = handle.spec
        si = cache[1] if cache[0] is spec else _refresh(cache, spec)
        try:
            run = begin(si)
        except Exception as exc:  # a bug in penstock must not break the application
            hook_failed("penstock runtime", "begin", exc)
            return func(*args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            end(run, exc)
            raise
        end(run, None)
        return result

    return sync_wrapper


def _coroutine(func: Callable[..., Any], handle: StepHandle, cache: Cache) -> Callable[..., Any]:
    async def coro_wrapper(*args: Any, **kwargs: Any) -> Any:
        spec = handle.spec
        si = cache[1] if cache[0] is spec else _refresh(cache, spec)
        try:
            run = begin(si)
        except Exception as exc:  # a bug in penstock must not break the application
            hook_failed("penstock runtime", "begin", exc)
            return await func(*args, **kwargs)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            end(run, exc)
            raise
        end(run, None)
        return result

    return coro_wrapper


def _generator(func: Callable[..., Any], handle: StepHandle, cache: Cache) -> Callable[..., Any]:
    def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        run = _start(handle, cache)
        if run is None:
            return (yield from func(*args, **kwargs))
        gen: Any = None
        throw: BaseException | None = None
        value: Any = None
        while True:
            activate(run)
            try:
                if gen is None:
                    gen = func(*args, **kwargs)
                item = gen.send(value) if throw is None else gen.throw(throw)
            except StopIteration as stop:
                deactivate(run)
                end(run, None, False)
                return stop.value
            except BaseException as exc:
                deactivate(run)
                end(run, exc, False)
                raise
            deactivate(run)
            throw = None
            try:
                value = yield item
            except GeneratorExit as exc:
                activate(run)
                try:
                    gen.close()
                except BaseException as err:
                    deactivate(run)
                    end(run, err, False)
                    raise
                deactivate(run)
                end(run, exc, False)
                raise
            except BaseException as exc:
                throw = exc

    return gen_wrapper


def _asyncgen(func: Callable[..., Any], handle: StepHandle, cache: Cache) -> Callable[..., Any]:
    async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        run = _start(handle, cache)
        if run is None:
            async for item in func(*args, **kwargs):
                yield item
            return
        agen: Any = None
        throw: BaseException | None = None
        value: Any = None
        while True:
            activate(run)
            try:
                if agen is None:
                    agen = func(*args, **kwargs)
                if throw is None:
                    item = await agen.asend(value)
                else:
                    item = await agen.athrow(throw)
            except StopAsyncIteration:
                deactivate(run)
                end(run, None, False)
                return
            except BaseException as exc:
                deactivate(run)
                end(run, exc, False)
                raise
            deactivate(run)
            throw = None
            try:
                value = yield item
            except GeneratorExit as exc:
                activate(run)
                try:
                    await agen.aclose()
                except BaseException as err:
                    deactivate(run)
                    end(run, err, False)
                    raise
                deactivate(run)
                end(run, exc, False)
                raise
            except BaseException as exc:
                throw = exc

    return agen_wrapper


_FACTORIES = {
    "sync": _sync,
    "coroutine": _coroutine,
    "generator": _generator,
    "asyncgen": _asyncgen,
}


def _refresh(cache: list[Any], spec: StepSpec) -> SpecInfo:
    si = SpecInfo(spec)
    cache[1] = si
    cache[0] = spec
    return si


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
