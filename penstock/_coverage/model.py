"""The coverage report: per flow, steps, edges, branches and paths covered out of declared.

Its JSON form (schema ``penstock.coverage``, version 1, shipped as
``schema/coverage-v1.schema.json``) is what ``--penstock-cov-report=json:PATH`` and
``penstock coverage --format json`` write, and what ``penstock coverage --combine`` and the docs
``coverage:`` option read back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from penstock._errors import CoverageError

__all__ = [
    "KINDS",
    "PATH_LIMIT",
    "SCHEMA",
    "VERSION",
    "CoverageReport",
    "FlowCoverage",
    "Item",
    "Measure",
    "read_report",
]

SCHEMA = "penstock.coverage"
VERSION = 1
#: What is measured, in the order reports show it.
KINDS = ("steps", "edges", "branches", "paths")
#: Flows with more entrypoint-to-final paths than this are measured on steps, edges and
#: branches only (the count grows exponentially with fan-out and fan-in).
PATH_LIMIT = 10_000


@dataclass(frozen=True)
class Item:
    """One thing to cover: a step, an edge or branch, or a path.

    Attributes:
        key: the names that identify it: the step's name; an edge's source and target; a
            path's steps.
        location: ``file:line`` of the function that declares it (for an edge, the target,
            whose ``after=`` declares it; for a path, its entrypoint).
        when: a branch's condition, if it has one.
        sources: in a combined report, the reports that covered it.
    """

    key: tuple[str, ...]
    location: str | None = None
    when: str | None = None
    sources: tuple[str, ...] = ()

    def label(self, kind: str) -> str:
        """How reports name it: ``a``, ``a -> b``, ``a -> b [when: x]``, ``a -> b -> c``."""
        text = " -> ".join(self.key)
        if kind in ("edges", "branches") and self.when:
            text += f" [when: {self.when}]"
        return text

    def as_dict(self, kind: str) -> dict[str, Any]:
        if kind == "steps":
            out: dict[str, Any] = {"step": self.key[0], "location": self.location}
        elif kind == "paths":
            out = {"steps": list(self.key), "location": self.location}
        else:
            out = {"from": self.key[0], "to": self.key[1], "when": self.when}
            out["location"] = self.location
        if self.sources:
            out["sources"] = list(self.sources)
        return out

    @classmethod
    def from_dict(cls, kind: str, data: Mapping[str, Any]) -> Item:
        if kind == "steps":
            key: tuple[str, ...] = (str(data["step"]),)
        elif kind == "paths":
            key = tuple(str(s) for s in data["steps"])
        else:
            key = (str(data["from"]), str(data["to"]))
        return cls(
            key,
            data.get("location"),
            data.get("when"),
            tuple(data.get("sources", ())),
        )


@dataclass(frozen=True)
class Measure:
    """Covered and missing items of one kind in one flow.

    Attributes:
        kind: ``steps``, ``edges``, ``branches`` or ``paths``.
        covered: the items runs exercised, in the flow's order.
        missing: the items no run exercised, in the flow's order.
        capped: paths only: the flow has more than `PATH_LIMIT` paths, so none were counted.
    """

    kind: str
    covered: tuple[Item, ...] = ()
    missing: tuple[Item, ...] = ()
    capped: bool = False

    @property
    def total(self) -> int | None:
        """How many are declared (``None`` when capped)."""
        return None if self.capped else len(self.covered) + len(self.missing)

    @property
    def percent(self) -> float | None:
        """Covered over declared, in percent (100 when nothing is declared, as coverage.py)."""
        total = self.total
        if total is None:
            return None
        return 100.0 * len(self.covered) / total if total else 100.0

    def as_dict(self) -> dict[str, Any]:
        percent = self.percent
        out: dict[str, Any] = {
            "covered": None if self.capped else len(self.covered),
            "total": self.total,
            "percent": None if percent is None else round(percent, 2),
            "missing": [i.as_dict(self.kind) for i in self.missing],
            "hit": [i.as_dict(self.kind) for i in self.covered],
        }
        if self.kind == "paths":
            out["capped"] = self.capped
            out["limit"] = PATH_LIMIT
        return out

    @classmethod
    def from_dict(cls, kind: str, data: Mapping[str, Any]) -> Measure:
        return cls(
            kind,
            tuple(Item.from_dict(kind, i) for i in data.get("hit", ())),
            tuple(Item.from_dict(kind, i) for i in data.get("missing", ())),
            bool(data.get("capped", False)),
        )


@dataclass(frozen=True)
class FlowCoverage:
    """How much of one flow the runs exercised.

    Attributes:
        flow: the flow's name.
        runs: how many runs of the flow were seen.
        steps: steps called.
        edges: declared edges taken.
        branches: the edges that are alternatives (a ``when=`` condition, or one of several
            edges out of a step), taken.
        paths: entrypoint-to-final paths one run took from end to end.
    """

    flow: str
    runs: int
    steps: Measure
    edges: Measure
    branches: Measure
    paths: Measure

    def measure(self, kind: str) -> Measure:
        """The `Measure` of ``kind`` (one of `KINDS`)."""
        found: Measure = getattr(self, kind)
        return found

    @property
    def complete(self) -> bool:
        """Whether nothing is missing."""
        return not any(self.measure(k).missing for k in KINDS)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, **{k: self.measure(k).as_dict() for k in KINDS}}

    @classmethod
    def from_dict(cls, flow: str, data: Mapping[str, Any]) -> FlowCoverage:
        return cls(
            flow,
            int(data.get("runs", 0)),
            *(Measure.from_dict(k, data[k]) for k in KINDS),
        )


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of every measured flow, and where the runs came from.

    Attributes:
        flows: by flow name, sorted.
        source: what the runs were: ``"pytest"``, ``"recorded runs"``, ``"combined"``.
        sources: for a combined report, the reports it combines (their file names).
    """

    flows: Mapping[str, FlowCoverage]
    source: str = "pytest"
    sources: tuple[str, ...] = field(default=())

    def totals(self) -> dict[str, Measure]:
        """Each kind summed over the flows (paths over the flows that are not capped)."""
        out = {}
        for kind in KINDS:
            covered: list[Item] = []
            missing: list[Item] = []
            for f in self.flows.values():
                m = f.measure(kind)
                if not m.capped:
                    covered += m.covered
                    missing += m.missing
            out[kind] = Measure(kind, tuple(covered), tuple(missing))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``penstock.coverage``, version 1)."""
        totals = {}
        for kind, m in self.totals().items():
            percent = m.percent
            totals[kind] = {
                "covered": len(m.covered),
                "total": m.total,
                "percent": None if percent is None else round(percent, 2),
            }
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "version": VERSION,
            "source": self.source,
            "totals": totals,
            "flows": {name: f.as_dict() for name, f in sorted(self.flows.items())},
        }
        if self.sources:
            out["sources"] = list(self.sources)
        return out

    def text(self) -> str:
        """The JSON document as text (two-space indents, one final newline)."""
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "the report") -> CoverageReport:
        """Read a JSON document back.

        Raises:
            CoverageError: not a coverage report of a version this penstock reads.
        """
        if not isinstance(data, Mapping):
            raise CoverageError(f"{where} is not a penstock coverage report (not a JSON object)")
        if data.get("schema") != SCHEMA or data.get("version") != VERSION:
            raise CoverageError(
                f"{where} is not a penstock coverage report of version {VERSION}: "
                f"schema={data.get('schema')!r} version={data.get('version')!r} (write one "
                "with --penstock-cov-report=json:PATH or penstock coverage --format json)"
            )
        try:
            flows = {
                name: FlowCoverage.from_dict(name, body) for name, body in data["flows"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise CoverageError(
                f"{where} is not a valid penstock coverage report: {exc!r}"
            ) from None
        return cls(
            dict(sorted(flows.items())),
            str(data.get("source", "")),
            tuple(data.get("sources", ())),
        )


def read_report(path: str, text: str | None = None) -> CoverageReport:
    """Read the JSON report at ``path``.

    Raises:
        CoverageError: missing, not JSON, or not a coverage report (the message names the file).
    """
    if text is None:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise CoverageError(f"cannot read coverage report {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CoverageError(f"{path} is not a penstock coverage report: not JSON ({exc})") from None
    return CoverageReport.from_dict(data, path)
