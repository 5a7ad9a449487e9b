"""Time a fresh process: its wall-clock time and the CPU time it (and what it ran) used."""

from __future__ import annotations

import resource
import subprocess
import time
from typing import Any


def timed_run(args: list[str], **kwargs: Any) -> tuple[float, float]:
    """Run ``args`` to the end (``subprocess.run``, checked); ``(wall seconds, CPU seconds)``.

    The CPU time (user + system, of the process and the children it waited for) does not count
    the time the process waited for a core that another process held, which the wall-clock
    time does. It still varies with how fast the machine runs a core at the time (on a shared
    machine, from one build to the next by as much as the wall-clock time), so callers pair
    and repeat their runs all the same.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu
