"""Declared meets observed: read recorded runs back and lay them over the declared flow.

Sources are files that penstock's backends already produce: JSON log lines (the logging
backend's ``format="json"``, or any JSON handler that prints the record's fields) and OTLP JSON
(the OpenTelemetry Collector's file exporter). Both become the same `Record` stream, which
`observe` tallies per step and per edge, and `replay_run` orders for one run.
"""

from __future__ import annotations
