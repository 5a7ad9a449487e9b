"""``mkdocs serve``: an edited flow is redrawn on the next rebuild; nothing piles up."""

from __future__ import annotations

import gc
import html
import logging
import os
import subprocess
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from penstock._declared.registry import REGISTRY
from tests.mkdocs.conftest import PIPE, write_site
from tests.support.processes import free_port, stop_process

FLOW = '''
from penstock import entrypoint, flow, step


@flow("live")
@entrypoint
def receive():
    """Receive ({n})."""


@flow("live")
@step(after="receive")
def handle_{n}():
    """Handle."""
'''


def _site(root: Path, n: int) -> Path:
    # A one-template theme: a rebuild then costs little more than penstock's own work.
    (root / "theme").mkdir(parents=True)
    (root / "theme" / "main.html").write_text("<html><body>{{ page.content }}</body></html>\n")
    return write_site(
        root,
        {"index.md": "# Live\n\n::: penstock-flow live\n"},
        plugin={"modules": ["livepkg.flows"]},
        modules={"livepkg/flows.py": FLOW.format(n=n)},
        extra={"theme": {"name": None, "custom_dir": "theme"}, "markdown_extensions": []},
    )


def _edit(root: Path, n: int) -> None:
    (root / "src" / "livepkg" / "flows.py").write_text(FLOW.format(n=n))


def test_hundred_rebuilds_see_edits_and_stay_flat(
    tmp_path: Path, clean_imports: list[Path]
) -> None:
    """Each in-process rebuild re-imports the edited module; registry and memory stay flat."""
    root = _site(tmp_path, 0)
    clean_imports.append(root / "src")
    config_file = str(root / "mkdocs.yml")
    sizes: set[int] = set()
    samples: list[int] = []
    # pytest keeps every captured log record of a test; MkDocs' INFO lines would look like a leak.
    mkdocs_logger = logging.getLogger("mkdocs")
    mkdocs_logger.propagate = False
    tracemalloc.start()
    try:
        for n in range(110):
            _edit(root, n)
            # What `mkdocs serve` does on every change: a fresh config (and plugin), one build.
            build(load_config(config_file))
            page = (root / "site" / "index.html").read_text()
            (diagram,) = [html.unescape(m) for m in PIPE.findall(page)]
            assert f"receive --> handle_{n}" in diagram
            assert f"handle_{n - 1}" not in diagram
            sizes.add(len(REGISTRY.in_flow("live")))
            if (n >= 10 and n % 10 == 0) or n == 109:
                gc.collect()
                samples.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
        mkdocs_logger.propagate = True
    assert sizes == {2}, "stale or duplicated steps kept in the registry"
    growth = samples[-1] - samples[0]
    # Keeping each rebuild's module, functions and specs alive would cost far more than this.
    assert growth < 512 * 1024, f"memory grew by {growth} bytes over 100 rebuilds: {samples}"


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode("utf-8"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _wait_for(url: str, text: str, proc: subprocess.Popen[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    page = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, "mkdocs serve exited"
        page = _fetch(url)
        if page is not None and text in html.unescape(page):
            return page
        time.sleep(0.1)
    pytest.fail(f"{text!r} never appeared at {url}; last page: {page!r}")


def test_mkdocs_serve_redraws_after_editing_the_module(tmp_path: Path) -> None:
    """A real `mkdocs serve` watches the flow's source and redraws it after an edit."""
    root = _site(tmp_path, 1)
    port = free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for(url, "receive --> handle_1", proc)
        _edit(root, 2)
        page = _wait_for(url, "receive --> handle_2", proc)
        assert "handle_1" not in page
    finally:
        stop_process(proc)
