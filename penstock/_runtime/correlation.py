"""Correlation IDs on the application's own log lines.

A logging filter and a structlog processor.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from penstock._runtime.lifecycle import CURRENT as _CURRENT

__all__ = ["CorrelationIdFilter", "add_correlation_id"]


class CorrelationIdFilter(logging.Filter):
    """Put the current run's ``correlation_id``, ``flow`` and ``step`` on log records.

    Attach it to a handler (or logger) of the application: records emitted inside a step get
    the three attributes (``None`` outside a run), under every backend, so a formatter can
    print them, e.g. ``%(correlation_id)s``. Attributes a record already has (penstock's own
    step records) are left alone. It never drops a record.

    Example:
        ```python
        handler = logging.StreamHandler()
        handler.addFilter(penstock.CorrelationIdFilter())
        ```
    """

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        if "correlation_id" in fields:
            return True
        run = _CURRENT.get()
        if run is None:
            fields["correlation_id"] = None
            fields.setdefault("flow", None)
            fields.setdefault("step", None)
        else:
            fields["correlation_id"] = run.correlation_id
            info = run._info
            fields.setdefault("flow", info.flow)
            fields.setdefault("step", info.name or None)
        return True


def add_correlation_id(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Add ``correlation_id``, ``flow`` and ``step`` inside a run (a structlog processor).

    Put it in ``structlog.configure(processors=[...])`` before the renderer. Outside a run it
    adds nothing; keys the event already has are kept.
    """
    run = _CURRENT.get()
    if run is not None:
        event_dict.setdefault("correlation_id", run.correlation_id)
        info = run._info
        if info.flow is not None:
            event_dict.setdefault("flow", info.flow)
        if info.name:
            event_dict.setdefault("step", info.name)
    return event_dict
