"""penstock: declare business flows with decorators.

The same decorators draw the flow (a static graph built at import time) and record every run
of it through a pluggable backend.

Only the decorators and the exceptions are imported eagerly: application code imports penstock
at start-up, and its graph, rendering and checking code is needed only by docs builds, the CLI
and tests, so those names load on first access (PEP 562).
"""

from __future__ import annotations

from penstock._declare import entrypoint, flow, step
from penstock._errors import (
    BackendError,
    DefinitionError,
    DocsError,
    FlowNotFoundError,
    GraphError,
    PenstockError,
    RenderError,
)
from penstock._runtime import current_correlation_id
from penstock._version import __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs more than the rest of
# `import penstock`; type checkers treat this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from penstock._check import Problem, ProblemKind, check
    from penstock._configure import configure, reset
    from penstock._correlation import CorrelationIdFilter, add_correlation_id
    from penstock._drift import observed_edges
    from penstock._graph import Edge, FlowGraph, StepNode, flows, get_flow
    from penstock._overlay import EdgeMark, NodeMark, Overlay
    from penstock._render import generate_dag
    from penstock._threads import ContextThreadPoolExecutor, bind_context

__all__ = [
    "BackendError",
    "ContextThreadPoolExecutor",
    "CorrelationIdFilter",
    "DefinitionError",
    "DocsError",
    "Edge",
    "EdgeMark",
    "FlowGraph",
    "FlowNotFoundError",
    "GraphError",
    "NodeMark",
    "Overlay",
    "PenstockError",
    "Problem",
    "ProblemKind",
    "RenderError",
    "StepNode",
    "__version__",
    "add_correlation_id",
    "bind_context",
    "check",
    "configure",
    "current_correlation_id",
    "entrypoint",
    "flow",
    "flows",
    "generate_dag",
    "get_flow",
    "observed_edges",
    "reset",
    "step",
]

_LAZY = {
    "ContextThreadPoolExecutor": "penstock._threads",
    "CorrelationIdFilter": "penstock._correlation",
    "Edge": "penstock._graph",
    "EdgeMark": "penstock._overlay",
    "FlowGraph": "penstock._graph",
    "NodeMark": "penstock._overlay",
    "Overlay": "penstock._overlay",
    "Problem": "penstock._check",
    "ProblemKind": "penstock._check",
    "StepNode": "penstock._graph",
    "add_correlation_id": "penstock._correlation",
    "bind_context": "penstock._threads",
    "check": "penstock._check",
    "configure": "penstock._configure",
    "flows": "penstock._graph",
    "generate_dag": "penstock._render",
    "get_flow": "penstock._graph",
    "observed_edges": "penstock._drift",
    "reset": "penstock._configure",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'penstock' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
