"""The Markdown extension runs where MkDocs is not installed (Zensical, plain Python-Markdown)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mkdocs.utils import get_relative_url

from penstock_mkdocs._xref import relative_url

# Python with every `mkdocs` import refused, as on a machine where only Zensical is installed.
_NO_MKDOCS = """
import sys


class NoMkDocs:
    def find_spec(self, name, path=None, target=None):
        if name == "mkdocs" or name.startswith("mkdocs."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, NoMkDocs())
"""


def test_extension_imports_and_draws_without_mkdocs(tmp_path: Path) -> None:
    """``import penstock_mkdocs`` and a conversion with a linked stub need no MkDocs."""
    (tmp_path / "twoflows.py").write_text(
        textwrap.dedent(
            """
            from penstock import entrypoint, flow, step
            from penstock.contrib.kafka import message_entrypoint, produces

            @flow("orders")
            @entrypoint
            def receive(order): ...

            @flow("orders")
            @produces("shipments")
            @step(after=receive)
            def publish(order): ...

            @flow("shipping")
            @message_entrypoint(topic="shipments")
            def ship(message): ...
            """
        )
    )
    script = _NO_MKDOCS + textwrap.dedent(
        f"""
        import markdown

        html = markdown.markdown(
            "::: penstock-flow orders\\n",
            extensions=["penstock_mkdocs"],
            extension_configs={{"penstock_mkdocs": {{
                "modules": ["twoflows"], "paths": [{str(tmp_path)!r}]}}}},
        )
        assert "mkdocs" not in sys.modules, sorted(m for m in sys.modules if "mkdocs" in m)
        print(html)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert '<pre class="mermaid">' in done.stdout
    assert "receive" in done.stdout


@pytest.mark.parametrize(
    ("target", "page"),
    [
        ("other/", ""),
        ("other/", "sub/page/"),
        ("sub/page/", "sub/page/"),
        ("", "sub/page/"),
        ("", ""),
        ("index.html", "sub/page.html"),
        ("sub/page.html", "index.html"),
        ("sub/a.html", "sub/b.html"),
        ("x/y/", "x/"),
        ("sub/page/", "other/"),
    ],
)
def test_relative_links_are_mkdocs_own(target: str, page: str) -> None:
    """Links between pages are written as MkDocs writes them (directory URLs or not)."""
    assert relative_url(target, page) == get_relative_url(target, page)
