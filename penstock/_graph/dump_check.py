"""Check a dump document before it is read: its nesting, its JSON Schema, and what no schema says.

A dump comes from anywhere (a CI cache, an artifact, a hand edit), so nothing in it is trusted:
the text's nesting is measured before it is decoded (a 100,000-deep array would exhaust the
stack), the decoded document is checked against the schemas shipped in ``penstock/schema`` (with
fastjsonschema, a small pure-Python validator), and then against the rules a schema cannot
state: step names unique in a flow, edges and entrypoints naming steps of the flow, flow names
unique. Every error names the place in the document, e.g. ``flows[3].steps[2].name: expected a
string``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any

from penstock._errors import DumpError

__all__ = ["MAX_DEPTH", "check_document", "check_nesting"]

#: Deepest nesting of arrays and objects a dump may have (a real one has 4).
MAX_DEPTH = 32

# What the nesting scan drops: every byte but quotes (to skip strings) and brackets. (UTF-8
# bytes of other characters are all >= 0x80, so none is taken for one of these.)
_NOT_STRUCTURE = bytes(b for b in range(256) if chr(b) not in '"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_DEPTH = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "array": "an array",
    "object": "an object",
    "null": "null",
    "number": "a number",
    "boolean": "true or false",
}


def check_nesting(text: str, source: str) -> None:
    """Refuse text nested deeper than `MAX_DEPTH`, before any decoding.

    Raises:
        DumpError: too deep.
    """
    # All in C: escaped backslashes and quotes go first (so every remaining quote opens or
    # closes a string), then every byte but quotes and brackets, then the strings.
    bare = text.replace("\\\\", "").replace('\\"', "")
    structure = bare.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE)
    brackets = _STRING.sub(b"", structure)
    if not brackets:
        return
    deepest = max(accumulate(_DEPTH.get(c, 0) for c in brackets))
    if deepest > MAX_DEPTH:
        raise DumpError(
            f"{source}: arrays and objects nested {deepest} deep, more than a penstock dump "
            f"ever has ({MAX_DEPTH}); is it the right file?"
        )


def check_document(data: Any, source: str) -> None:
    """Check a decoded dump (``penstock.flows``) or single flow (``penstock.flow``) document.

    Raises:
        DumpError: the first problem found, with its place in the document.
    """
    if not isinstance(data, dict):
        raise DumpError(f"{source}: expected a JSON object at the top level, got {_kind(data)}")
    if data.get("schema") == "penstock.flow":
        _check_flow(data, source, "")
        return
    if data.get("version") != 1 or isinstance(data.get("version"), bool):
        raise DumpError(
            f"{source} is not a penstock dump of version 1: version: expected 1, got "
            f"{data.get('version')!r} (write one with `penstock dump -o FILE`)"
        )
    _validate("flows-v1", data, source, "")
    seen: dict[str, int] = {}
    for i, item in enumerate(data["flows"]):
        where = f"flows[{i}]"
        _check_flow(item, source, where + ".")
        name = item["flow"]
        if name in seen:
            raise DumpError(
                f"{source}: {where}.flow: flow {name!r} appears twice (also flows[{seen[name]}])"
            )
        seen[name] = i


def _check_flow(item: Any, source: str, prefix: str) -> None:
    if not isinstance(item, dict):
        raise DumpError(f"{source}: {prefix.rstrip('.') or 'the document'}: expected an object")
    version = item.get("version")
    if version not in (1, 2) or isinstance(version, bool):
        raise DumpError(
            f"{source}: {prefix}version: expected 1 or 2 (a penstock.flow layout this penstock "
            f"reads), got {version!r}"
        )
    if not _written_by_penstock(item, version):
        _validate(f"flow-v{version}", item, source, prefix)
    flow = item["flow"]
    names: dict[str, int] = {}
    for i, step in enumerate(item["steps"]):
        if step["name"] in names:
            raise DumpError(
                f"{source}: {prefix}steps[{i}].name: flow {flow!r} has two steps called "
                f"{step['name']!r} (also steps[{names[step['name']]}])"
            )
        names[step["name"]] = i
    for i, edge in enumerate(item["edges"]):
        for end in ("source", "target"):
            if edge[end] not in names:
                raise DumpError(
                    f"{source}: {prefix}edges[{i}].{end}: {edge[end]!r} is not a step of flow "
                    f"{flow!r}{_suggest(edge[end], names)}"
                )
    for i, entry in enumerate(item["entrypoints"]):
        if entry not in names:
            raise DumpError(
                f"{source}: {prefix}entrypoints[{i}]: {entry!r} is not a step of flow "
                f"{flow!r}{_suggest(entry, names)}"
            )


_FLOW_KEYS = frozenset({"schema", "version", "flow", "entrypoints", "steps", "edges"})
_STEP_KEYS = frozenset({"name", "kind", "module", "qualname", "file", "line", "doc", "transport"})
_EDGE_KEYS = {1: frozenset({"source", "target"}), 2: frozenset({"source", "target", "when"})}
_KINDS = frozenset({"entrypoint", "step"})


def _written_by_penstock(item: dict[str, Any], version: int) -> bool:
    """True when ``item`` has exactly the shape penstock writes (then it satisfies the schema).

    Checking 10,000 flows against the schema costs seconds; this strict look at the layout
    penstock itself writes costs a tenth of that. It only ever says "valid" for documents the
    schema accepts; anything else (even a valid document written differently) goes to the
    schema validator, which also names the place of the error.
    """
    str_ = str
    if item.keys() != _FLOW_KEYS or item["schema"] != "penstock.flow":
        return False
    name, entrypoints, steps, edges = (
        item["flow"],
        item["entrypoints"],
        item["steps"],
        item["edges"],
    )
    if type(name) is not str_ or not name or type(entrypoints) is not list:
        return False
    if type(steps) is not list or type(edges) is not list:
        return False
    if not all(type(e) is str_ and e for e in entrypoints) or len(set(entrypoints)) != len(
        entrypoints
    ):
        return False
    for step in steps:
        if type(step) is not dict or step.keys() != _STEP_KEYS:
            return False
        line, doc, transport = step["line"], step["doc"], step["transport"]
        if not (
            type(step["name"]) is str_
            and step["name"]
            and step["kind"] in _KINDS
            and type(step["kind"]) is str_
            and type(step["module"]) is str_
            and type(step["qualname"]) is str_
            and type(step["file"]) is str_
            and type(line) is int
            and line >= 0
            and (doc is None or type(doc) is str_)
            and (transport is None or type(transport) is str_)
        ):
            return False
    edge_keys = _EDGE_KEYS[version]
    seen = set()
    for edge in edges:
        if type(edge) is not dict or edge.keys() != edge_keys:
            return False
        source, target, when = edge["source"], edge["target"], edge.get("when")
        if type(source) is not str_ or type(target) is not str_ or not source or not target:
            return False
        if when is not None and (type(when) is not str_ or not when):
            return False
        seen.add((source, target, when))
    return len(seen) == len(edges)


def _validate(schema: str, data: Any, source: str, prefix: str) -> None:
    import fastjsonschema

    try:
        _validator(schema)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise DumpError(f"{source}: {_place(prefix, exc.path)}: {_say(exc)}") from None


@cache
def _validator(name: str) -> Any:
    import fastjsonschema

    schema = json.loads(
        resources.files("penstock").joinpath(f"schema/{name}.schema.json").read_text()
    )
    if name == "flows-v1":
        # Each flow is checked on its own against the schema of its version, so an error
        # says where in the flow it is (an `anyOf` of both versions would only say "neither").
        schema["properties"]["flows"]["items"] = {"type": "object"}
    return fastjsonschema.compile(schema)


def _place(prefix: str, path: list[str] | None) -> str:
    parts = list(path or [])[1:]  # fastjsonschema's path starts with "data"
    out = prefix.rstrip(".")
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "the document"


def _say(exc: Any) -> str:
    rule, definition, value = exc.rule, exc.rule_definition, exc.value
    if rule == "type":
        wanted = definition if isinstance(definition, list) else [definition]
        said = " or ".join(_TYPES.get(str(w), str(w)) for w in wanted)
        return f"expected {said}, got {_kind(value)}"
    if rule == "required":
        missing = [k for k in definition if isinstance(value, dict) and k not in value]
        return f"missing {', '.join(map(repr, missing))}"
    if rule == "const":
        return f"expected {definition!r}, got {value!r}"
    if rule == "enum":
        return f"expected one of {', '.join(map(repr, definition))}, got {value!r}"
    if rule == "minLength":
        return "must not be empty"
    if rule == "additionalProperties":
        return "has keys no penstock dump has: " + str(exc.message).rpartition("(")[2].rstrip(")")
    if rule == "uniqueItems":
        return "has the same item twice"
    if rule == "minimum":
        return f"must be at least {definition}, got {value!r}"
    return str(exc.message).removeprefix("data").lstrip(". ")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _suggest(name: str, names: dict[str, int]) -> str:
    from penstock._suggest import did_you_mean

    return did_you_mean(name, list(names))
