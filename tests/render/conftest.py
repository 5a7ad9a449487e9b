"""Renderer test helpers: the real consumers, and flows declared with the real decorators."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from penstock import entrypoint, flow, step
from penstock._declared.registry import REGISTRY
from penstock._decorators import declare
from tests.support.graphviz import graphviz
from tests.support.mermaid import mermaid_oracle

__all__ = ["GENERATED_MODULE", "FlowShape", "declare_flow", "graphviz", "mermaid_oracle"]

#: Module that generated steps claim to come from; forgotten after each example.
GENERATED_MODULE = "penstock_render_generated"


@dataclass(frozen=True)
class FlowShape:
    """A flow to declare: step names, edges as index pairs (i < j), and per-step extras."""

    flow: str
    names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    entrypoints: frozenset[int]
    transports: dict[int, str]
    docs: dict[int, str]
    #: step index -> the condition (``when=``) on the edges into it (only steps with after).
    conditions: dict[int, str] = field(default_factory=dict)


def _function(index: int, doc: str | None) -> Callable[..., Any]:
    def fn() -> None:
        return None

    fn.__name__ = fn.__qualname__ = f"generated_{index}"
    fn.__module__ = GENERATED_MODULE
    fn.__doc__ = doc
    return fn


def declare_flow(shape: FlowShape) -> None:
    """Declare ``shape`` through ``@flow``/``@step``/``@entrypoint`` (and an integration's
    ``declare`` for transport steps), as application code would."""
    REGISTRY.forget_module(GENERATED_MODULE)
    for j, name in enumerate(shape.names):
        after = [shape.names[i] for i, k in shape.edges if k == j] or None
        fn = _function(j, shape.docs.get(j))
        when = shape.conditions.get(j) if after else None
        if j in shape.transports:
            kind = "entrypoint" if j in shape.entrypoints else "step"
            made = declare(
                fn,
                "@flow_task",
                kind=kind,
                after=after,
                name=name,
                transport=shape.transports[j],
                when=when,
            )
        elif j in shape.entrypoints:
            made = entrypoint(after=after, name=name, when=when)(fn)
        else:
            made = step(after=after, name=name, when=when)(fn)
        flow(shape.flow)(made)


@pytest.fixture
def forget_generated() -> Iterator[None]:
    """Generated steps never outlive a test."""
    yield
    REGISTRY.forget_module(GENERATED_MODULE)


@pytest.fixture
def write_modules(
    tmp_path: Path,
) -> Iterator[Callable[[dict[str, str]], Callable[[Sequence[str]], list[ModuleType]]]]:
    """Write modules to a temporary folder; returns an importer taking an import order."""
    sys.path.insert(0, str(tmp_path))
    written: list[str] = []

    def write(sources: dict[str, str]) -> Callable[[Sequence[str]], list[ModuleType]]:
        for name, source in sources.items():
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            written.append(name)
        importlib.invalidate_caches()

        def import_in(order: Sequence[str]) -> list[ModuleType]:
            for name in written:
                sys.modules.pop(name, None)
                REGISTRY.forget_module(name)
            return [importlib.import_module(name) for name in order]

        return import_in

    yield write
    sys.path.remove(str(tmp_path))
    for name in written:
        sys.modules.pop(name, None)
