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
from dataclasses import replace
from pathlib import Path
from typing import Any

from penstock._errors import DiffError, GraphError
from penstock._graph.model import FlowGraph

__all__ = ["DUMP_SCHEMA", "DUMP_VERSION", "dump_document", "dump_text", "read_dump"]

#: The ``schema`` value of a dump document.
DUMP_SCHEMA = "penstock.flows"
#: Version of the dump layout; a reader refuses versions it does not know.
DUMP_VERSION = 1


def dump_document(
    graphs: Iterable[FlowGraph], root: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The dump of ``graphs`` as a JSON-ready dictionary.

    Args:
        graphs: the flows to write (any order: they are sorted by name).
        root: step files under this folder are written relative to it (with ``/``), so dumps
            made in different checkouts of the same code are equal; other files stay as
            they are. Default: the current directory.
    """
    base = Path(root if root is not None else os.getcwd()).resolve()
    flows = sorted(graphs, key=lambda g: g.name)
    return {
        "schema": DUMP_SCHEMA,
        "version": DUMP_VERSION,
        "flows": [_relative(g, base).as_dict() for g in flows],
    }


def dump_text(document: Mapping[str, Any]) -> str:
    """The document as text: two-space indents, non-ASCII kept, one final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def read_dump(text: str, source: str) -> dict[str, FlowGraph]:
    """Read a dump (or a single ``penstock.flow`` document) back into graphs by flow name.

    Args:
        text: the file's content.
        source: where it came from, for error messages (a file name).

    Raises:
        DiffError: not JSON, or not a dump of a version this penstock reads.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DiffError(f"{source} is not a penstock dump: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DiffError(f"{source} is not a penstock dump: the top level is not an object")
    schema, version = data.get("schema"), data.get("version")
    try:
        if schema == "penstock.flow":
            # One flow, as written by `penstock dag FLOW -f json` (from_dict checks its version).
            graph = FlowGraph.from_dict(data)
            return {graph.name: graph}
        if schema != DUMP_SCHEMA or version != DUMP_VERSION:
            raise DiffError(
                f"{source} is not a penstock dump of version {DUMP_VERSION}: "
                f"schema={schema!r} version={version!r} (write one with `penstock dump -o FILE`)"
            )
        out: dict[str, FlowGraph] = {}
        for item in data.get("flows", []):
            graph = FlowGraph.from_dict(item)
            if graph.name in out:
                raise DiffError(f"{source}: flow {graph.name!r} appears twice")
            out[graph.name] = graph
    except (GraphError, KeyError, TypeError, AttributeError) as exc:
        raise DiffError(f"{source} is not a valid penstock dump: {exc!r}") from None
    return dict(sorted(out.items()))


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
