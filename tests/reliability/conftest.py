"""Fixtures for the reliability suite: penstock's state is reset around every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import penstock


@pytest.fixture(autouse=True)
def _reset_penstock() -> Iterator[None]:
    """No backend choice, observed edge or failed-hook memory leaks between tests."""
    penstock.reset()
    yield
    penstock.reset()
