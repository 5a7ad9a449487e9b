"""The public face: __all__ is sorted, complete, and each public object has one public home."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import penstock


def test_all_is_sorted_and_resolves() -> None:
    """Every name in penstock.__all__ exists, and the list is sorted."""
    assert list(penstock.__all__) == sorted(penstock.__all__)
    for name in penstock.__all__:
        assert getattr(penstock, name) is not None, name


def test_dir_lists_lazy_names() -> None:
    """dir(penstock) shows the lazily loaded names too."""
    assert set(penstock.__all__) <= set(dir(penstock))


def test_each_public_object_has_one_public_home() -> None:
    """No public object is exported under two public module paths."""
    homes: dict[int, list[str]] = {}
    public_modules = ["penstock"]
    for info in pkgutil.walk_packages(penstock.__path__, "penstock."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or ".contrib." in info.name:
            continue
        public_modules.append(info.name)
    for mod_name in public_modules:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:  # an optional extra is missing
            continue
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if isinstance(obj, (str, int, float, tuple)):
                continue
            homes.setdefault(id(obj), []).append(f"{mod_name}.{name}")
    doubles = [h for h in homes.values() if len(h) > 1]
    assert doubles == []


def test_import_penstock_pulls_in_nothing_heavy() -> None:
    """`import penstock` imports no networkx, OpenTelemetry, logging, typing or docs tools."""
    code = (
        "import sys, penstock\n"
        "heavy = ['networkx', 'opentelemetry', 'mkdocs', 'sphinx', 'docutils', 'celery',"
        " 'grpc', 'logging', 'typing', 'inspect', 'dataclasses']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
