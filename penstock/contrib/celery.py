"""Celery: tasks that continue the run that sent them.

``flow_task`` is a drop-in for Celery's ``shared_task``/``app.task`` that also declares the task
as a step of its flows (drawn with a ``celery`` process boundary in diagrams):

```python
from penstock import flow
from penstock.contrib.celery import flow_task

@flow("bom_sync")
@flow_task(after="publish_change_events")
def create_change_logs(changelog_dicts): ...
```

Signal handlers carry the run through the broker: ``before_task_publish`` writes the current
run's W3C trace context into the message headers of *any* task sent inside a run (``delay``,
``apply_async``, signatures, chains, groups, retries); ``task_prerun``/``task_postrun``, in the
worker, continue that run around the task, so the task's step (and any step it calls) has the
sender's correlation ID and is the child of the sending step. ``flow_task`` installs the
handlers; `install` does it for applications that only send plain tasks. Handlers never
raise into Celery: a failure is logged at debug level and the task runs untraced.

Under the otel backend the task's step (the first step of the continued run) is a
``CONSUMER`` span with ``messaging.system = "celery"`` and the queue's routing key as
``messaging.destination.name``. When OpenTelemetry's Celery instrumentation runs in the worker
too, its ``run/<task>`` span is the ``CONSUMER`` span of the hop and the step is an
``INTERNAL`` child of it: one consumer span per task, whichever handler runs first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from penstock import declare_step
from penstock.contrib._semconv import messaging
from penstock.propagation import celery_getter, dict_setter, extract, inject

__all__ = ["FlowTask", "flow_task", "install", "installed", "uninstall"]

_log = logging.getLogger("penstock.contrib.celery")

F = TypeVar("F", bound=Callable[..., Any])

_PUBLISH_UID = "penstock.contrib.celery.before_task_publish"
_PRERUN_UID = "penstock.contrib.celery.task_prerun"
_POSTRUN_UID = "penstock.contrib.celery.task_postrun"

#: The attribute of a Celery task object that holds, per task id being run, the
#: continue_remote blocks entered in task_prerun (a stack: an eager call of the same id
#: nests). Kept on the task, as OpenTelemetry's Celery instrumentation keeps its spans: an
#: entry lives exactly as long as its task runs, and nothing is shared between task types.
_RUNS = "_penstock_runs"
_installed = False


class FlowTask:
    """A Celery task that is also a penstock step; everything else is the task's.

    Attribute access and calls go to the Celery task (``delay``, ``apply_async``, ``s``,
    ``name``...). It is a separate object, not the task itself, so that ``@flow(...)``
    stacked on top does not force Celery to create the task at import time.
    """

    def __init__(self, task: Any, wrapper: Callable[..., Any]) -> None:
        object.__setattr__(self, "_task", task)
        # The wrapper's attributes (the step penstock declared among them), as
        # functools.update_wrapper copies them: @flow above finds the step here.
        object.__getattribute__(self, "__dict__").update(vars(wrapper))
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            object.__setattr__(self, attr, getattr(wrapper, attr, None))
        object.__setattr__(self, "__wrapped__", wrapper)

    @property
    def task(self) -> Any:
        """The Celery task (or Celery's lazy proxy to it)."""
        return object.__getattribute__(self, "_task")

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_task"), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task here, as calling a Celery task does (the step is recorded)."""
        return object.__getattribute__(self, "_task")(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<FlowTask {self.__module__}.{self.__qualname__}>"


@overload
def flow_task(func: F, /) -> FlowTask: ...


@overload
def flow_task(
    *, after: Any = None, app: Any = None, **task_options: Any
) -> Callable[[Callable[..., Any]], FlowTask]: ...


def flow_task(
    func: Callable[..., Any] | None = None,
    /,
    *,
    after: Any = None,
    app: Any = None,
    **task_options: Any,
) -> Any:
    """Make a Celery task that is also a penstock step running in another process.

    Works bare (``@flow_task``) or called. Stack ``@flow("name")`` above it.

    Args:
        func: the task's function, when used bare (``@flow_task``).
        after: the step(s) that send this task (as in `penstock.step`).
        app: the Celery app to register the task with (``app.task``); default: Celery's
            ``shared_task``, bound to whichever app is current.
        **task_options: passed to ``app.task``/``shared_task`` unchanged (``bind``,
            ``name``, ``max_retries``, ``autoretry_for``...).

    Returns:
        A `FlowTask`: the Celery task, also declared as a step.
    """

    def decorate(fn: Callable[..., Any]) -> FlowTask:
        # @flow under @flow_task would leave the flow on the function, not the task: refused.
        wrapper = declare_step(fn, decorator="@flow_task", after=after, transport="celery")
        if app is None:
            from celery import shared_task  # type: ignore[import-untyped]

            task = shared_task(**task_options)(wrapper)
        else:
            task = app.task(**task_options)(wrapper)
        install()
        return FlowTask(task, wrapper)

    if func is not None:
        return decorate(func)
    return decorate


# --- signal handlers -----------------------------------------------------------------------


def _before_task_publish(headers: Any = None, **kwargs: Any) -> None:
    """Write the current run's context into the outgoing message's headers (in place)."""
    try:
        if isinstance(headers, dict):
            inject(headers, dict_setter)
    except Exception as exc:  # inject does not raise; this guards the host all the same
        _log.debug("penstock could not add trace headers to a Celery task: %r", exc)


def _task_prerun(task_id: Any = None, task: Any = None, **kwargs: Any) -> None:
    """Continue the sender's run (if the message carries one) while the task runs."""
    try:
        request = getattr(task, "request", None)
        if request is None or not isinstance(task_id, str):
            return
        remote = extract(request, celery_getter)
        if remote is None:
            return
        delivery = getattr(request, "delivery_info", None)
        queue = delivery.get("routing_key") if isinstance(delivery, dict) else None
        runs = getattr(task, _RUNS, None)
        if not isinstance(runs, dict):
            runs = {}
            setattr(task, _RUNS, runs)
        block = remote.continue_run(kind="consumer", attributes=messaging("celery", queue))
        block.__enter__()
        runs.setdefault(task_id, []).append(block)
    except Exception as exc:
        _log.debug("penstock could not continue the run of Celery task %r: %r", task_id, exc)


def _task_postrun(task_id: Any = None, task: Any = None, **kwargs: Any) -> None:
    """Leave the block entered by `_task_prerun` for this task id (it ran, or failed)."""
    try:
        runs = getattr(task, _RUNS, None)
        stack = runs.get(task_id) if isinstance(runs, dict) else None
        if not stack:
            return
        block = stack.pop()
        if not stack:
            del runs[task_id]  # type: ignore[union-attr]  # a dict: checked above
        block.__exit__(None, None, None)
    except Exception as exc:
        _log.debug("penstock could not end the run of Celery task %r: %r", task_id, exc)


def install() -> None:
    """Connect penstock's Celery signal handlers (idempotent)."""
    global _installed
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, weak=False, dispatch_uid=_PUBLISH_UID)
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid=_PRERUN_UID)
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid=_POSTRUN_UID)
    _installed = True


def uninstall() -> None:
    """Disconnect the handlers `install` connected (idempotent)."""
    global _installed
    from celery import signals

    signals.before_task_publish.disconnect(dispatch_uid=_PUBLISH_UID)
    signals.task_prerun.disconnect(dispatch_uid=_PRERUN_UID)
    signals.task_postrun.disconnect(dispatch_uid=_POSTRUN_UID)
    _installed = False


def installed() -> bool:
    """Whether the signal handlers are connected."""
    return _installed
