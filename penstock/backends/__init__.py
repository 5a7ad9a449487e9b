"""Recording backends: the contract every backend implements, and the built-in ones.

A backend subclasses `BaseBackend` and overrides the hooks it needs; penstock calls only
those. Every hook, optional ones included, is declared and documented on `BaseBackend`;
`Backend` is the same contract as a `typing.Protocol` of the four step hooks, for type checkers.
`StepRun` is what the hooks receive: one call of a step.

Built-in backends, chosen with ``penstock.configure(backend=NAME)``: ``"logging"``
(`penstock.backends.logging.LoggingBackend`), ``"otel"``
(`penstock.backends.otel.OtelBackend`), ``"noop"``
(`penstock.backends.noop.NoopBackend`), and ``"recording"``
(`penstock.testing.RecordingBackend`). Third-party backends register a class or
instance under the entry-point group ``penstock.backends``; the "Writing a backend" page of the
documentation walks through one.
"""

from __future__ import annotations

from penstock._runtime import lifecycle
from penstock._runtime.backend import Backend, BaseBackend, StepRun

__all__ = ["Backend", "BaseBackend", "StepRun", "active_backend"]


def active_backend() -> Backend | None:
    """The backend recording runs now, or ``None`` while it is still to be decided.

    ``"auto"`` (the default) and ``"otel"`` are decided at the first run, so before any step
    has run this returns ``None`` unless `penstock.configure` was given a backend that needs
    no decision.
    """
    active = lifecycle.ACTIVE
    return None if active is None else active.backend
