"""No private internals of other libraries: penstock reads OpenTelemetry, the standard library
and the docs tools through their public APIs only, so an upgrade cannot break it silently.

The source of the packages is read as syntax trees (nothing is imported). Flagged:

- importing a private module of another package (``_weakref``, ``opentelemetry.x._y``), or a
  private name from another package (``from opentelemetry.baggage import _is_valid_pair``);
- reading a private attribute (``._name``) that penstock's own code never defines: it can only
  belong to another library (``CompositePropagator._propagators``, ``propagate._HTTP_TEXT_FORMAT``);
- naming one as a string (``getattr(x, "_name")``, ``vars(module)["_name"]``) unless penstock
  defines it (its own markers on foreign objects start with ``_penstock``);
- undocumented attributes known to tempt (``JSONDecoder.scan_once``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.system import ROOT

OWN = ("penstock", "penstock_mkdocs", "penstock_sphinx")
#: Public-looking attributes that are not part of their library's documented API.
UNDOCUMENTED = frozenset({"scan_once"})
#: Underscored modules the standard library documents as public API, and why they are used.
DOCUMENTED_MODULES = {
    "_thread": "the library reference's 'low-level threading API'; threading would cost "
    "import penstock a millisecond (tests/test_import_light.py)",
}
#: Underscored names that are their library's documented public API, and why.
DOCUMENTED = {
    "_replace": "namedtuple's documented method (the underscore avoids field names)",
    "_getframe": "sys._getframe is in the sys module's reference (inspect.currentframe uses it)",
    "_exit": "os._exit is in the os module's reference: how a forked child ends without "
    "running the parent's exit handlers",
    "_SubParsersAction": "argparse's type of add_subparsers(), in annotations: no public alias",
}


def _files() -> list[Path]:
    return sorted(p for package in OWN for p in (ROOT / package).rglob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_module(module: str) -> bool:
    return module.split(".")[0] in OWN


def own_names(trees: list[ast.Module]) -> set[str]:
    """Every name penstock's own code defines: functions, classes, variables, attributes set,
    arguments, names given to ``object.__setattr__``."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names.update(node.names)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__setattr__"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                names.add(str(node.args[1].value))
    return names


def findings(path: Path, tree: ast.Module, own: set[str]) -> Iterator[str]:
    """What ``tree`` (the file ``path``) reads of other libraries' private internals."""
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _own_module(alias.name) and any(
                    _private(part) for part in alias.name.split(".")
                ):
                    yield f"{line}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "__future__" or _own_module(node.module):
                continue
            if node.module in DOCUMENTED_MODULES:
                continue
            if any(_private(part) for part in node.module.split(".")):
                yield f"{line}: from {node.module} import ..."
            for alias in node.names:
                if _private(alias.name):
                    yield f"{line}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.attr in UNDOCUMENTED:
                yield f"{line}: .{node.attr} (undocumented)"
            elif _private(node.attr) and node.attr not in own and node.attr not in DOCUMENTED:
                yield f"{line}: .{node.attr} (not penstock's)"
        else:
            for text in _names_given_as_strings(node):
                if _private(text) and text not in own and not text.startswith("_penstock"):
                    yield f"{line}: {text!r} (a private name, not penstock's)"


def _names_given_as_strings(node: ast.AST) -> Iterator[str]:
    """Attribute names passed as strings: ``getattr(x, "_n")`` and its kin, ``ns["_n"]``."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
        and len(node.args) >= 2
    ):
        name = node.args[1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            yield name.value
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        key = node.slice
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and key.value.isidentifier()
        ):
            yield key.value


def scan(sources: dict[Path, str]) -> list[str]:
    trees = {path: ast.parse(text, str(path)) for path, text in sources.items()}
    own = own_names(list(trees.values()))
    return [f for path, tree in trees.items() for f in findings(path, tree, own)]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from _weakref import ref\n", "from _weakref import"),
        ("import _contextvars\n", "import _contextvars"),
        ("from opentelemetry.baggage import _is_valid_pair\n", "import _is_valid_pair"),
        (
            "from opentelemetry.propagators.composite import CompositePropagator\n"
            "def f(t: CompositePropagator) -> object:\n    return t._propagators\n",
            "._propagators",
        ),
        (
            "from opentelemetry import propagate\nx = vars(propagate)['_HTTP_TEXT_FORMAT']\n",
            "'_HTTP",
        ),
        ("import json\nscan = json.JSONDecoder().scan_once\n", ".scan_once"),
    ],
)
def test_the_scan_finds_each_kind(source: str, found: str) -> None:
    """The check can fail: each way of reaching into another library is caught."""
    result = scan({ROOT / "penstock" / "example.py": source})
    assert result, source
    assert found in result[0]


def test_own_private_names_are_fine() -> None:
    """penstock's own underscored names, and its markers on foreign objects, are not flagged."""
    source = (
        "class A:\n    def __init__(self) -> None:\n        self._x = 1\n"
        "def f(a: A, task: object) -> object:\n"
        "    setattr(task, '_penstock_runs', {})\n    return a._x\n"
    )
    assert scan({ROOT / "penstock" / "example.py": source}) == []


def test_packages_use_no_private_internals_of_other_libraries() -> None:
    """penstock, penstock_mkdocs and penstock_sphinx read other libraries' public APIs only."""
    sources = {path: path.read_text(encoding="utf-8") for path in _files()}
    assert len(sources) > 50
    assert scan(sources) == []
