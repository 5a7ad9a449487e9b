"""Finding ``::: penstock-flow NAME`` directives (and their indented YAML options) in Markdown."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from penstock.docs import OptionError

__all__ = ["Directive", "find_directives", "parse_options"]

# Indentation is allowed so a diagram can sit inside an admonition, a tab or a list item.
_LINE = re.compile(
    r"^(?P<indent>[ \t]*):::[ \t]+penstock-(?P<kind>flow|map)(?:[ \t]+(?P<name>.*?))?[ \t]*\Z"
)
#: Cheap test run on every line before the regular expression.
MARKER = "penstock-"


@dataclass(frozen=True)
class Directive:
    """One directive found in a page.

    Attributes:
        flow: the flow name, without surrounding quotes ("" when missing).
        options: the option lines, dedented (YAML text, may be empty).
        start: index of the directive line in the page's lines.
        end: index just after the last option line.
        indent: the directive line's indentation, kept for the replacement.
        kind: ``"flow"`` (``::: penstock-flow``) or ``"map"`` (``::: penstock-map``).
    """

    flow: str
    options: str
    start: int
    end: int
    indent: str
    kind: str = "flow"


def find_directives(lines: Sequence[str]) -> Iterator[Directive]:
    """Yield the directives of ``lines`` in order; option lines are those indented deeper."""
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _LINE.match(line) if MARKER in line else None
        if match is None:
            i += 1
            continue
        indent = match["indent"]
        depth = len(indent.expandtabs(4))
        j = i + 1
        while j < len(lines):
            nxt = lines[j]
            if not nxt.strip() or len(nxt.expandtabs(4)) - len(nxt.expandtabs(4).lstrip()) <= depth:
                break
            j += 1
        options = textwrap.dedent("\n".join(x.expandtabs(4) for x in lines[i + 1 : j]))
        yield Directive(_unquote(match["name"] or ""), options, i, j, indent, match["kind"])
        i = j


def parse_options(text: str, where: str) -> dict[str, Any]:
    """The options mapping written under a directive.

    Raises:
        OptionError: the text is not YAML, or not a ``key: value`` mapping.
    """
    if not text.strip():
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        at = f" (option line {mark.line + 1})" if mark is not None else ""
        raise OptionError(
            f"{where}: penstock-flow options are not valid YAML{at}: {problem}"
        ) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OptionError(
            f"{where}: penstock-flow options must be indented 'key: value' lines, "
            f"e.g. '    direction: LR'; got {text.strip()!r}"
        )
    return value


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name
