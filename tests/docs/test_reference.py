"""The API reference has a page for every public module, generated from its ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
import re

from tests.support.system import ROOT

#: Public modules that are configured by name, not imported: documented on their own pages
#: (the CLI and its commands, the MkDocs plugin and extension, the Sphinx extension, the
#: contrib package).
NOT_API = {
    "penstock.cli",
    "penstock.contrib",
    "penstock_mkdocs",
    "penstock_mkdocs.plugin",
    "penstock_sphinx",
}


def _public_modules() -> list[str]:
    found = []
    for root in ("penstock", "penstock_mkdocs", "penstock_sphinx"):
        package = importlib.import_module(root)
        names = [root, *(i.name for i in pkgutil.walk_packages(package.__path__, f"{root}."))]
        found += [
            n
            for n in names
            if not n.endswith("__main__") and not any(p.startswith("_") for p in n.split("."))
        ]
    return found


def test_every_public_module_has_a_reference_page() -> None:
    """`::: MODULE` appears on a reference page for each public module meant to be imported."""
    pages = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs/reference").glob("*.md")}
    rendered = {m for text in pages.values() for m in re.findall(r"^::: ([\w.]+)$", text, re.M)}
    api = {m for m in _public_modules() if m not in NOT_API and not m.startswith("penstock.cli.")}
    missing = sorted(api - rendered)
    assert not missing, f"no reference page renders {missing}"
    index = pages["index.md"]
    for name, text in pages.items():
        if name != "index.md":
            assert f"({name})" in index, f"the reference index does not link {name}"
            # Generated from __all__: no hand-kept member lists that fall behind.
            assert "members:" not in text, name
            assert "filters: public" in text, name
