"""The ``observed`` and ``run`` options in real MkDocs (Material) and Sphinx builds."""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

from tests.mkdocs.conftest import Build, run
from tests.observed.sites import mkdocs_site, sphinx_project
from tests.sphinx.html import mermaid_blocks
from tests.support.mermaid import MermaidOracle, mermaid_oracle

__all__ = ["mermaid_oracle"]


def test_mkdocs_draws_counts_replays_and_warns(
    json_log: Path, tmp_path: Path, mermaid_oracle: MermaidOracle
) -> None:
    """observed: draws the overlay; run: one run; drift and a missing file are located
    warnings (so --strict fails), naming the file:lines."""
    site = mkdocs_site(tmp_path / "site", json_log)
    build: Build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    [overview] = build.diagrams("index")
    assert 'checkout -->|"9#215;"| validate' in overview
    assert "charge -.-> refund" in overview
    assert "declared, never observed" in build.page("index")  # the legend, below the drawing
    [one] = build.diagrams("run")
    assert "failed here" in one
    for parsed in mermaid_oracle.parse_one(overview):
        assert parsed.ok, parsed.error
    shop_py = site / "src" / "shopsite" / "shop.py"
    assert "index.md:3: penstock-flow 'shop': flow 'shop': recorded runs went 'validate'" in (
        build.output
    )
    assert f"({shop_py.resolve()}:" in build.output
    assert "missing.md:3: penstock-flow 'shop': observed: no file matches 'old/*.log'" in (
        build.output
    )
    assert "cannot draw flow" in html.unescape(build.page("missing"))
    strict = run("mkdocs", site, "--strict")
    assert strict.returncode != 0


def test_mkdocs_serve_watches_the_recorded_runs(json_log: Path, tmp_path: Path) -> None:
    """The files an observed diagram read are watched by mkdocs serve."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site = mkdocs_site(tmp_path / "site", json_log)
    (site / "docs" / "missing.md").unlink()
    config = load_config(str(site / "mkdocs.yml"))
    watched: list[str] = []

    class Server:
        def watch(self, path: str) -> None:
            watched.append(path)

    plugin = config.plugins["penstock"]
    config.plugins.on_startup(command="serve", dirty=False)
    sys.path.insert(0, str(site / "src"))
    try:
        build(config)  # as mkdocs serve does: the first build, then on_serve
        plugin.on_serve(Server(), config=config, builder=None)  # type: ignore[arg-type]
    finally:
        sys.path.remove(str(site / "src"))
        for name in [m for m in sys.modules if m.startswith("shopsite")]:
            del sys.modules[name]
    assert str((site / "runs" / "app.log").resolve()) in watched


def test_sphinx_draws_observed_and_notes_the_files(json_log: Path, tmp_path: Path) -> None:
    """penstock_observed (relative to conf.py), :run:, located warnings, dependencies."""
    src = sphinx_project(tmp_path / "sphinx", json_log)
    out = src / "_build" / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "--no-color", "-b", "html", "-q", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [overview] = mermaid_blocks(out / "index.html")
    assert 'checkout -->|"9#215;"| validate' in overview
    [one] = mermaid_blocks(out / "run.html")
    assert "failed here" in one
    assert "index.rst:4: WARNING: penstock-flow shop: flow 'shop': recorded runs went" in (
        proc.stderr
    )
    assert "[penstock.drift]" in proc.stderr
    assert "missing.rst:4: WARNING: penstock-flow shop: observed: no file matches" in proc.stderr
    assert "[penstock.observed]" in proc.stderr
    # The recorded runs are dependencies: touching them re-reads the pages that drew them.
    log = src / "runs" / "app.log"
    log.write_text(log.read_text() + "\n")
    again = subprocess.run(
        [sys.executable, "-m", "sphinx", "--no-color", "-b", "html", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    reread = {
        line.rsplit(" ", 1)[-1] for line in again.stdout.splitlines() if "reading sources" in line
    }
    assert reread == {"index", "run"}, again.stdout
