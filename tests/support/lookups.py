"""Counting the resolutions of flows by name, to pin "resolve once, pass the graph down".

Every look-up of a flow by name in the process-wide registry (`get_flow`, `check`, the docs
core's `drawable_flow`, whatever module asks) goes through the one resolution cache; the spy
stands in for it and notes each name asked, hit or miss.
"""

from __future__ import annotations

import pytest

from penstock._graph import model
from penstock._graph.model import Resolution

__all__ = ["spy_on_resolutions"]


class _Spy(dict[str, Resolution]):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key: str, default: Resolution | None = None) -> Resolution | None:  # type: ignore[override]
        self.asked.append(key)
        return super().get(key, default)


def spy_on_resolutions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the flows resolved from now on, in order (the cache starts empty)."""
    spy = _Spy()
    monkeypatch.setattr(model._CACHE, "entries", spy)
    return spy.asked
