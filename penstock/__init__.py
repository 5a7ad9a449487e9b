"""penstock: declare business flows with decorators.

The same decorators draw the flow (a static graph built at import time) and record every run
of it through a pluggable backend.

Only the decorators and the exceptions are imported eagerly: application code imports penstock
at start-up, and its graph, rendering and checking code is needed only by docs builds, the CLI
and tests, so those names load on first access (PEP 562).
"""

from __future__ import annotations

from penstock._declared.spec import FlowStep
from penstock._decorators import declare_channels, declare_step, entrypoint, flow, step
from penstock._errors import (
    BackendError,
    CoverageError,
    DefinitionError,
    DiffError,
    DocsError,
    DumpError,
    FlowNotFoundError,
    GraphError,
    ObservedError,
    PenstockError,
    ProjectConfigError,
    RenderError,
    RevisionError,
)
from penstock._runtime.lifecycle import current_correlation_id
from penstock._version import __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs more than the rest of
# `import penstock`; type checkers treat this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from penstock._graph.checks import Problem, ProblemKind, check
    from penstock._graph.links import FlowLink, flow_links
    from penstock._graph.model import Edge, FlowGraph, StepNode, flows, get_flow
    from penstock._observed.replay import ReplayStep, RunReplay, replay_run
    from penstock._observed.results import ObservedEdge, ObservedFlow, ObservedStep
    from penstock._observed.tally import observe
    from penstock._render.dag import generate_dag
    from penstock._render.overlay import EdgeMark, LegendKey, NodeMark, Overlay
    from penstock._runtime.configure import configure, reset
    from penstock._runtime.correlation import CorrelationIdFilter, add_correlation_id
    from penstock._runtime.drift import observed_edges
    from penstock._runtime.threads import ContextThreadPoolExecutor, bind_context

__all__ = [
    "BackendError",
    "ContextThreadPoolExecutor",
    "CorrelationIdFilter",
    "CoverageError",
    "DefinitionError",
    "DiffError",
    "DocsError",
    "DumpError",
    "Edge",
    "EdgeMark",
    "FlowGraph",
    "FlowLink",
    "FlowNotFoundError",
    "FlowStep",
    "GraphError",
    "LegendKey",
    "NodeMark",
    "ObservedEdge",
    "ObservedError",
    "ObservedFlow",
    "ObservedStep",
    "Overlay",
    "PenstockError",
    "Problem",
    "ProblemKind",
    "ProjectConfigError",
    "RenderError",
    "ReplayStep",
    "RevisionError",
    "RunReplay",
    "StepNode",
    "__version__",
    "add_correlation_id",
    "bind_context",
    "check",
    "configure",
    "current_correlation_id",
    "declare_channels",
    "declare_step",
    "entrypoint",
    "flow",
    "flow_links",
    "flows",
    "generate_dag",
    "get_flow",
    "observe",
    "observed_edges",
    "replay_run",
    "reset",
    "step",
]

_LAZY = {
    "ContextThreadPoolExecutor": "penstock._runtime.threads",
    "CorrelationIdFilter": "penstock._runtime.correlation",
    "Edge": "penstock._graph.model",
    "EdgeMark": "penstock._render.overlay",
    "FlowGraph": "penstock._graph.model",
    "FlowLink": "penstock._graph.links",
    "LegendKey": "penstock._render.overlay",
    "NodeMark": "penstock._render.overlay",
    "ObservedEdge": "penstock._observed.results",
    "ObservedFlow": "penstock._observed.results",
    "ObservedStep": "penstock._observed.results",
    "Overlay": "penstock._render.overlay",
    "Problem": "penstock._graph.checks",
    "ProblemKind": "penstock._graph.checks",
    "ReplayStep": "penstock._observed.replay",
    "RunReplay": "penstock._observed.replay",
    "StepNode": "penstock._graph.model",
    "add_correlation_id": "penstock._runtime.correlation",
    "bind_context": "penstock._runtime.threads",
    "check": "penstock._graph.checks",
    "configure": "penstock._runtime.configure",
    "flow_links": "penstock._graph.links",
    "flows": "penstock._graph.model",
    "generate_dag": "penstock._render.dag",
    "get_flow": "penstock._graph.model",
    "observe": "penstock._observed.tally",
    "observed_edges": "penstock._runtime.drift",
    "replay_run": "penstock._observed.replay",
    "reset": "penstock._runtime.configure",
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
