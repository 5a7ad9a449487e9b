"""Real ``sphinx-build`` runs: ``-W`` fails on an author mistake, ``-j 2 -W`` passes."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path
from shutil import copytree

import pytest

from tests.sphinx.html import mermaid_blocks
from tests.support.sphinx import run_sphinx

ROOTS = Path(__file__).parent / "roots"


def sphinx_build(srcdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_sphinx(srcdir, None, *args, timeout=120)


def add_pages(srcdir: Path, count: int) -> list[str]:
    """Enough extra pages drawing flows for Sphinx to really read and write in parallel."""
    pages = [f"page{i}" for i in range(count)]
    for i, page in enumerate(pages):
        flow = ("orders", "billing")[i % 2]
        (srcdir / f"{page}.rst").write_text(
            f"{page}\n{'=' * len(page)}\n\n.. penstock-flow:: {flow}\n"
        )
    with (srcdir / "index.rst").open("a") as index:
        index.writelines(f"   {page}\n" for page in pages)
    return pages


@pytest.mark.parametrize("jobs", [(), ("-j", "2")], ids=["serial", "parallel"])
def test_W_fails_the_build_on_an_unknown_flow(tmp_path: Path, jobs: tuple[str, ...]) -> None:
    """sphinx-build -W exits non-zero and prints the located, typed warning (also from workers)."""
    srcdir = tmp_path / "src"
    copytree(ROOTS / "test-basic", srcdir)
    add_pages(srcdir, 10)
    (srcdir / "page7.rst").write_text("Page 7\n======\n\n.. penstock-flow:: order\n")

    result = sphinx_build(srcdir, "-W", *jobs)

    assert result.returncode == 1
    assert (
        "page7.rst:4: WARNING: penstock-flow order: unknown flow 'order'; did you mean 'orders'?"
    ) in result.stderr
    assert "[penstock.unknown-flow]" in result.stderr


def test_parallel_build_with_W_passes_and_merges_what_pages_drew(tmp_path: Path) -> None:
    """sphinx-build -j 2 -W succeeds; every page read in a worker is in the merged environment."""
    srcdir = tmp_path / "src"
    copytree(ROOTS / "test-basic", srcdir)
    pages = add_pages(srcdir, 10)

    result = sphinx_build(srcdir, "-j", "2", "-W")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    outdir = srcdir / "_build" / "html"
    assert [len(mermaid_blocks(outdir / f"{page}.html")) for page in pages] == [1] * len(pages)
    with (outdir / ".doctrees" / "environment.pickle").open("rb") as f:
        env = pickle.load(f)
    drawn = {
        doc: [d.flow for d in items] for doc, items in env.domaindata["penstock"]["drawn"].items()
    }
    expected = {page: [("orders", "billing")[i % 2]] for i, page in enumerate(pages)}
    assert drawn == {**expected, "orders": ["orders"], "billing": ["billing"]}


def test_parallel_rebuild_purges_removed_pages_and_merges_new_ones(tmp_path: Path) -> None:
    """The domain's data follows the pages through a -j 2 rebuild: a removed page's diagrams
    and flow targets are forgotten (clear_doc); pages re-read by parallel workers, changed or
    new, are taken over with what they draw now (merge_domaindata)."""
    srcdir = tmp_path / "src"
    copytree(ROOTS / "test-basic", srcdir)
    pages = add_pages(srcdir, 8)
    assert sphinx_build(srcdir, "-j", "2", "-W").returncode == 0

    # page0 goes away; page8 appears and draws billing.
    (srcdir / "page0.rst").unlink()
    index = (srcdir / "index.rst").read_text()
    (srcdir / "index.rst").write_text(index.replace("   page0\n", "   page8\n"))
    (srcdir / "page8.rst").write_text("page8\n=====\n\n.. penstock-flow:: billing\n")
    # Enough changed pages for Sphinx to read them in parallel: each now draws the other flow.
    for i in range(1, 7):
        flow = ("billing", "orders")[i % 2]
        (srcdir / f"page{i}.rst").write_text(f"page{i}\n=====\n\n.. penstock-flow:: {flow}\n")
    result = sphinx_build(srcdir, "-j", "2", "-W")

    assert result.returncode == 0, result.stderr
    with (srcdir / "_build" / "html" / ".doctrees" / "environment.pickle").open("rb") as f:
        env = pickle.load(f)
    data = env.domaindata["penstock"]
    drawn = {doc: [d.flow for d in items] for doc, items in data["drawn"].items()}
    assert "page0" not in drawn
    assert drawn["page8"] == ["billing"]
    assert [drawn[f"page{i}"] for i in range(1, 8)] == [
        [("billing", "orders")[i % 2]] for i in range(1, 7)
    ] + [["billing"]]
    assert set(drawn) == {*pages[1:], "page8", "orders", "billing"}
    # Each flow's target is the first page by name that draws it, wherever it was read.
    assert data["flows"]["orders"][0] == "orders"
    assert data["flows"]["billing"][0] == "billing"
    assert all(doc != "page0" for doc, _ in data["flows"].values())
    assert data["build"].failed == []
