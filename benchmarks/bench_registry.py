"""Declaring, checking and rendering many flows (issue 2).

Targets: 10,000 steps in 100 flows are declared (real decorated functions in real modules),
checked (``penstock.check(flow)`` for every flow) and rendered to Mermaid in at most 1 s in
total; and the work grows linearly: the time for 10,000 steps is at most 12 times the time for
1,000 steps (10 flows), measured in the same run.

Module sources are generated and compiled before the clock starts, so the timing covers what
an import of those modules costs at run time: executing the module body, which runs the
decorators. The baseline for declaring is the same modules with the decorators removed.
"""

from __future__ import annotations

import gc
import sys
import time
import types
from collections.abc import Callable

import penstock
from penstock._declared.registry import REGISTRY

STEPS_PER_FLOW = 100
TOTAL_BUDGET_S = 1.0
GROWTH_LIMIT = 12.0


def flow_source(flow: str, steps: int, decorated: bool) -> str:
    """One module declaring ``flow``: an entrypoint, then a chain with fan-out and fan-in."""
    lines = ["from penstock import entrypoint, flow, step", ""]
    for k in range(steps):
        if decorated:
            lines.append(f"@flow({flow!r})")
            if k == 0:
                lines.append("@entrypoint")
            else:
                after = [f"{flow}_s{(k - 1) // 2}"]  # a binary fan-out tree...
                if k % 10 == 0 and k >= 3:
                    after.append(f"{flow}_s{k - 3}")  # ...with some fan-in
                lines.append(f"@step(after={after!r})")
        lines += [
            f"def {flow}_s{k}(payload):",
            f'    """Step {k} of {flow}."""',
            "    return payload",
            "",
        ]
    return "\n".join(lines)


def compiled(prefix: str, flows: int, decorated: bool) -> list[tuple[str, types.CodeType]]:
    out = []
    for i in range(flows):
        name = f"{prefix}_{i:03d}"
        source = flow_source(f"f{i:03d}", STEPS_PER_FLOW, decorated)
        out.append((name, compile(source, f"<{name}>", "exec")))
    return out


def import_all(modules: list[tuple[str, types.CodeType]]) -> None:
    for name, code in modules:
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(code, module.__dict__)


def forget(modules: list[tuple[str, types.CodeType]]) -> None:
    for name, _ in modules:
        sys.modules.pop(name, None)
        REGISTRY.forget_module(name)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_once(
    plain: list[tuple[str, types.CodeType]],
    decorated: list[tuple[str, types.CodeType]],
    *,
    collect: bool,
) -> dict[str, float]:
    """Seconds for each phase of one declare + check + render of ``decorated``.

    With ``collect=False`` the cyclic garbage collector is paused while the clock runs, as
    :mod:`timeit` does by default.
    """
    forget(decorated)
    gc.collect()
    was_enabled = gc.isenabled()
    if not collect:
        gc.disable()
    try:
        times = {"plain": timed(lambda: import_all(plain))}
        forget(plain)
        times["declare"] = timed(lambda: import_all(decorated))
        names = [f"f{i:03d}" for i in range(len(decorated))]
        problems: list[object] = []
        times["check"] = timed(lambda: [problems.extend(penstock.check(f)) for f in names])
        texts: list[str] = []
        times["render"] = timed(
            lambda: [texts.append(penstock.generate_dag(f, format="mermaid")) for f in names]
        )
    finally:
        if was_enabled:
            gc.enable()
    if problems:
        raise RuntimeError(f"generated flows have problems, first: {problems[0]}")
    if len(texts) != len(decorated) or not texts[0].startswith("graph TD"):
        raise RuntimeError("rendering produced no diagrams")
    times["total"] = times["declare"] + times["check"] + times["render"]
    forget(decorated)
    return times


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: min(r[key] for r in runs) for key in runs[0]}


def run(quick: bool = False) -> list[dict[str, object]]:
    repeats = 1 if quick else 5
    sizes = {"small": 10, "large": 100}  # flows of 100 steps
    code = {
        size: (
            compiled(f"bench_plain_{flows}", flows, decorated=False),
            compiled(f"bench_flows_{flows}", flows, decorated=True),
        )
        for size, flows in sizes.items()
    }
    # Warm up: lazy imports (networkx, inspect) and first calls belong to neither size.
    measure_once(*code["small"], collect=True)
    runs: dict[tuple[str, bool], list[dict[str, float]]] = {}
    # Interleaved, so a busy moment on the machine hits both sizes alike.
    for _ in range(repeats):
        for collect in (True, False):
            for size in sizes:
                runs.setdefault((size, collect), []).append(
                    measure_once(*code[size], collect=collect)
                )
    large = best(runs[("large", True)])
    small = best(runs[("small", True)])
    large_nogc = best(runs[("large", False)])
    small_nogc = best(runs[("small", False)])
    us = 1e6
    steps = sizes["large"] * STEPS_PER_FLOW
    growth = large_nogc["total"] / small_nogc["total"]
    growth_gc = large["total"] / small["total"]
    detail = ", ".join(f"{k} {large[k] * 1000:.0f} ms" for k in ("declare", "check", "render"))
    return [
        {
            "benchmark": "10,000 steps in 100 flows: declare + check + render Mermaid",
            "baseline": "budget: 1 s",
            "baseline_us": TOTAL_BUDGET_S * us,
            "penstock_us": large["total"] * us,
            "ratio": large["total"] / TOTAL_BUDGET_S,
            "limit": 1.0,
            "ok": large["total"] <= TOTAL_BUDGET_S,
            "note": (
                f"best of {repeats}, garbage collector on; {detail}; declaring costs "
                f"{large['declare'] / steps * us:.1f} us a step "
                f"(undecorated functions: {large['plain'] / steps * us:.2f} us)"
            ),
        },
        {
            "benchmark": "growth: time(10,000 steps) / time(1,000 steps)",
            "baseline": "1,000 steps in 10 flows",
            "baseline_us": small_nogc["total"] * us,
            "penstock_us": large_nogc["total"] * us,
            "ratio": growth,
            "limit": GROWTH_LIMIT,
            "ok": growth <= GROWTH_LIMIT,
            "note": (
                f"best of {repeats}, interleaved, collector paused while timed (as timeit "
                f"does); with it on: {growth_gc:.1f} "
                f"({small['total'] * 1000:.0f} ms -> {large['total'] * 1000:.0f} ms), the "
                "difference being CPython's full collections, which only the larger heap "
                "triggers"
            ),
        },
    ]
