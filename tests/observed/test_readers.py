"""Reading recorded runs back: JSON log lines and OTLP JSON give the same counts."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

import penstock
from penstock._errors import ObservedError
from penstock._observed.record import DUPLICATE
from penstock._observed.tally import ObservedFlow, observe
from tests.observed import shop


def _edges(observed: ObservedFlow) -> dict[tuple[str, str, bool], int]:
    return {(e.source, e.target, e.declared): e.count for e in observed.edges}


def _calls(observed: ObservedFlow) -> dict[str, tuple[int, int]]:
    return {s.name: (s.calls, s.errors) for s in observed.steps}


def test_json_log_lines_give_calls_errors_and_edges(json_log: Path) -> None:
    """The logging backend's JSON lines give every declared edge's count and the drift."""
    observed = observe(shop.FLOW, [json_log])
    assert observed.runs == len(shop.ORDERS)
    assert _edges(observed) == shop.EXPECTED_EDGES
    assert _calls(observed) == shop.EXPECTED_CALLS
    # The app's own line per order, and the drift warning penstock logged, are not records.
    assert observed.skipped == {"not JSON": 1, "not a step record": len(shop.ORDERS) + 1}


def test_otlp_json_gives_the_same_counts_as_the_logs(json_log: Path, otlp_file: Path) -> None:
    """The same runs recorded as OTLP JSON (foreign spans mixed in) count the same."""
    from_logs = observe(shop.FLOW, [json_log])
    from_spans = observe(shop.FLOW, [otlp_file])
    assert _edges(from_spans) == _edges(from_logs) == shop.EXPECTED_EDGES
    assert _calls(from_spans) == _calls(from_logs)
    assert from_spans.runs == from_logs.runs
    # Spans of other instrumentations are not lost data: counted apart, not "skipped".
    assert from_spans.skipped == {}
    assert from_spans.foreign_spans == 8


def test_otlp_lines_are_the_collector_encoding(otlp_file: Path) -> None:
    """The test data is OTLP JSON: camelCase keys, hex ids, integer enums, typed values."""
    first = json.loads(otlp_file.read_text().splitlines()[0])
    span = first["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 32
    int(span["traceId"], 16)
    assert isinstance(span["kind"], int)
    assert isinstance(span["startTimeUnixNano"], str)
    keys = {a["key"] for a in span["attributes"]}
    assert {"penstock.flow", "penstock.step", "penstock.schema"} <= keys


def test_undeclared_transition_names_the_first_line_that_showed_it(json_log: Path) -> None:
    """An undeclared transition points at the record that showed it first."""
    observed = observe(shop.FLOW, [json_log])
    edge = observed.edge("validate", "ship")
    assert edge is not None
    assert not edge.declared
    assert edge.seen_at is not None
    file, line = edge.seen_at.rsplit(":", 1)
    record = json.loads(Path(file).read_text().splitlines()[int(line) - 1])
    assert (record["step"], record["predecessor"]) == ("ship", "validate")


def test_a_file_and_its_gzipped_copy_count_once(json_log: Path, tmp_path: Path) -> None:
    """The same records read twice (a rotated, gzipped copy) are the same calls."""
    packed = tmp_path / "old.log.gz"
    packed.write_bytes(gzip.compress(json_log.read_bytes()))
    alone = observe(shop.FLOW, [json_log])
    observed = observe(shop.FLOW, [json_log, packed])
    assert observed.runs == len(shop.ORDERS)  # the same correlation IDs
    assert observed.edge("checkout", "validate").count == 9  # type: ignore[union-attr]
    assert observed.steps == alone.steps
    assert observed.edges == alone.edges
    records = sum(s.calls for s in alone.steps)
    assert observed.skipped[DUPLICATE] == records


def test_globs_are_expanded_relative_to_base(json_log: Path) -> None:
    """A glob relative to ``base`` finds the files."""
    observed = observe(shop.FLOW, ["*.log"], base=json_log.parent)
    assert observed.runs == len(shop.ORDERS)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that does not exist, or a glob that matches nothing, names itself."""
    shop.declare()
    with pytest.raises(ObservedError, match="'nope.log' not found"):
        observe(shop.FLOW, ["nope.log"], base=tmp_path)
    with pytest.raises(ObservedError, match="no file matches 'runs/\\*.log'"):
        observe(shop.FLOW, ["runs/*.log"], base=tmp_path)


def test_bad_lines_are_skipped_and_counted_by_reason(json_log: Path, tmp_path: Path) -> None:
    """Truncated lines, wrong types and unknown schema versions are skipped, never fatal."""
    good = json_log.read_text().splitlines()
    step_line = next(line for line in good if '"duration_ms"' in line)
    record = json.loads(step_line)
    bad = [
        step_line[: len(step_line) // 2],
        json.dumps({**record, "duration_ms": "12"}),
        json.dumps({**record, "step": 7}),
        json.dumps({**record, "penstock_schema": 99}),
        json.dumps({**record, "status": "maybe"}),
        "[1, 2]",
        "\x00\xff garbage",
    ]
    path = tmp_path / "bad.log"
    path.write_text("\n".join(bad) + "\n")
    observed = observe(shop.FLOW, [path])
    assert observed.runs == 0
    assert observed.skipped == {
        "truncated or invalid JSON": 1,
        "wrong type: duration_ms": 1,
        "wrong type: step": 1,
        "unknown schema version": 1,
        "unknown status": 1,
        "not JSON": 2,
    }


def test_bad_otlp_input_is_skipped_and_counted(otlp_file: Path, tmp_path: Path) -> None:
    """A truncated OTLP line, a non-OTLP object and a penstock span of another schema."""
    lines = otlp_file.read_text().splitlines()
    doc = json.loads(lines[0])
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for attr in span["attributes"]:
        if attr["key"] == "penstock.schema":
            attr["value"] = {"intValue": "99"}
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([lines[1][:40], '{"hello": 1}', json.dumps(doc)]) + "\n")
    path.write_text(lines[0] + "\n" + path.read_text())
    observed = observe(shop.FLOW, [path])
    assert observed.skipped == {
        "truncated or invalid JSON": 1,
        "not a step record": 1,
        "unknown schema version": 1,
    }
    assert sum(s.calls for s in observed.steps) == 1


def test_since_and_until_keep_calls_that_started_inside(json_log: Path) -> None:
    """A window after every run keeps nothing; one around them keeps all."""
    observed = observe(shop.FLOW, [json_log], since="2000-01-01T00:00:00Z", until="2999-01-01")
    assert observed.runs == len(shop.ORDERS)
    late = observe(shop.FLOW, [json_log], since="2999-01-01T00:00:00+00:00")
    assert late.runs == 0
    assert late.skipped["outside since/until"] == 9 + 9 + 8 + 8 + 7
    with pytest.raises(ObservedError, match="since 'yesterday' is not an ISO time"):
        observe(shop.FLOW, [json_log], since="yesterday")


def test_percentiles_are_within_one_percent(json_log: Path) -> None:
    """p50 and p95 are within the sketch's 1 % of the exact nearest-rank values."""
    durations = sorted(
        json.loads(line)["duration_ms"]
        for line in json_log.read_text().splitlines()
        if '"step": "checkout"' in line and '"duration_ms"' in line
    )
    observed = observe(shop.FLOW, [json_log]).step("checkout")
    assert observed is not None
    exact_p50 = durations[4]  # nearest rank: ceil(0.5 * 9) = 5th
    exact_p95 = durations[8]
    # The sketch is within 1 % of the value, and reports it rounded to the microsecond.
    assert observed.p50_ms == pytest.approx(exact_p50, abs=0.01 * exact_p50 + 0.0005)
    assert observed.p95_ms == pytest.approx(exact_p95, abs=0.01 * exact_p95 + 0.0005)


def test_traces_as_trace_stores_return_them_are_read(otlp_file: Path, tmp_path: Path) -> None:
    """Tempo's {"batches": [...]} and {"trace": {"resourceSpans": ...}} with upper-case ids."""
    lines = []
    for i, line in enumerate(otlp_file.read_text().splitlines()):
        doc = json.loads(line)
        for resource in doc["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    span["traceId"] = span["traceId"].upper()
        key = "batches" if i % 2 else None
        lines.append(json.dumps({"batches": doc["resourceSpans"]} if key else {"trace": doc}))
    path = tmp_path / "tempo.jsonl"
    path.write_text("\n".join(lines) + "\n")
    observed = observe(shop.FLOW, [path])
    assert _edges(observed) == shop.EXPECTED_EDGES
    assert observed.runs == len(shop.ORDERS)


def _record_through(formatter: logging.Formatter, path: Path) -> None:
    """The shop's runs logged through the application's own JSON handler into ``path``."""
    checkout = shop.declare()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(formatter)
    loggers = [logging.getLogger("penstock"), shop.app_log]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    penstock.configure(backend="logging", format=None)
    try:
        for order in shop.ORDERS:
            checkout(order)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()
        penstock.reset()


def test_lines_written_by_python_json_logger_are_read(tmp_path: Path) -> None:
    """python-json-logger's JsonFormatter prints the record's fields: the same counts."""
    from pythonjsonlogger.json import JsonFormatter

    path = tmp_path / "pjl.log"
    _record_through(JsonFormatter(), path)
    observed = observe(shop.FLOW, [path])
    assert _edges(observed) == shop.EXPECTED_EDGES
    assert _calls(observed) == shop.EXPECTED_CALLS
    assert observed.skipped == {"not a step record": len(shop.ORDERS) + 1}


def test_lines_written_by_structlog_are_read(tmp_path: Path) -> None:
    """structlog's ProcessorFormatter with ExtraAdder and JSONRenderer: the same counts."""
    import structlog

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    path = tmp_path / "structlog.log"
    _record_through(formatter, path)
    observed = observe(shop.FLOW, [path])
    assert _edges(observed) == shop.EXPECTED_EDGES
    assert _calls(observed) == shop.EXPECTED_CALLS


def _strip_run_structure(otlp_file: Path, target: Path) -> None:
    """The spans as a penstock without the run-structure attributes wrote them."""
    dropped = {"penstock.parent_step", "penstock.predecessor", "penstock.schema"}
    out = []
    for line in otlp_file.read_text().splitlines():
        doc = json.loads(line)
        for resource in doc["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    span["attributes"] = [
                        a for a in span.get("attributes", ()) if a["key"] not in dropped
                    ]
        out.append(json.dumps(doc))
    target.write_text("\n".join(out) + "\n")


def test_older_spans_are_placed_from_the_span_tree(
    json_log: Path, otlp_file: Path, tmp_path: Path
) -> None:
    """Without penstock.parent_step/predecessor, the tree and timing (through the foreign
    span under charge) give the same counts as the log lines."""
    legacy = tmp_path / "old-traces.jsonl"
    _strip_run_structure(otlp_file, legacy)
    from_tree = observe(shop.FLOW, [legacy])
    from_logs = observe(shop.FLOW, [json_log])
    assert _edges(from_tree) == _edges(from_logs) == shop.EXPECTED_EDGES
    assert _calls(from_tree) == _calls(from_logs)
    assert from_tree.runs == from_logs.runs


def test_a_cut_gzip_file_is_read_up_to_the_damage(json_log: Path, tmp_path: Path) -> None:
    """A .gz file cut while being written: the lines before the cut count, the cut is noted."""
    packed = gzip.compress(json_log.read_bytes())
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    observed = observe(shop.FLOW, [cut])
    assert observed.skipped["damaged or cut .gz file (read up to the damage)"] == 1
    assert 0 < sum(s.calls for s in observed.steps) < 41


def test_non_finite_durations_and_deep_nesting_are_skipped(json_log: Path, tmp_path: Path) -> None:
    """NaN and infinite durations, and JSON nested past the parser's limit, are counted."""
    record = json.loads(
        next(line for line in json_log.read_text().splitlines() if "duration_ms" in line)
    )
    lines = [
        json.dumps({**record, "duration_ms": float("inf")}),
        json.dumps({**record, "duration_ms": float("nan")}),
        '{"a": ' * 100_000 + "1" + "}" * 100_000,
    ]
    path = tmp_path / "odd.log"
    path.write_text("\n".join(lines) + "\n")
    observed = observe(shop.FLOW, [path])
    assert observed.skipped == {"invalid number: duration_ms": 2, "truncated or invalid JSON": 1}


def test_span_status_and_cancellation_are_read(otlp_file: Path, tmp_path: Path) -> None:
    """Status code 2 is an error; penstock.cancelled marks a cancelled call."""
    from penstock import replay_run

    lines = otlp_file.read_text().splitlines()
    doc = json.loads(lines[0])
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"].append({"key": "penstock.cancelled", "value": {"boolValue": True}})
    path = tmp_path / "cancelled.jsonl"
    path.write_text("\n".join([json.dumps(doc), *lines[1:]]) + "\n")
    run = replay_run(shop.FLOW, [path], span["traceId"])
    by_span = {s.where: s for s in run.steps}
    assert by_span[f"{path}:1"].status == "cancelled"
    failing = replay_run(shop.FLOW, [otlp_file], _failed_trace(otlp_file))
    assert [s.name for s in failing.steps if s.failed_here] == ["charge"]


def _failed_trace(otlp_file: Path) -> str:
    for line in otlp_file.read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    if span.get("status", {}).get("code") == 2:
                        return str(span["traceId"])
    raise AssertionError("no failed span")
