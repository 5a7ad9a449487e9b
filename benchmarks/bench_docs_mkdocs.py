"""``mkdocs build`` of a 100-page site drawn by the penstock plugin vs the same Mermaid by hand.

Both sites use Material and pymdownx.superfences' mermaid fence. Site "penstock" has one
``::: penstock-flow bom_sync`` directive per page and the plugin configured; site "by hand" has
the Mermaid text penstock produces for that flow pasted into a ``mermaid`` fence on each page and
no plugin. Each build is a fresh ``python -m mkdocs build`` process, as users run it. Target: at
most 1.15 times as long.

Noise: the two sites are built in pairs, back to back, and the order alternates from one round
to the next (penstock first, then the hand-written site first), so neither always runs on a
page cache the other just warmed. Each pair gives a ratio; the row reports the median of those
ratios, which follows load that drifts over a run far better than a ratio of two medians taken
minutes apart, and the note gives their spread. A build is timed by the CPU time it used
(`benchmarks._timing`), not counting the time it waited for a core; the note gives the
wall-clock ratio too.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks._timing import timed_run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PAGES = 100
LIMIT = 1.15

_CONFIG = """\
site_name: bench
theme:
  name: material
  font: false
{plugins}
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
"""

_PLUGIN = """\
plugins:
  - penstock:
      modules: [bom_sync.consumer, bom_sync.sync]
      paths: [{examples}]
"""


def _mermaid() -> str:
    from penstock import docs

    docs.load_modules(["bom_sync.consumer", "bom_sync.sync"], [EXAMPLES])
    return docs.flow_diagram("bom_sync").mermaid


def _write(root: Path, *, by_hand: str | None) -> Path:
    plugins = "plugins: []" if by_hand is not None else _PLUGIN.format(examples=EXAMPLES)
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(_CONFIG.format(plugins=plugins))
    for i in range(PAGES):
        body = (
            f"```mermaid\n{by_hand}```\n" if by_hand is not None else "::: penstock-flow bom_sync\n"
        )
        (root / "docs" / f"page_{i:03}.md").write_text(f"# Page {i}\n\nThe flow.\n\n{body}")
    return root


def _build(root: Path) -> tuple[float, float]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return timed_run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"], cwd=root, env=env
    )


def _diagram(root: Path) -> str:
    # penstock keeps the Mermaid text's final newline; a fence drops it. Nothing else may differ.
    page = (root / "site" / "page_000" / "index.html").read_text()
    return page.split('<pre class="mermaid"><code>')[1].split("</code></pre>")[0]


def run(quick: bool = False) -> list[dict[str, object]]:
    """Build both sites alternately; one row comparing the medians."""
    rounds = 2 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        drawn = _write(Path(tmp, "penstock"), by_hand=None)
        manual = _write(Path(tmp, "by_hand"), by_hand=_mermaid())
        _build(drawn), _build(manual)  # warm the file system and bytecode caches
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for i in range(rounds):
            if i % 2:
                theirs.append(_build(manual))
                ours.append(_build(drawn))
            else:
                ours.append(_build(drawn))
                theirs.append(_build(manual))
        # Same output, or the comparison means nothing.
        same = _diagram(drawn).rstrip("\n") == _diagram(manual)
    ratios = [a[1] / b[1] for a, b in zip(ours, theirs, strict=True)]
    ratio = statistics.median(ratios)
    walls = [a[0] / b[0] for a, b in zip(ours, theirs, strict=True)]
    penstock_s = statistics.median(cpu for _, cpu in ours)
    baseline_s = statistics.median(cpu for _, cpu in theirs)
    return [
        {
            "benchmark": f"mkdocs build, {PAGES} pages, one diagram each",
            "baseline": "same site, Mermaid fences written by hand",
            "baseline_us": baseline_s * 1e6,
            "penstock_us": penstock_s * 1e6,
            "ratio": ratio,
            "limit": LIMIT,
            "ok": ratio <= LIMIT and same,
            "note": (
                f"median of {rounds} paired builds (order alternating), CPU time: ratio "
                f"{ratio:.3f}, pairs {min(ratios):.3f}-{max(ratios):.3f}; {penstock_s:.2f} s vs "
                f"{baseline_s:.2f} s; wall-clock time: ratio {statistics.median(walls):.3f}, "
                f"pairs {min(walls):.3f}-{max(walls):.3f}" + ("" if same else "; OUTPUT DIFFERS")
            ),
        }
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
