"""The real Graphviz as a test oracle: ``dot -Tsvg`` and the texts it draws."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from tests.support.system import require_executable

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class DrawnGraph:
    """The node and edge texts of an SVG drawn by ``dot``.

    Graphviz writes a run of spaces as a space followed by no-break spaces (``&#160;``); texts
    here turn those back into spaces so they compare with the names that were given.
    """

    #: node id (the DOT name) -> its text lines.
    nodes: dict[str, list[str]]
    #: (source id, target id) -> its label lines.
    edges: dict[tuple[str, str], list[str]]


def spaces(text: str) -> str:
    return text.replace("\xa0", " ")


class Graphviz:
    """Runs the real ``dot``.

    Drawing is a pure function of the source, and hypothesis asks about the same small graphs
    again and again, so each source's SVG is kept for the session: ``dot`` runs once per source.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self._drawn: dict[str, str] = {}

    def svg(self, source: str) -> str:
        """``dot -Tsvg`` of ``source``; fails the test on any error."""
        if source not in self._drawn:
            self._drawn[source] = self._run(source)
        return self._drawn[source]

    def _run(self, source: str) -> str:
        proc = subprocess.run(
            [self.executable, "-Tsvg"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 0, f"dot rejected the graph:\n{err}\n{source}"
        assert "error" not in err.lower(), f"dot complained:\n{err}\n{source}"
        return proc.stdout.decode("utf-8")

    def draw(self, source: str) -> DrawnGraph:
        """The texts ``dot`` draws for ``source``, by node and edge."""
        root = ET.fromstring(self.svg(source))
        nodes: dict[str, list[str]] = {}
        edges: dict[tuple[str, str], list[str]] = {}
        for g in root.iter(f"{SVG}g"):
            # "node" or "edge", then the classes of penstock's marks ("node ps_added").
            kind = (g.get("class") or "").partition(" ")[0]
            title = g.find(f"{SVG}title")
            if kind not in {"node", "edge"} or title is None or title.text is None:
                continue
            texts = [spaces(t.text or "") for t in g.iter(f"{SVG}text")]
            if kind == "node":
                nodes[title.text] = texts
            else:
                source_id, _, target_id = title.text.partition("->")
                edges[(source_id, target_id)] = texts
        return DrawnGraph(nodes, edges)


@pytest.fixture(scope="session")
def graphviz() -> Graphviz:
    """Debian's ``dot`` (skips locally, fails under CI=true, when it is missing)."""
    return Graphviz(require_executable("dot", "install Graphviz, e.g. apt-get install graphviz"))
