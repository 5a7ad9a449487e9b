"""Reading back what each backend recorded, as :class:`Hop` rows the scenarios can count.

Each recorder configures penstock with one backend, and ``hops()`` returns one row per recorded
step call: its correlation ID, step, span id, and parent (span id where the backend records it,
step name always).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import penstock
from penstock.testing import RecordingBackend


@dataclass(frozen=True)
class Hop:
    """One recorded step call, whatever the backend."""

    correlation_id: str
    step: str
    span_id: int
    #: The parent's span id where the backend records it (spans, the recorder), else ``None``.
    parent_span_id: int | None
    parent_step: str | None


class ListHandler(logging.Handler):
    """Keeps every record it is given (``list.append`` is atomic: safe from many threads)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Recorder:
    """A backend under test, configured on ``start()`` and undone on ``stop()``."""

    name = ""

    @property
    def links_parents(self) -> bool:
        """Whether hops carry the parent's span id (so parents are checked by id, not name)."""
        return True

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        penstock.reset()

    def hops(self) -> list[Hop]:
        raise NotImplementedError


class Recording(Recorder):
    """``penstock.testing.RecordingBackend``: the StepRun objects themselves."""

    name = "recording"

    def start(self) -> None:
        self.backend = RecordingBackend()
        penstock.configure(backend=self.backend)

    def hops(self) -> list[Hop]:
        return [
            Hop(
                r.correlation_id,
                r.step,
                r.span_id,
                r.parent.span_id if r.parent is not None else None,
                r.parent_step,
            )
            for r in self.backend.finished
        ]


class Logging(Recorder):
    """The ``logging`` backend; records caught by a handler on the ``penstock`` logger."""

    name = "logging"

    @property
    def links_parents(self) -> bool:
        """Whether the records carry ``parent_span_id`` (then parents are checked by id)."""
        return all("parent_span_id" in r.__dict__ for r in self.handler.records)

    def start(self) -> None:
        self.handler = ListHandler()
        self.logger = isolated_logger(self.handler)
        penstock.configure(backend="logging", logger=self.logger)

    def hops(self) -> list[Hop]:
        fields = [r.__dict__ for r in self.handler.records if "correlation_id" in r.__dict__]
        return [
            Hop(
                f["correlation_id"],
                f["step"],
                int(f["span_id"], 16),
                int(f["parent_span_id"], 16) if f.get("parent_span_id") else None,
                f["parent_step"],
            )
            for f in fields
        ]


class Otel(Recorder):
    """The ``otel`` backend on a private SDK provider with an in-memory exporter."""

    name = "otel"

    def start(self) -> None:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        penstock.configure(backend="otel", tracer_provider=self.provider)

    def stop(self) -> None:
        penstock.reset()
        self.provider.shutdown()

    def hops(self) -> list[Hop]:
        spans = self.exporter.get_finished_spans()
        names = {s.context.span_id: str((s.attributes or {})["penstock.step"]) for s in spans}
        return [
            Hop(
                f"{s.context.trace_id:032x}",
                names[s.context.span_id],
                s.context.span_id,
                s.parent.span_id if s.parent is not None else None,
                names.get(s.parent.span_id) if s.parent is not None else None,
            )
            for s in spans
        ]


def isolated_logger(handler: logging.Handler) -> logging.Logger:
    """A logger at INFO outside the logging tree, feeding only ``handler``.

    The scenarios make tens of thousands of records: pytest's capture, which hooks the root
    logger and every non-propagating logger of the tree, would keep them all.
    """
    # Outside the tree on purpose (see above), so not through logging.getLogger.
    logger = logging.Logger("penstock.reliability", logging.INFO)  # noqa: LOG001
    logger.addHandler(handler)
    return logger


RECORDERS: dict[str, type[Recorder]] = {r.name: r for r in (Recording, Logging, Otel)}


def check_runs(
    hops: list[Hop], parents: Mapping[str, str | None], runs: int, links_parents: bool
) -> dict[str, list[Hop]]:
    """Assert ``runs`` runs of the flow whose step -> parent step map is ``parents``, each
    recorded exactly once per step with its own correlation ID and the right parents.

    Returns:
        The hops grouped by correlation ID.
    """
    per_run = len(parents)
    assert len(hops) == runs * per_run, f"{len(hops)} records for {runs} runs of {per_run} steps"
    assert len({h.span_id for h in hops}) == len(hops), "a span id was recorded twice"
    grouped: dict[str, list[Hop]] = defaultdict(list)
    for hop in hops:
        grouped[hop.correlation_id].append(hop)
    assert len(grouped) == runs, f"{len(grouped)} correlation IDs for {runs} runs"
    wrong: list[Any] = []
    for corr, group in grouped.items():
        if Counter(h.step for h in group) != Counter(parents.keys()):
            wrong.append((corr, sorted(h.step for h in group)))
            continue
        by_step = {h.step: h for h in group}
        for hop in group:
            expected = parents[hop.step]
            if hop.parent_step != expected:
                wrong.append((corr, hop.step, "parent", hop.parent_step, expected))
            elif links_parents:
                want = None if expected is None else by_step[expected].span_id
                if hop.parent_span_id != want:
                    wrong.append((corr, hop.step, "parent span", hop.parent_span_id, want))
    assert not wrong, f"{len(wrong)} runs recorded wrongly, e.g. {wrong[:3]}"
    return grouped
