"""Handing the current run to threads.

``ThreadPoolExecutor.submit`` and ``loop.run_in_executor`` do not carry context variables, so
steps called in the pool would start runs of their own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from functools import partial
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

__all__ = ["ContextThreadPoolExecutor", "bind_context"]

P = ParamSpec("P")
R = TypeVar("R")


def bind_context(func: Callable[P, R], /) -> Callable[P, R]:
    """Return ``func`` bound to a copy of the current context (and so to the current run).

    Call it where the work is handed over; the copy is taken now. Steps that ``func`` calls in
    the pool are children of the step that was current here, with the same correlation ID.

    Example:
        ```python
        pool.submit(penstock.bind_context(fetch_part), "PN-100")
        await loop.run_in_executor(None, penstock.bind_context(fetch_part), "PN-100")
        ```
    """
    bound: Callable[P, R] = partial(copy_context().run, func)
    return bound


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` that runs each call in a copy of the submitter's context.

    ``submit`` (and so ``map``) copy the context, so steps in the pool continue the submitting
    step's run.
    """

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """Schedule ``fn(*args, **kwargs)`` in a copy of the current context."""
        return super().submit(copy_context().run, fn, *args, **kwargs)
