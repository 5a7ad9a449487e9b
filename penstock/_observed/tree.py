"""Spans written before penstock put the run structure on them: placed from the span tree.

Older penstock spans carry no ``penstock.parent_step``/``penstock.predecessor``. Their
caller is the nearest penstock ancestor in the trace (foreign spans in between are walked
through), and their predecessor the penstock sibling under that caller that ended last before
they started (the caller itself when none did, or when the caller ran in another process: a
continued run starts afresh there). Only the traces that hold such spans are read again, in a
second pass, so files written by a current penstock are still read in one.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from penstock._observed.documents import documents
from penstock._observed.otlp import hex_id, resource_spans, span_record
from penstock._observed.record import RawRecord, Skipped

__all__ = ["place_held_spans"]


@dataclass
class _Node:
    span_id: str
    parent_id: str | None
    step: str | None
    start: int
    end: int
    resource: str
    #: The record of a held span (an older penstock's, with a parent), to complete.
    record: RawRecord | None


def place_held_spans(files: Sequence[Path], traces: set[str]) -> Iterator[RawRecord]:
    """The records of the held spans of ``traces``, with caller and predecessor filled in."""
    nodes: dict[tuple[str, str], _Node] = {}
    for path in files:
        for number, data in documents(path, Skipped()):
            found = resource_spans(data)
            if type(found) is not list:
                continue
            try:
                for resource in found:
                    # Processes are told apart by resource, and by file (two processes
                    # with SDK-default resources write the same attributes).
                    attrs = (resource.get("resource") or {}).get("attributes")
                    key = f"{path}\n{json.dumps(attrs, sort_keys=True, default=str)}"
                    scopes = resource.get("scopeSpans") or resource.get(
                        "instrumentationLibrarySpans"
                    )
                    for scope in scopes or ():
                        for span in scope.get("spans") or ():
                            _collect(nodes, span, traces, key, str(path), number)
            except (ValueError, AttributeError, TypeError, RecursionError):
                continue  # counted by the first pass
    yield from _placed(nodes)


def _collect(
    nodes: dict[tuple[str, str], _Node],
    span: Any,
    traces: set[str],
    resource: str,
    file: str,
    number: int,
) -> None:
    trace = hex_id(span.get("traceId"), 16)
    span_id = hex_id(span.get("spanId"), 8)
    if trace not in traces or span_id is None:
        return
    record = span_record(span, file, number, Skipped())
    parent = hex_id(span.get("parentSpanId"), 8) if span.get("parentSpanId") else None
    try:
        start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
    except (KeyError, TypeError, ValueError):
        start = end = 0
    legacy = record is not None and not any(
        a.get("key") == "penstock.schema" for a in span.get("attributes") or ()
    )
    nodes[(trace, span_id)] = _Node(
        span_id,
        parent,
        record[2] if record else None,
        start,
        end,
        resource,
        record if legacy else None,
    )


def _placed(nodes: dict[tuple[str, str], _Node]) -> Iterator[RawRecord]:
    def caller(trace: str, node: _Node) -> _Node | None:
        seen = 0
        parent = node.parent_id
        while parent is not None and seen < 10_000:
            up = nodes.get((trace, parent))
            if up is None:
                return None
            if up.step is not None:
                return up
            parent = up.parent_id
            seen += 1
        return None

    callers: dict[tuple[str, str], _Node | None] = {}
    children: dict[tuple[str, str], list[_Node]] = {}
    for (trace, span_id), node in nodes.items():
        if node.step is None:
            continue
        up = caller(trace, node)
        callers[(trace, span_id)] = up
        if up is not None:
            children.setdefault((trace, up.span_id), []).append(node)
    # Each caller's children of one process, ordered by end: the predecessor of a call is
    # found by bisection (n log n, however many siblings a caller has).
    ordered: dict[tuple[str, str, str], tuple[list[tuple[int, int]], list[_Node]]] = {}
    for (trace, up_id), group in children.items():
        by_resource: dict[str, list[_Node]] = {}
        for child in group:
            by_resource.setdefault(child.resource, []).append(child)
        for resource, kids in by_resource.items():
            kids.sort(key=lambda s: (s.end, s.start))
            ordered[(trace, up_id, resource)] = ([(k.end, k.start) for k in kids], kids)
    for (trace, span_id), node in nodes.items():
        record = node.record
        if record is None or node.parent_id is None:
            continue  # current spans and roots were read in the first pass
        up = callers[(trace, span_id)]
        if up is None:
            yield record  # under foreign spans only: the run's first step
            continue
        pred = up.step
        if up.resource == node.resource:
            keys, kids = ordered.get((trace, up.span_id, node.resource), ([], []))
            index = bisect_right(keys, (node.start, 1 << 64)) - 1
            while index >= 0 and kids[index] is node:
                index -= 1
            if index >= 0:
                pred = kids[index].step
        yield (*record[:3], up.step, pred, *record[5:])
