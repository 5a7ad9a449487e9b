"""The header lists the W3C validation harness sends, read by running its tests without HTTP.

Each level-1 test method runs once on an instance whose ``make_request`` only records the
headers it is given (and answers as a conformant service would, per `tests.conformance.oracle`,
so that the test's own expressions keep running) and whose assertions do nothing; so every
request of every test is captured as the harness would send it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import unittest
from pathlib import Path
from typing import Any

from tests.conformance import oracle

_TRACEPARENT = ["traceparent", "00-" + "1" * 32 + "-" + "1" * 16 + "-01"]


def _answer(case: list[tuple[str, str]]) -> list[list[str]]:
    state = oracle.tracestate([v for k, v in case if k.lower() == "tracestate"])
    return [_TRACEPARENT, ["tracestate", state]] if state else [_TRACEPARENT]


def _no_op(*args: Any, **kwargs: Any) -> None:
    return None


def suite_cases(harness: Path, classes: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    """Every header list the harness's ``classes`` send, in order, without duplicates."""
    sys.path.insert(0, str(harness))
    try:
        spec = importlib.util.spec_from_file_location("w3c_harness_cases", harness / "test.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(harness))
    cases: list[list[tuple[str, str]]] = []

    def record(self: Any, headers: list[list[str]], count: int = 1) -> list[dict[str, Any]]:
        case = [(str(k), str(v)) for k, v in headers]
        if case not in cases:
            cases.append(case)
        return [{"headers": _answer(case)} for _ in range(count)]

    for name in classes:
        base = getattr(module, name)
        quiet = {n: _no_op for n in dir(unittest.TestCase) if n.startswith("assert")}
        cls = type(f"Capturing{name}", (base,), {"make_request": record, **quiet})
        for method in sorted(n for n in dir(base) if n.startswith("test_")):
            # A check on an answer may break: the headers sent so far are recorded.
            with contextlib.suppress(Exception):
                getattr(cls(method), method)()
    return cases
