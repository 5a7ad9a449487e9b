"""Real MkDocs / ProperDocs / Zensical builds of small sites written to a temporary folder."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from penstock import docs
from tests.support.mermaid import mermaid_oracle  # noqa: F401 (a fixture)

#: A small flow package the sites draw; names and docstrings that must survive escaping.
ORDERS = '''
"""Orders."""
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive_order():
    """Take an order <b>now</b> & "then"."""


@flow("orders")
@step(after="receive_order")
def check_stock():
    """Check the <script>alert(1)</script> stock."""


@flow("orders")
@step(after="check_stock")
def end():
    """Done."""
'''

PIPE = re.compile(r'<pre class="mermaid"><code>(.*?)</code></pre>', re.DOTALL)


@dataclass
class Build:
    """The outcome of one real build."""

    site: Path
    returncode: int
    output: str

    def page(self, name: str = "index") -> str:
        """The HTML of page ``name`` (``use_directory_urls`` layout)."""
        path = self.site / "site" / ("index.html" if name == "index" else f"{name}/index.html")
        return path.read_text(encoding="utf-8")

    def diagrams(self, name: str = "index") -> list[str]:
        """The Mermaid text of every ``pre.mermaid`` on a page, unescaped as a browser reads it."""
        return [html.unescape(m) for m in PIPE.findall(self.page(name))]


def write_site(
    root: Path,
    pages: Mapping[str, str],
    *,
    plugin: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    modules: Mapping[str, str] | None = None,
    more_plugins: list[Any] | None = None,
) -> Path:
    """Write ``mkdocs.yml`` (Material, superfences' mermaid fence, the plugin), pages, modules."""
    root.mkdir(parents=True, exist_ok=True)
    write_modules(root / "src", modules if modules is not None else {"shop/orders.py": ORDERS})
    options = {"modules": ["shop.orders"], "paths": ["src"], **(plugin or {})}
    config: dict[str, Any] = {
        "site_name": "test",
        "theme": {"name": "material", "font": False},
        "plugins": [{"penstock": options}, *(more_plugins or [])],
        "markdown_extensions": [
            "admonition",
            {
                "pymdownx.superfences": {
                    "custom_fences": [
                        {
                            "name": "mermaid",
                            "class": "mermaid",
                            "format": "!!python/name:pymdownx.superfences.fence_code_format",
                        }
                    ]
                }
            },
        ],
        **(extra or {}),
    }
    text = yaml.safe_dump(config, sort_keys=False)
    # A YAML tag cannot go through safe_dump as a string; unquote it.
    text = text.replace(
        "'!!python/name:pymdownx.superfences.fence_code_format'",
        "!!python/name:pymdownx.superfences.fence_code_format",
    )
    (root / "mkdocs.yml").write_text(text)
    for name, body in pages.items():
        page = root / "docs" / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(textwrap.dedent(body).lstrip("\n"))
    return root


def write_modules(src: Path, modules: Mapping[str, str]) -> None:
    """Write module sources (``pkg/mod.py``: text) under ``src``, with package ``__init__``s."""
    for rel, body in modules.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(src).parents:
            if parent != Path("."):
                (src / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(body))


def run(tool: str, site: Path, *args: str) -> Build:
    """Run ``python -m TOOL build ARGS`` in ``site``; never raises on failure."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-m", tool, "build", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Build(site, proc.returncode, proc.stdout + proc.stderr)


def expected(modules: list[str], src: Path, flow: str, **options: Any) -> str:
    """The Mermaid text penstock draws for ``flow`` from the modules under ``src``."""
    try:
        docs.load_modules(modules, [src])
        return docs.flow_diagram(flow, docs.DiagramOptions(**options).validated()).mermaid
    finally:
        forget(src)


def forget(src: Path) -> None:
    """Drop modules imported from ``src`` (the registry itself is restored per test)."""
    folder = str(src.resolve())
    for name, mod in list(sys.modules.items()):
        if (getattr(mod, "__file__", None) or "").startswith(folder):
            del sys.modules[name]
    while folder in sys.path:
        sys.path.remove(folder)


@pytest.fixture
def clean_imports() -> Iterator[list[Path]]:
    """Folders whose modules an in-process build imports; dropped after the test."""
    folders: list[Path] = []
    yield folders
    for folder in folders:
        forget(folder)
