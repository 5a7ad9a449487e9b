"""Which declared edge a call takes: the happens-before rule, in one place.

A call of ``b`` takes the declared edge ``a -> b`` when

1. a call of ``a`` **completed earlier under the same caller** (the most recent such call
   when several of ``b``'s declared predecessors did), else
2. a call of ``a`` **encloses** it: its caller, or a caller further up (the nearest one).

When neither holds, the call is an undeclared transition: from its immediate predecessor (the
sibling that completed last before it), else from its caller. Only steps of the call's flow
count; a step is no transition from itself (recursion, or the same step called again in a
loop with nothing completed before it); a call with no caller in the flow (a run's first
step) takes no edge. Across processes, the step that propagation names is the caller.

So an entrypoint that calls ``confirm_order()``, then ``publish_order_placed()`` (declared
after ``confirm_order``), then ``notify_customer()`` (declared after ``confirm_order``) takes
``confirm_order -> publish_order_placed`` and ``confirm_order -> notify_customer``: running
fan-out siblings one after the other is no drift.

The running process applies it (`penstock._runtime.drift`) and records the answer on each
call (``edge_from`` in log records, ``penstock.edge_from`` on spans, record layout version
`SCHEMA_VERSION` 2 on). Readers of older records rebuild the caller chain and the earlier
siblings from the recorded span tree and apply the same function (`edge_source`).

Nothing here imports anything: the rule is plain code over step names.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Iterable

__all__ = ["EDGE_FROM_FIELD", "EDGE_FROM_SINCE", "SCHEMA_VERSION", "edge_source"]

#: The version of the record layout penstock writes (``penstock_schema`` in log lines,
#: ``penstock.schema`` on spans). 2 added ``edge_from``; records without a version are 1.
SCHEMA_VERSION = 2
#: The first layout version whose records carry ``edge_from`` (``penstock.edge_from``).
EDGE_FROM_SINCE = 2
#: The field naming the source of the edge a call took (``penstock.`` prefixed on spans).
EDGE_FROM_FIELD = "edge_from"


def edge_source(
    step: str,
    declared_after: Container[str],
    completed: Iterable[str],
    enclosing: Iterable[str],
) -> tuple[str | None, bool]:
    """The step a call of ``step`` came from, and whether that edge is declared.

    Args:
        step: the called step.
        declared_after: the steps ``step`` is declared after (its declared predecessors).
        completed: the steps of the flow that completed earlier under the same caller,
            **most recent first** (repeats allowed).
        enclosing: the steps of the flow that enclose the call, **nearest first** (the caller,
            its caller...). Empty for a run's first step.

    Returns:
        ``(source, declared)``: ``source`` is ``None`` when the call takes no transition (no
        caller in the flow, or only itself before it).
    """
    siblings = [name for name in completed if name != step]
    for name in siblings:
        if name in declared_after:
            return name, True
    callers = list(enclosing)
    for name in callers:
        if name != step and name in declared_after:
            return name, True
    if siblings:
        return siblings[0], False
    if callers and callers[0] != step:  # a step calling itself is no transition
        return callers[0], False
    return None, False
