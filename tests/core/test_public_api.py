"""The public face: __all__ is sorted and complete, each public object has one public home, and
no public signature or base class names a private type."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import penstock

#: Top-level packages whose non-underscore modules are public.
ROOTS = ("penstock", "penstock_mkdocs", "penstock_sphinx")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Public objects allowed to name a private type (none: keep it that way).
KNOWN_LEAKS: set[str] = set()


def _modules(public: bool) -> Iterator[ModuleType]:
    """Every importable module of the packages, public ones or private ones."""
    for root in ROOTS:
        package = importlib.import_module(root)
        names = [root]
        names += [i.name for i in pkgutil.walk_packages(package.__path__, f"{root}.")]
        for name in names:
            if name.endswith("__main__"):
                continue
            is_public = not any(part.startswith("_") for part in name.split("."))
            if is_public != public:
                continue
            try:
                yield importlib.import_module(name)
            except ImportError:  # an optional extra is missing
                continue


def _exports(module: ModuleType) -> Iterator[tuple[str, Any]]:
    for name in getattr(module, "__all__", []):
        yield f"{module.__name__}.{name}", getattr(module, name)


def _public_objects() -> dict[str, Any]:
    return {path: obj for m in _modules(public=True) for path, obj in _exports(m)}


def _private_only_types() -> set[str]:
    """Names of classes defined in private modules that no public module exports."""
    public_ids = {id(obj) for obj in _public_objects().values()}
    names = set()
    for module in _modules(public=False):
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and id(obj) not in public_ids
            ):
                names.add(name)
    return names


def test_all_is_sorted_and_resolves() -> None:
    """Every name in penstock.__all__ exists, and the list is sorted."""
    assert list(penstock.__all__) == sorted(penstock.__all__)
    for name in penstock.__all__:
        assert getattr(penstock, name) is not None, name


def test_dir_lists_lazy_names() -> None:
    """dir(penstock) shows the lazily loaded names too."""
    assert set(penstock.__all__) <= set(dir(penstock))


def test_public_modules_include_integrations_and_docs_packages() -> None:
    """The checks below do cover contrib and both docs packages."""
    names = {m.__name__ for m in _modules(public=True)}
    assert {
        "penstock.contrib.celery",
        "penstock.contrib.kafka",
        "penstock.contrib.grpc",
        "penstock_mkdocs",
        "penstock_mkdocs.plugin",
        "penstock_sphinx",
    } <= names


def test_each_public_object_has_one_public_home() -> None:
    """No public object is exported under two public module paths."""
    homes: dict[int, list[str]] = {}
    for path, obj in _public_objects().items():
        if isinstance(obj, (str, int, float, tuple, frozenset)) or obj is None:
            continue
        homes.setdefault(id(obj), []).append(path)
    doubles = [h for h in homes.values() if len(h) > 1]
    assert doubles == []


def _annotations(obj: Any) -> Iterator[tuple[str, str]]:
    """(where, annotation text) for a public function's or class's signatures."""
    targets: list[tuple[str, Any]] = []
    if inspect.isclass(obj):
        targets.append(("__init__", obj.__init__))
        for name, member in vars(obj).items():
            if name.startswith("_"):
                continue
            if isinstance(member, property):
                member = member.fget
            elif isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if inspect.isfunction(member):
                targets.append((name, member))
        for name, ann in vars(obj).get("__annotations__", {}).items():
            if not name.startswith("_"):
                yield name, str(ann)
    elif callable(obj):
        targets.append(("", obj))
    for where, fn in targets:
        for name, ann in getattr(fn, "__annotations__", {}).items():
            yield f"{where}({name})", str(ann)


def test_public_signatures_name_no_private_type() -> None:
    """Parameters, return values and fields of public objects use public types only."""
    private = _private_only_types()
    found = []
    for path, obj in _public_objects().items():
        for where, text in _annotations(obj):
            for ident in _IDENT.findall(text):
                if (ident.startswith("_") or ident in private) and path not in KNOWN_LEAKS:
                    found.append(f"{path} {where}: {text}")
    assert found == []


def test_public_classes_have_no_private_bases() -> None:
    """A public class's bases are public (or from the standard library and dependencies)."""
    private = _private_only_types()
    found = []
    for path, obj in _public_objects().items():
        if not inspect.isclass(obj):
            continue
        for base in obj.__mro__[1:]:
            if base.__module__.split(".")[0] in ROOTS and (
                base.__name__.startswith("_") or base.__name__ in private
            ):
                found.append(f"{path} <- {base.__module__}.{base.__name__}")
    assert found == []


@pytest.mark.parametrize("module", ["penstock.backends", "penstock.propagation"])
def test_contract_modules_document_every_export(module: str) -> None:
    """What a backend or integration author reads has a docstring for every export."""
    mod = importlib.import_module(module)
    missing = [path for path, obj in _exports(mod) if not inspect.getdoc(obj)]
    assert missing == []


#: The integration kit: what penstock.propagation exports, each shown on the "Writing an
#: integration" page. A name joins only if a third-party integration would need it too.
INTEGRATION_KIT = {
    "Getter",
    "RemoteContext",
    "RunScope",
    "Setter",
    "celery_getter",
    "continue_from",
    "continue_remote",
    "current_ids",
    "current_step",
    "dict_getter",
    "dict_setter",
    "extract",
    "grpc_getter",
    "grpc_setter",
    "inject",
    "kafka_getter",
    "kafka_setter",
    "trace_headers",
}


def _integration_page() -> str:
    from tests.support.system import ROOT

    return (ROOT / "docs" / "writing-an-integration.md").read_text(encoding="utf-8")


def test_propagation_exports_the_documented_kit_only() -> None:
    """penstock.propagation is the integration kit, and the page shows every name of it."""
    import penstock.propagation

    assert set(penstock.propagation.__all__) == INTEGRATION_KIT
    page = _integration_page()
    shown = set(re.findall(r"[A-Za-z_]+", " ".join(re.findall(r"`[^`]+`", page))))
    assert sorted(INTEGRATION_KIT - shown) == []


def test_integrations_use_only_the_documented_kit() -> None:
    """Every penstock name penstock.contrib imports is public for all: in the kit, or shown on
    the page (penstock.declare_step...), or a user-facing name of penstock itself; the one
    private module it uses is the documented gRPC hot path."""
    import ast

    from tests.support.system import ROOT

    page = _integration_page()
    used: set[tuple[str, str]] = set()
    private: set[str] = set()
    for path in (ROOT / "penstock" / "contrib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module in ("penstock", "penstock.propagation"):
                used.update((node.module, alias.name) for alias in node.names)
            elif node.module.startswith("penstock.") and not node.module.startswith(
                "penstock.contrib"
            ):
                private.add(f"{path.relative_to(ROOT)}: {node.module}")
    assert ("penstock.propagation", "extract") in used
    # The one exception, documented on the page and in docs/architecture.md: the servers'
    # hot path, for gRPC calls and ASGI requests (the general calls cost a server more per
    # call or request than the bench limits leave).
    assert private == {
        "penstock/contrib/grpc/_handlers.py: penstock.propagation._entry",
        "penstock/contrib/asgi.py: penstock.propagation._entry",
    }
    for module, name in sorted(used):
        if module == "penstock.propagation":
            assert name in INTEGRATION_KIT, name
        else:
            assert name in penstock.__all__, name
            assert name in {"flow", "DefinitionError"} or f"`penstock.{name}" in page, name
