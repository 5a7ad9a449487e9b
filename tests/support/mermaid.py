"""The real Mermaid as a test oracle: ``tools/mermaid-check.mjs`` kept running for the session.

Node and Mermaid take about half a second to start, and hypothesis asks hundreds of questions,
so each Mermaid major version gets one long-lived ``--serve`` process; every call sends a batch
of diagrams as one JSON line and reads one JSON line back.

Use the ``mermaid`` fixture (import it into a conftest): ``mermaid.parse(texts)`` returns one
:class:`Parsed` per text per version.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.system import TOOLS, require_node_package

SCRIPT = TOOLS / "mermaid-check.mjs"
#: npm package folder (under tools/node_modules) of each Mermaid major version tested.
VERSIONS = {"12": "mermaid", "11": "mermaid11"}


@dataclass(frozen=True)
class Parsed:
    """What one Mermaid version made of one diagram."""

    version: str
    ok: bool
    error: str | None = None
    #: node id -> {"text": label as shown, "raw": parsed label, "shape": ..., "link": ...}
    vertices: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: {"start", "end", "type", "stroke", "text"} per edge, in order.
    edges: list[dict[str, Any]] = field(default_factory=list)
    #: node id -> tooltip as shown.
    tooltips: dict[str, str] = field(default_factory=dict)
    #: The diagram title as drawn ("" without one).
    title: str = ""

    def text_of(self, node_id: str) -> str:
        return str(self.vertices[node_id]["text"])


class _Server:
    """One ``mermaid-check.mjs --serve`` process."""

    def __init__(self, version: str, package: str) -> None:
        self.package = package
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), "--mermaid", version, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=TOOLS,
            text=True,
            encoding="utf-8",
        )

    def ask(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        with self.lock:
            self.proc.stdin.write(json.dumps(list(texts)) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"mermaid-check ({self.package}) exited: {self.proc.wait()}")
        answer = json.loads(line)
        if not isinstance(answer, list):
            raise RuntimeError(f"mermaid-check ({self.package}) refused the request: {answer}")
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class MermaidOracle:
    """Parses diagrams with every Mermaid version in :data:`VERSIONS`.

    Parsing is a pure function of the text, and hypothesis asks about the same small diagrams
    again and again (while generating and while shrinking), so answers are kept per version and
    text for the session: only texts not seen before go to Mermaid.
    """

    def __init__(self) -> None:
        self._servers: dict[str, _Server] = {}
        self._answers: dict[tuple[str, str], dict[str, Any]] = {}
        #: Texts answered from the cache / sent to Mermaid, per version (for the record).
        self.hits = 0
        self.misses = 0

    def start(self) -> None:
        for version, package in VERSIONS.items():
            self._servers[version] = _Server(version, package)

    def parse(self, texts: Sequence[str]) -> dict[str, list[Parsed]]:
        """``{version: [Parsed per text]}`` for every Mermaid version."""
        out: dict[str, list[Parsed]] = {}
        for version, server in self._servers.items():
            new = list(dict.fromkeys(t for t in texts if (version, t) not in self._answers))
            self.hits += len(texts) - len(new)
            self.misses += len(new)
            if new:
                for text, answer in zip(new, server.ask(new), strict=True):
                    self._answers[(version, text)] = answer
            out[version] = [
                Parsed(
                    version=version,
                    ok=bool(r.get("ok")),
                    error=r.get("error"),
                    vertices=r.get("vertices") or {},
                    edges=r.get("edges") or [],
                    tooltips=r.get("tooltips") or {},
                    title=r.get("title") or "",
                )
                for r in (self._answers[(version, t)] for t in texts)
            ]
        return out

    def parse_one(self, text: str) -> list[Parsed]:
        """One :class:`Parsed` per Mermaid version for ``text``."""
        return [results[0] for results in self.parse([text]).values()]

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()


@pytest.fixture(scope="session")
def mermaid_oracle() -> Iterator[MermaidOracle]:
    """The real Mermaid 11 and 12 (skips locally, fails under CI=true, when they are missing)."""
    for package in VERSIONS.values():
        require_node_package(package)
    require_node_package("jsdom")
    oracle = MermaidOracle()
    oracle.start()
    try:
        yield oracle
    finally:
        oracle.close()
