"""A Sphinx site whose diagrams come from the code builds about as fast as one written by hand.

Target (issue 4): ``sphinx-build`` of a 100-page project with one ``.. penstock-flow::`` per page
takes at most 1.15 times as long as the same project with the equivalent Mermaid written by
hand in ``.. mermaid::`` blocks, measured in the same run.

Both projects are built from scratch (``-E``, a new output folder) in a fresh interpreter each
time: that is what a CI docs job pays. They are built in pairs, back to back, the order
alternating from one round to the next; each pair gives a ratio and the row reports the median
of those ratios (robust to load that drifts during the run) with their spread in the note. A
build is timed by the CPU time it used (`benchmarks._timing`), not counting the time it waited
for a core; the note gives the wall-clock ratio too.
The hand-written Mermaid is taken from the penstock build's own HTML, so the two sites draw
exactly the same diagrams.
"""

from __future__ import annotations

import html
import re
import shutil
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

from benchmarks._timing import timed_run

PAGES = 100
FLOWS = 10
STEPS = 8
LIMIT = 1.15
_PRE = re.compile(r'<pre\b[^>]*\bclass="mermaid[^"]*"[^>]*>(.*?)</pre>', re.DOTALL)


def _flows_module() -> str:
    """Source of a module with FLOWS flows of STEPS steps each: a chain, then a fan-out."""
    parts = ["from penstock import entrypoint, flow, step\n"]
    for f in range(FLOWS):
        name = f"flow_{f}"
        parts.append(
            f'\n@flow("{name}")\n@entrypoint\ndef receive_{f}():\n    """Take the request in."""\n'
        )
        previous = f"receive_{f}"
        for s in range(1, STEPS):
            after = f"process_{f}_1" if s == STEPS - 1 else previous
            parts.append(
                f'\n@flow("{name}")\n@step(after={after})\ndef process_{f}_{s}():\n'
                f'    """Stage {s} of the work."""\n'
            )
            previous = f"process_{f}_{s}"
    return "".join(parts)


def _page(i: int, body: str) -> str:
    title = f"Page {i}"
    return f"{title}\n{'=' * len(title)}\n\nSome prose about part {i} of the system.\n\n{body}\n"


def _write_project(folder: Path, conf: str, bodies: list[str]) -> None:
    folder.mkdir(parents=True)
    (folder / "conf.py").write_text(textwrap.dedent(conf))
    toc = "\n".join(f"   page{i}" for i in range(len(bodies)))
    (folder / "index.rst").write_text(f"Bench\n=====\n\n.. toctree::\n\n{toc}\n")
    for i, body in enumerate(bodies):
        (folder / f"page{i}.rst").write_text(_page(i, body))


def _build(src: Path) -> tuple[float, float]:
    """``(wall seconds, CPU seconds)`` of a fresh ``sphinx-build -E`` into a new folder."""
    out = src / "_build"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "--no-color", "-E", "-q", "-W", "-b", "html"]
    return timed_run([*command, str(src), str(out)], timeout=600)


def run(quick: bool = False) -> list[dict[str, object]]:
    """Time both builds in alternating pairs; one row with the median of the pairs' ratios."""
    runs = 3 if quick else 11
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        drawn = root / "penstock"
        _write_project(
            drawn,
            """
            extensions = ["penstock_sphinx"]
            penstock_modules = ["bench_flows"]
            penstock_paths = ["."]
            """,
            [f".. penstock-flow:: flow_{i % FLOWS}" for i in range(PAGES)],
        )
        (drawn / "bench_flows.py").write_text(_flows_module())
        _build(drawn)  # warms the file cache and yields the Mermaid text

        texts = []
        for i in range(PAGES):
            page = (drawn / "_build" / f"page{i}.html").read_text(encoding="utf-8")
            (pre,) = _PRE.findall(page)
            texts.append(html.unescape(pre).strip())
        by_hand = root / "by-hand"
        _write_project(
            by_hand,
            """
            extensions = ["sphinxcontrib.mermaid"]
            """,
            [".. mermaid::\n\n" + textwrap.indent(text, "   ") for text in texts],
        )
        _build(by_hand)

        baseline, penstock = [], []
        for i in range(runs):
            if i % 2:
                penstock.append(_build(drawn))
                baseline.append(_build(by_hand))
            else:
                baseline.append(_build(by_hand))
                penstock.append(_build(drawn))

    ratios = [ours[1] / base[1] for ours, base in zip(penstock, baseline, strict=True)]
    walls = [ours[0] / base[0] for ours, base in zip(penstock, baseline, strict=True)]
    ratio = statistics.median(ratios)
    base_us = statistics.median(cpu for _, cpu in baseline) * 1e6
    ours_us = statistics.median(cpu for _, cpu in penstock) * 1e6
    return [
        {
            "benchmark": f"sphinx-build, {PAGES} pages with one penstock-flow directive each",
            "baseline": "the same pages with hand-written .. mermaid:: blocks",
            "baseline_us": base_us,
            "penstock_us": ours_us,
            "ratio": ratio,
            "limit": LIMIT,
            "ok": ratio <= LIMIT,
            "note": (
                f"median of {runs} paired fresh `sphinx-build -E` runs (order alternating), "
                f"CPU time: ratio {ratio:.3f}, pairs {min(ratios):.3f}-{max(ratios):.3f}; "
                f"{ours_us / 1e6:.2f} s vs {base_us / 1e6:.2f} s; wall-clock time: ratio "
                f"{statistics.median(walls):.3f}, pairs {min(walls):.3f}-{max(walls):.3f}; "
                f"{FLOWS} flows of {STEPS} steps"
            ),
        }
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
