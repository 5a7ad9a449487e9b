"""Running a test's workers in threads that interleave as much as CPython lets them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


def run_in_threads(target: Callable[[int], object], count: int, switch_interval: float) -> None:
    """Run ``target(0)`` ... ``target(count - 1)`` in threads at once and wait for them all.

    CPython switches threads every 5 ms by default; ``switch_interval`` (seconds) makes it
    switch far more often while they run, so that runs interleave inside steps.
    """
    old = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)
    try:
        threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
