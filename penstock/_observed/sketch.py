"""Duration percentiles in flat memory: a log-bucket sketch with 1 % relative accuracy.

Each duration lands in bucket ``ceil(log(d) / log(gamma))``; a quantile is the representative
value of the bucket holding that rank. Any value reported is within ``ACCURACY`` (relative)
of the true one, whatever the number of calls (the idea of DDSketch).
"""

from __future__ import annotations

import math

__all__ = ["ACCURACY", "INV_LOG_GAMMA", "TINY", "TINY_BUCKET", "Sketch"]

ACCURACY = 0.01
_GAMMA = (1 + ACCURACY) / (1 - ACCURACY)
INV_LOG_GAMMA = 1 / math.log(_GAMMA)
#: Durations at or below this (ms) share one bucket, reported as 0.
TINY = 1e-6
#: The bucket of durations at or below TINY.
TINY_BUCKET = -(10**9)


class Sketch:
    """Counts of durations (milliseconds) by bucket."""

    __slots__ = ("buckets", "count")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0

    def add(self, duration_ms: float) -> None:
        """Count one duration."""
        if duration_ms > TINY:
            index = math.ceil(math.log(duration_ms) * INV_LOG_GAMMA)
        else:
            index = TINY_BUCKET
        buckets = self.buckets
        buckets[index] = buckets.get(index, 0) + 1
        self.count += 1

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (nearest rank), or ``None`` with no durations."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                if index == TINY_BUCKET:
                    return 0.0
                return 2 * _GAMMA**index / (_GAMMA + 1)
        return None  # pragma: no cover - rank <= count
