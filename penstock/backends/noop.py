"""The ``noop`` backend: track runs (correlation IDs, propagation), record nothing."""

from __future__ import annotations

from penstock.backends import BaseBackend

__all__ = ["NoopBackend"]


class NoopBackend(BaseBackend):
    """Records nothing; penstock still tracks runs, so correlation IDs and propagation work.

    It does not join a current OpenTelemetry span's trace (that lookup would cost more than
    the rest of the call).
    """

    adopt_otel_trace = False
