"""The decorators: ``@flow``, ``@step`` and ``@entrypoint``.

Each one validates its arguments at once (errors carry the function's ``file:line``), then
attaches a new immutable `StepSpec` to the function and writes it to the
registry. The first of them to touch a plain function also wraps it for run-time recording;
the others update the same wrapper's spec.
"""

from __future__ import annotations

import sys

from penstock._declared.registry import REGISTRY
from penstock._declared.spec import (
    HANDLE_ATTR,
    FlowStep,
    Membership,
    StepHandle,
    StepSpec,
    handle_of,
)
from penstock._errors import DefinitionError
from penstock._runtime.instrument import instrument
from penstock._source import source_location

# Not `from typing import TYPE_CHECKING`: importing typing costs more than the rest of
# `import penstock`; type checkers treat this name the same way.
TYPE_CHECKING = False

if not TYPE_CHECKING:

    def overload(func: object) -> object:
        """Stand-in for ``typing.overload`` at run time (the overloads only matter to checkers)."""
        return func

else:
    from collections.abc import Callable, Sequence
    from typing import Any, ParamSpec, TypeAlias, TypeVar, overload

    from penstock._declared.spec import AfterRef, StepKind

    P = ParamSpec("P")
    R = TypeVar("R")
    F = TypeVar("F", bound=Callable[..., Any])

    #: What ``after=`` accepts: a step name, a decorated function, a `FlowStep` of another
    #: flow, or a list of them.
    After: TypeAlias = (
        str | Callable[..., Any] | FlowStep | Sequence[str | Callable[..., Any] | FlowStep]
    )


__all__ = ["declare_channels", "declare_step", "entrypoint", "flow", "step"]


def flow(name: str, *, after: After | None = None, when: str | None = None) -> Callable[[F], F]:
    """Put a step or entrypoint in the flow ``name``.

    Stack several ``@flow`` to put one function in several flows. ``after=`` here overrides the
    step's own ``after=`` for this flow only; otherwise the step's ``after`` names are looked up
    among the steps of each flow it belongs to.

    Args:
        name: the flow's name; any non-empty text.
        after: predecessors in this flow only (a step name, a decorated function, or a list).
        when: the condition under which the step runs after ``after`` in this flow (a label
            on those edges, shown verbatim); needs ``after``.

    Raises:
        DefinitionError: the name is empty or not a string, ``after`` has the wrong type, or
            ``when`` is given without ``after``.
    """
    if not isinstance(name, str) or not name.strip():
        where = _caller_location()
        if callable(name):
            raise DefinitionError(
                f'{where}: @flow needs a flow name: write @flow("my_flow"), not bare @flow '
                f"(found on {getattr(name, '__qualname__', name)!r})"
            )
        raise DefinitionError(f"{where}: @flow needs a non-empty string as flow name, got {name!r}")
    _check_text("flow name", name, _caller_location)
    per_flow = None if after is None else _normalize_after(after, _caller_location)
    _check_when(f"@flow({name!r})", when, per_flow, _caller_location)

    def decorate(obj: F) -> F:
        wrapped: F = _apply(obj, "@flow", add_flow=Membership(name, per_flow, when))
        return wrapped

    return decorate


@overload
def step(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def step(
    *,
    after: After | None = None,
    name: str | None = None,
    description: str | None = None,
    when: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    after: After | None = None,
    name: str | None = None,
    description: str | None = None,
    when: str | None = None,
) -> Any:
    """Declare a step; ``after=`` names the steps that run before it.

    Works bare (``@step``) or called (``@step(after="fetch")``). A step without ``after`` that is
    not an entrypoint is reported as unreachable by `penstock.check`.

    Args:
        func: the function, when used bare (``@step``).
        after: predecessor(s): a step name, the decorated function itself, or a list of either
            (fan-in). Resolved lazily, so it may name a step defined in a module imported later.
        name: the step's name (default: the function's ``__name__``).
        description: replaces the docstring summary in diagrams.
        when: the condition under which this step runs after its ``after`` steps, e.g.
            ``"declined"``: it labels those edges, and steps after the same step with a
            ``when`` are drawn as alternatives (only one runs) rather than a fan-out (all
            run). Text shown verbatim; needs ``after``.

    Raises:
        DefinitionError: a wrong argument, e.g. ``when`` without ``after`` (with the
            ``file:line`` of the decorator).
    """
    return _kind_decorator("step", "@step", func, after, name, description, when)


@overload
def entrypoint(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def entrypoint(
    *,
    after: After | None = None,
    name: str | None = None,
    description: str | None = None,
    when: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def entrypoint(
    func: Callable[..., Any] | None = None,
    /,
    *,
    after: After | None = None,
    name: str | None = None,
    description: str | None = None,
    when: str | None = None,
) -> Any:
    """Declare a root of a flow: calling it starts a run of the flow.

    Works bare (``@entrypoint``) or called, with the same options as `step`.
    """
    return _kind_decorator("entrypoint", "@entrypoint", func, after, name, description, when)


def declare(
    obj: Any,
    label: str,
    *,
    kind: StepKind | None = None,
    after: After | None = None,
    name: str | None = None,
    description: str | None = None,
    transport: str | None = None,
    when: str | None = None,
    sends: tuple[tuple[str, str], ...] = (),
    receives: tuple[tuple[str, str], ...] = (),
) -> Any:
    """Declare ``obj`` as a step for an integration's own decorator (e.g. ``flow_task``).

    ``label`` is the decorator as users write it, used in error messages. ``sends`` and
    ``receives`` add ``(transport, channel)`` pairs (a Kafka topic produced or consumed): a
    sender and a receiver of the same pair in two flows link those flows.
    """
    refs = None if after is None else _normalize_after(after, _caller_location)
    _check_when(label, when, refs, _caller_location)
    return _apply(
        obj,
        label,
        kind=kind,
        after=refs,
        name=name,
        description=description,
        transport=transport,
        when=when,
        sends=sends,
        receives=receives,
    )


def declare_step(
    func: Callable[P, R],
    *,
    decorator: str,
    kind: StepKind = "step",
    after: After | None = None,
    name: str | None = None,
    description: str | None = None,
    transport: str | None = None,
    when: str | None = None,
    receives: tuple[tuple[str, str], ...] = (),
) -> Callable[P, R]:
    """Declare ``func`` as a step from an integration's own decorator.

    What `step` and `entrypoint` do, for decorators such as
    ``penstock.contrib.celery.flow_task``: the call is recorded like any step's, ``transport``
    marks a step that runs in another process (drawn as a dotted, labelled edge), and errors
    name ``decorator`` as users write it. The decorator goes directly on the function, under
    ``@flow``: a function that is already a penstock step is refused.

    Args:
        func: the function to declare.
        decorator: the integration's decorator as users write it (``"@flow_task"``).
        kind: ``"step"`` or ``"entrypoint"``.
        after: as in `step`.
        name: as in `step`.
        description: as in `step`.
        transport: ``"celery"``, ``"kafka"``, ``"rabbitmq"``... when the step runs in another
            process than the step(s) it comes after.
        when: as in `step`: the condition on the edges from ``after``.
        receives: ``(transport, channel)`` pairs the step consumes (a Kafka topic): a step
            of another flow that sends the same pair (see `declare_channels`) links the flows.

    Returns:
        The wrapper that records each call; stack ``@flow`` above it.

    Raises:
        DefinitionError: ``func`` is already a penstock step, or an argument is invalid
            (the message names ``decorator`` and the function's ``file:line``).
    """
    found = handle_of(func)
    if found is not None:
        spec = found.spec
        raise DefinitionError(
            f"{spec.location}: put {decorator} directly on the function, under @flow and any "
            f"other penstock decorator ({spec.qualname!r})"
        )
    wrapper: Callable[P, R] = declare(
        func,
        decorator,
        kind=kind,
        after=after,
        name=name,
        description=description,
        transport=transport,
        when=when,
        receives=receives,
    )
    return wrapper


def declare_channels(
    func: Callable[P, R],
    *,
    decorator: str,
    sends: Sequence[tuple[str, str]] = (),
    receives: Sequence[tuple[str, str]] = (),
) -> Callable[P, R]:
    """Record what a step hands work to, or takes work from, for an integration's decorator.

    ``sends`` and ``receives`` are ``(transport, channel)`` pairs, such as
    ``("kafka", "order-events")``: a step that sends a pair and a step of another flow that
    receives it link the two flows in diagrams and in ``penstock map``. Unlike
    `declare_step`, it may be stacked on a function that is already a step (or become one
    later); nothing changes at run time.

    Args:
        func: the function (or step) to mark.
        decorator: the integration's decorator as users write it (``"@produces"``).
        sends: pairs the step produces.
        receives: pairs the step consumes.

    Returns:
        The step's wrapper (``func`` itself when it already was one).

    Raises:
        DefinitionError: a pair is not two non-empty strings (the message names ``decorator``).
    """
    for pair in (*sends, *receives):
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(p, str) and p.strip() for p in pair)
        ):
            raise DefinitionError(
                f"{_caller_location()}: {decorator}: a channel is a (transport, name) pair of "
                f"non-empty strings, got {pair!r}"
            )
    wrapper: Callable[P, R] = _apply(func, decorator, sends=tuple(sends), receives=tuple(receives))
    return wrapper


def _kind_decorator(
    kind: StepKind,
    label: str,
    func: Callable[..., Any] | None,
    after: After | None,
    name: str | None,
    description: str | None,
    when: str | None = None,
) -> Any:
    if func is not None:
        if not callable(func) and not isinstance(func, (classmethod, staticmethod)):
            raise DefinitionError(
                f"{_caller_location()}: {label} must decorate a function, got {func!r}"
            )
        return _apply(func, label, kind=kind)

    # Locations are looked up only for errors: walking frames on every decoration is costly.
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise DefinitionError(
                f"{_caller_location()}: {label}(name=...) must be a non-empty string"
            )
        _check_text("step name", name, _caller_location)
    if description is not None and not isinstance(description, str):
        raise DefinitionError(f"{_caller_location()}: {label}(description=...) must be a string")
    refs = None if after is None else _normalize_after(after, _caller_location)
    _check_when(label, when, refs, _caller_location)

    def decorate(obj: Callable[P, R]) -> Callable[P, R]:
        wrapped: Callable[P, R] = _apply(
            obj, label, kind=kind, after=refs, name=name, description=description, when=when
        )
        return wrapped

    return decorate


def _apply(
    obj: Any,
    label: str,
    *,
    kind: StepKind | None = None,
    after: tuple[AfterRef, ...] | None = None,
    name: str | None = None,
    description: str | None = None,
    add_flow: Membership | None = None,
    transport: str | None = None,
    when: str | None = None,
    sends: tuple[tuple[str, str], ...] = (),
    receives: tuple[tuple[str, str], ...] = (),
) -> Any:
    """Validate and record one decorator's contribution; wrap ``obj`` if it is new.

    Integrations (``penstock.contrib``) call this with ``transport=`` to mark steps that run in
    another process.
    """
    if isinstance(obj, (classmethod, staticmethod)):
        inner = _apply(
            obj.__func__,
            label,
            kind=kind,
            after=after,
            name=name,
            description=description,
            add_flow=add_flow,
            transport=transport,
            when=when,
            sends=sends,
            receives=receives,
        )
        return type(obj)(inner)
    if not callable(obj):
        raise DefinitionError(
            f"{_caller_location()}: {label} must decorate a function or method, got {obj!r}"
        )

    handle = handle_of(obj)
    if handle is None:
        spec = _new_spec(obj)
        handle = StepHandle(spec)
        wrapper = instrument(obj, handle)
        setattr(wrapper, HANDLE_ATTR, handle)
    else:
        spec = handle.spec
        wrapper = obj

    spec = _updated(spec, label, kind, after, name, description, add_flow)
    if transport is not None:
        spec = spec.replace(transport=transport)
    if when is not None:
        spec = spec.replace(when=when)
    if sends or receives:
        spec = spec.replace(
            sends=tuple(dict.fromkeys((*spec.sends, *sends))),
            receives=tuple(dict.fromkeys((*spec.receives, *receives))),
        )
    handle.set_spec(spec)
    REGISTRY.register(spec)
    return wrapper


def _new_spec(func: Callable[..., Any]) -> StepSpec:
    file, line = source_location(func)
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    fname = getattr(func, "__name__", None) or type(func).__name__
    return StepSpec(
        module=getattr(func, "__module__", None) or "__main__",
        qualname=qualname,
        name=fname,
        kind=None,
        after=(),
        flows=(),
        description=None,
        file=file,
        line=line,
        func=func,
    )


def _updated(
    spec: StepSpec,
    label: str,
    kind: StepKind | None,
    after: tuple[AfterRef, ...] | None,
    name: str | None,
    description: str | None,
    add_flow: Membership | None,
) -> StepSpec:
    changes: dict[str, Any] = {}
    if kind is not None:
        if spec.kind == kind:
            raise DefinitionError(
                f"{spec.location}: {spec.qualname!r} is decorated with {label} twice; "
                "remove one of them"
            )
        # @entrypoint and @step stack: an entrypoint may also follow other steps.
        changes["kind"] = "entrypoint" if "entrypoint" in (kind, spec.kind) else "step"
    if after is not None:
        if spec.after and tuple(spec.after) != after:
            raise DefinitionError(
                f"{spec.location}: {spec.qualname!r} declares after= twice; "
                "give all predecessors in one list"
            )
        changes["after"] = after
    if name is not None:
        if spec.name != _default_name(spec) and spec.name != name:
            raise DefinitionError(
                f"{spec.location}: {spec.qualname!r} is named both {spec.name!r} and {name!r}"
            )
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if add_flow is not None:
        if add_flow.flow in spec.flow_names:
            raise DefinitionError(
                f"{spec.location}: {spec.qualname!r} is put in flow {add_flow.flow!r} twice"
            )
        # Decorators apply bottom-up; prepend so flows read in source order, top to bottom.
        changes["flows"] = (add_flow, *spec.flows)
    return spec.replace(**changes) if changes else spec


def _default_name(spec: StepSpec) -> str:
    return getattr(spec.func, "__name__", None) or type(spec.func).__name__


def _normalize_after(after: object, where: Callable[[], str]) -> tuple[AfterRef, ...]:
    items: Sequence[object]
    if (
        isinstance(after, (str, FlowStep))
        or callable(after)
        or isinstance(after, (classmethod, staticmethod))
    ):
        items = [after]
    elif isinstance(after, (list, tuple)):
        items = after
    else:
        raise DefinitionError(
            f"{where()}: after= takes a step name, a decorated function, a FlowStep, or a list "
            "of them; "
            f"got {type(after).__name__} {after!r}"
        )
    refs: list[AfterRef] = []
    for item in items:
        if isinstance(item, (classmethod, staticmethod)):
            item = item.__func__
        if isinstance(item, FlowStep):
            refs.append(item)
        elif isinstance(item, str):
            if not item.strip():
                raise DefinitionError(f"{where()}: after= contains an empty step name")
            refs.append(item)
        elif callable(item):
            refs.append(item)
        else:
            raise DefinitionError(
                f"{where()}: after= items must be step names or decorated functions; "
                f"got {type(item).__name__} {item!r}"
            )
    return tuple(refs)


def _check_when(
    label: str, when: object, after: tuple[AfterRef, ...] | None, where: Callable[[], str]
) -> None:
    if when is None:
        return
    if not isinstance(when, str) or not when.strip():
        raise DefinitionError(
            f"{where()}: {label}(when=...) must be a non-empty string, got {when!r}"
        )
    _check_text("condition", when, where)
    if not after:
        raise DefinitionError(
            f"{where()}: {label}(when={when!r}) needs after=: a condition labels the edges "
            "from the steps this one runs after; name them in the same decorator"
        )


def _check_text(what: str, text: str, where: Callable[[], str]) -> None:
    for ch in text:
        if (
            ch in "\r\n\x85\u2028\u2029"
            or ord(ch) < 32
            or ord(ch) == 127
            or (0xD800 <= ord(ch) <= 0xDFFF)
        ):
            raise DefinitionError(
                f"{where()}: {what} {text!r} contains the control character {ch!r}; "
                "names must be printable text on one line"
            )


def _caller_location() -> str:
    """``file:line`` of the user code that applied the decorator (for errors without a function).

    Walks out of penstock's own frames, so integrations' decorators report their user's line.
    """
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("penstock"):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
