"""The exit statuses of every ``penstock`` command, in one place."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What ``penstock`` exits with; the same meaning for every command.

    Attributes:
        OK: done; nothing to report (or ``diff`` found no change).
        PROBLEMS: the command found what it looks for: problems in flows (``check``,
            ``dag``/``paths`` refusing a broken flow), an out-of-date file (``dag --check``),
            a change (``diff --exit-code``).
        USAGE: the command could not do its job: bad arguments, a module that failed to
            import, an unknown flow, unreadable recorded runs or revisions.
    """

    OK = 0
    PROBLEMS = 1
    USAGE = 2
