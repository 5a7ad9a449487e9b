"""Every exception a public docstring says is raised can be caught by a reader: its class is
importable from a public module (or is a built-in one)."""

from __future__ import annotations

import builtins
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import penstock

ROOTS = ("penstock", "penstock_mkdocs", "penstock_sphinx")

#: An entry of a Google-style ``Raises:`` section: ``    Name: what`` (the name may be dotted).
_ENTRY = re.compile(r"^(?P<indent>\s+)(?P<name>[A-Za-z_][\w.]*)\s*:")


def _public_modules() -> Iterator[ModuleType]:
    for root in ROOTS:
        package = importlib.import_module(root)
        names = [root, *(i.name for i in pkgutil.walk_packages(package.__path__, f"{root}."))]
        for name in names:
            if name.endswith("__main__") or any(p.startswith("_") for p in name.split(".")):
                continue
            try:
                yield importlib.import_module(name)
            except ImportError:  # an optional extra is missing
                continue


def _documented(obj: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, docstring) of a public object and of the public members a class defines."""
    doc = inspect.getdoc(obj)
    if doc:
        yield path, doc
    if inspect.isclass(obj):
        for name, member in vars(obj).items():
            if name.startswith("_") and name != "__init__":
                continue
            target = member.fget if isinstance(member, property) else member
            target = getattr(target, "__func__", target)
            member_doc = getattr(target, "__doc__", None)
            if callable(target) and member_doc:
                yield f"{path}.{name}", inspect.cleandoc(member_doc)


def raised_names(doc: str) -> list[str]:
    """The exception names of a docstring's ``Raises:`` section."""
    names: list[str] = []
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "Raises:":
            continue
        base = len(line) - len(line.lstrip())
        entry_indent: int | None = None
        for follow in lines[i + 1 :]:
            if not follow.strip():
                continue
            indent = len(follow) - len(follow.lstrip())
            if indent <= base:
                break
            match = _ENTRY.match(follow)
            if match and (entry_indent is None or indent == entry_indent):
                entry_indent = indent
                names.append(match["name"])
    return names


def test_the_section_parser_reads_google_style() -> None:
    """Entries at the first indent level count; continuation lines do not."""
    doc = "Do it.\n\nRaises:\n    FooError: when\n        Not: this.\n    a.BarError: x\n\nAfter."
    assert raised_names(doc) == ["FooError", "a.BarError"]


def test_every_documented_exception_is_importable() -> None:
    """A ``Raises:`` entry names a built-in exception or one a public module exports."""
    exported: dict[str, set[str]] = {}
    documented: list[tuple[str, str]] = []
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                exported.setdefault(name, set()).add(module.__name__)
            documented.extend(_documented(obj, f"{module.__name__}.{name}"))
        if module.__doc__:
            documented.append((module.__name__, inspect.cleandoc(module.__doc__)))
    assert "ObservedError" in exported, "penstock.ObservedError is exported"
    problems = []
    checked = 0
    for where, doc in documented:
        for name in raised_names(doc):
            checked += 1
            short = name.rsplit(".", 1)[-1]
            builtin = getattr(builtins, short, None)
            if inspect.isclass(builtin) and issubclass(builtin, BaseException):
                continue
            if short not in exported:
                problems.append(f"{where}: raises {name}, which no public module exports")
    assert checked > 20, "the Raises: sections were found"
    assert not problems, "\n".join(problems)


def test_observed_error_is_penstocks() -> None:
    """`observe` documents ObservedError; readers catch it as penstock.ObservedError."""
    assert issubclass(penstock.ObservedError, penstock.PenstockError)
    assert "ObservedError" in (inspect.getdoc(penstock.observe) or "")
