"""``penstock dump``: every flow as one JSON document, and reading such a document back.

The document (schema ``penstock.flows``, version 1, shipped as ``schema/flows-v1.schema.json``)
holds one ``penstock.flow`` object per flow (`FlowGraph.as_dict`), sorted by flow name.
It is deterministic byte for byte: the same code dumped from the same folder gives the same
text, so a dump can be committed, cached by CI, or compared with ``penstock diff``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from penstock._errors import DumpError
from penstock._gc_pause import gc_paused
from penstock._graph.dump_check import check_document, check_nesting
from penstock._graph.model import FlowGraph

__all__ = [
    "DUMP_SCHEMA",
    "DUMP_VERSION",
    "Dump",
    "dump_document",
    "dump_text",
    "read_dump",
    "read_dump_document",
]

#: The ``schema`` value of a dump document.
DUMP_SCHEMA = "penstock.flows"
#: Version of the dump layout; a reader refuses versions it does not know.
DUMP_VERSION = 1


@dataclass(frozen=True)
class Dump:
    """A dump read back.

    Attributes:
        flows: the flows by name, sorted.
        bodies: fingerprints of the step functions by ``module.qualname`` (empty in dumps
            written without them); `penstock diff` uses them to recognise a renamed function.
    """

    flows: dict[str, FlowGraph]
    bodies: dict[str, str] = field(default_factory=dict)


def dump_document(
    graphs: Iterable[FlowGraph],
    root: str | os.PathLike[str] | None = None,
    *,
    bodies: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The dump of ``graphs`` as a JSON-ready dictionary.

    Args:
        graphs: the flows to write (any order: they are sorted by name).
        root: step files under this folder are written relative to it (with ``/``), so dumps
            made in different checkouts of the same code are equal; other files stay as
            they are. Default: the current directory.
        bodies: fingerprints of the step functions by ``module.qualname``, written as the
            optional ``bodies`` object.
    """
    base = Path(root if root is not None else os.getcwd()).resolve()
    flows = sorted(graphs, key=lambda g: g.name)
    document: dict[str, Any] = {
        "schema": DUMP_SCHEMA,
        "version": DUMP_VERSION,
        "flows": [_relative(g, base).as_dict() for g in flows],
    }
    if bodies:
        document["bodies"] = dict(sorted(bodies.items()))
    return document


def dump_text(document: Mapping[str, Any]) -> str:
    """The document as text: two-space indents, non-ASCII kept, one final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def read_dump(text: str, source: str) -> dict[str, FlowGraph]:
    """Read a dump (or a single ``penstock.flow`` document) back into graphs by flow name.

    Raises:
        DumpError: see `read_dump_document`.
    """
    return read_dump_document(text, source).flows


def read_dump_document(text: str, source: str) -> Dump:
    """Read a dump (or a single ``penstock.flow`` document), checked before it is trusted.

    Args:
        text: the file's content.
        source: where it came from, for error messages (a file name).

    Raises:
        DumpError: too deeply nested, not JSON, or not a valid dump of a version this penstock
            reads; the message names the place (``flows[3].steps[2].name: expected a string``).
    """
    check_nesting(text, source)
    with gc_paused():
        return _read_checked(text, source)


def _read_checked(text: str, source: str) -> Dump:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DumpError(f"{source} is not a penstock dump: not JSON ({exc})") from None
    if isinstance(data, dict) and data.get("schema") not in ("penstock.flow", DUMP_SCHEMA):
        raise DumpError(
            f"{source} is not a penstock dump: schema={data.get('schema')!r} "
            f"(write one with `penstock dump -o FILE`)"
        )
    check_document(data, source)
    if data["schema"] == "penstock.flow":
        # One flow, as written by `penstock dag FLOW -f json`.
        graph = FlowGraph.from_dict(data)
        return Dump({graph.name: graph})
    out = {g.name: g for g in map(FlowGraph.from_dict, data["flows"])}
    return Dump(dict(sorted(out.items())), dict(data.get("bodies", {})))


def _relative(graph: FlowGraph, base: Path) -> FlowGraph:
    steps = tuple(replace(s, file=_relative_file(s.file, base)) for s in graph.steps)
    return replace(graph, steps=steps)


def _relative_file(file: str, base: Path) -> str:
    if not file or file.startswith("<") or not os.path.isabs(file):
        return file
    try:
        return Path(file).resolve().relative_to(base).as_posix()
    except ValueError:
        return file
