"""Wrap a decorated function so each call is recorded as a step of a run.

A wrapper keeps the function's kind (sync, coroutine, generator, async generator) so
``inspect`` sees it unchanged. It reads ``handle.spec`` on every call (a later ``@flow``
replaces it) and keeps the per-spec data (`SpecInfo`) on the handle until the spec changes.

Generators and async generators are recorded for the whole iteration, and the step is
current only while their body runs: the context is set and restored around each resume, in
the consumer's context, so no context token outlives a ``yield`` (closing a generator early,
or from another task, cannot break context restoration).
"""

from __future__ import annotations

import functools
import sys

from penstock._runtime import lifecycle
from penstock._runtime.active import hook_failed
from penstock._runtime.backend import StepRun, note_done
from penstock._runtime.lifecycle import activate, begin, deactivate, end, nest
from penstock._runtime.stepinfo import SpecInfo

# Not `from typing import TYPE_CHECKING`: importing typing alone costs more than penstock.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Generator
    from typing import Any

    from penstock._declared.spec import StepHandle


def instrument(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    """Return a wrapper around ``func`` that records calls of the step ``handle`` points at."""
    factory = _FACTORIES[function_kind(func)]
    return functools.wraps(func)(factory(func, handle))


def _start(handle: StepHandle) -> StepRun | None:
    """Begin a run whose step is current only while its body runs (generators)."""
    si = handle.info
    if si is None:
        si = _refresh(handle)
    try:
        return begin(si, False)
    except Exception as exc:  # a bug in penstock must not break the application
        hook_failed("penstock runtime", "begin", exc)
        return None


# The ContextVar's own methods, and object.__new__: no Python frame for them per call.
_set_current = lifecycle.CURRENT.set
_reset_current = lifecycle.CURRENT.reset
_get_current = lifecycle.CURRENT.get
_new_run = object.__new__


def _sync(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    # The noop backend's hot path is this function: with a bare backend (nothing to call or
    # time), `begin` and `end` are done here, without their two frames. The rules stay in
    # `lifecycle`: `nest` for a call inside another; what `end` does on success, below.
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        si = handle.info
        if si is None:
            si = _refresh(handle)
        active = lifecycle.ACTIVE
        if active is not None and active.bare:
            run = _new_run(StepRun)
            run._active = active
            parent = _get_current()
            token = _set_current(run)
            if parent is None:
                run._info = si.default
                parent = None
            else:
                try:
                    nest(run, parent, si)
                    parent = run.parent
                except Exception as exc:  # a bug in penstock must not break the application
                    hook_failed("penstock runtime", "begin", exc)
                    parent = None
            try:
                # Without keywords, a call with *args alone skips unpacking an empty dict.
                result = func(*args, **kwargs) if kwargs else func(*args)
            except BaseException as exc:
                _reset_current(token)
                end(run, exc, False)
                raise
            _reset_current(token)
            run.status = "ok"
            if parent is not None and parent._last_child is not run._info:
                note_done(parent, run._info)
            return result
        try:
            run = begin(si)
        except Exception as exc:  # a bug in penstock must not break the application
            hook_failed("penstock runtime", "begin", exc)
            return func(*args, **kwargs)
        try:
            result = func(*args, **kwargs) if kwargs else func(*args)
        except BaseException as exc:
            end(run, exc)
            raise
        end(run, None)
        return result

    return sync_wrapper


def _coroutine(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    async def coro_wrapper(*args: Any, **kwargs: Any) -> Any:
        si = handle.info
        if si is None:
            si = _refresh(handle)
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


def _generator(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        run = _start(handle)
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


def _asyncgen(func: Callable[..., Any], handle: StepHandle) -> Callable[..., Any]:
    async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        run = _start(handle)
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


def _refresh(handle: StepHandle) -> SpecInfo:
    si = handle.info = SpecInfo(handle.spec)
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
    if flags & _CO_COROUTINE:
        return "coroutine"
    # A function marked with inspect.markcoroutinefunction (3.12+): only possible once the
    # program imported inspect, so it is asked only then (import penstock stays light).
    inspect = sys.modules.get("inspect")
    if inspect is not None and not flags & _CO_GENERATOR and inspect.iscoroutinefunction(target):
        return "coroutine"
    if flags & _CO_GENERATOR:
        return "generator"
    return "sync"
