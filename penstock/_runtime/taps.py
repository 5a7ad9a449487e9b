"""Observers of every step call that sit beside the backend instead of replacing it.

The flow-coverage plugin watches every run of a test session whatever backend the tests
configure (logging, otel, ``penstock.testing``'s recorder): it installs a tap here, and every
`Active` built from then on calls the tap's ``on_start``/``on_end`` before the backend's own
hooks. A tap's hooks must be cheap and must not log: they run on every step call. With no tap
installed (any application), nothing of this runs.
"""

from __future__ import annotations

from penstock._runtime import active, lifecycle, selection
from penstock._runtime.active import Active

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["add_tap", "remove_tap"]


def add_tap(tap: Any) -> None:
    """Call ``tap.on_start(step=run)`` (and ``tap.on_end(step=run)``, if any) for every call.

    Calls already running finish with the hooks they started with.
    """
    with selection.lock:
        if tap not in active.TAPS:
            active.TAPS = (*active.TAPS, tap)
        _rebuild()


def remove_tap(tap: Any) -> None:
    """Stop calling ``tap`` (a tap not installed is ignored)."""
    with selection.lock:
        active.TAPS = tuple(t for t in active.TAPS if t is not tap)
        _rebuild()


def _rebuild() -> None:
    # The installed backend stays the same object: only the hooks its Active calls change.
    current = lifecycle.ACTIVE
    if current is not None:
        lifecycle.install(Active(current.backend), lifecycle.RECHECK)
