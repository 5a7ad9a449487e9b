"""Run shapes: what each run did, kept by the runtime itself while flow coverage asks for it.

A run's shape is the set of its items: its first step (a `StepInfo`) and, for every call
inside it, the pair ``(StepInfo, StepInfo of its edge's source)`` (the source the runtime's
happens-before rule named, ``None`` for none). The flow-coverage plugin turns distinct shapes
into steps, edges and paths once, at the end of a session.

While a `RunShapes` is installed (`penstock._runtime.lifecycle.keep_shapes`), the step
lifecycle adds each call's item to its run's dict inline, with no call per step: a hook
called on every step doubled what keeping a shape costs. When a run's first call ends, its
items wait in a batch; every `BATCH` runs, the batch joins the counts of distinct shapes.
Only the runs going and one batch of dicts are alive at a time: keeping every finished run
until a batch was counted made the cyclic garbage collector run five times as often.
Without a `RunShapes` installed (any application), the lifecycle tests one global per call
and keeps nothing.
"""

from __future__ import annotations

from collections import Counter
from threading import Lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from penstock._runtime.backend import StepRun

__all__ = ["BATCH", "RunShapes"]

#: How many finished runs wait before they are counted.
BATCH = 512


class RunShapes:
    """The shapes of the runs seen while installed: distinct item tuples and their counts."""

    __slots__ = ("_done", "_lock", "_runs", "open")

    def __init__(self) -> None:
        self._lock = Lock()
        #: Distinct runs' items, in the order first seen -> runs. Runs of the same code list
        #: the same items in the same order, and a tuple of the same objects hashes and
        #: compares without calling back into Python.
        self._runs: Counter[tuple[Any, ...]] = Counter()
        #: The runs going: first call here -> its run's items, as the keys of a dict. Set by
        #: the lifecycle's hot path when a run begins.
        self.open: dict[StepRun, dict[Any, None]] = {}
        #: The items of finished runs not counted yet.
        self._done: list[dict[Any, None]] = []

    def opened(self, first: StepRun, items: dict[Any, None]) -> None:
        """Keep a run whose first call here is ``first`` (the lifecycle's rare paths)."""
        first._shape = self.open[first] = items

    def ended(self, first: StepRun) -> None:
        """The first call of a run has ended: its run's shape is final. Never raises."""
        items = self.open.pop(first, None)
        if items is None:  # opened while another RunShapes was installed, or counted already
            return
        done = self._done
        done.append(items)
        if len(done) >= BATCH:
            self._count()

    def _count(self) -> None:
        with self._lock:
            # Swapped first: a run ending in another thread meanwhile lands in the new list.
            done, self._done = self._done, []
            self._runs.update([_frozen(items) for items in done])

    def counts(self) -> list[tuple[tuple[Any, ...], int]]:
        """Every distinct shape and its number of runs; a run still going counts as it is now.

        Such a run is not counted again when it ends.
        """
        for first in _frozen(self.open):
            self.ended(first)
        self._count()
        with self._lock:
            return list(self._runs.items())

    def clear(self) -> None:
        """Forget the runs seen so far."""
        with self._lock:
            self._runs.clear()
            self._done.clear()
            self.open.clear()


def _frozen(items: dict[Any, Any]) -> tuple[Any, ...]:
    # A call running in another thread may add a key while this reads the dict.
    while True:
        try:
            return tuple(items)
        except RuntimeError:  # pragma: no cover - "dictionary changed size during iteration"
            continue
