"""Declared meets observed: read recorded runs back and lay them over the declared flow.

Sources are files that penstock's backends already produce, as pipelines leave them: JSON log
lines (the logging backend's ``format="json"``, or any JSON handler that prints the record's
fields), OTLP JSON (the OpenTelemetry Collector's file exporter, trace stores' answers,
pretty-printed documents), gzip- or zstd-compressed, wrapped by a container runtime or not.
Each becomes the same `RawRecord` stream (`documents` -> `source`), which `tally.Tally`
counts per step and per edge under the happens-before rule (`penstock._runtime.rule`,
applied to records by `rule`), and `replay_run` orders for one run. Any other source of
records (a database) can feed a `Tally` the same tuples.
"""

from __future__ import annotations
