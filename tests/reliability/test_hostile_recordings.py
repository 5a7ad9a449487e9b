"""Hostile and broken recorded-runs files: skipped and counted, never a traceback or a hang.

Numbers that overflow, lines that expand to a gigabyte, names of 100 MB, runs of thousands
of calls, ids that are not ids, terminal escapes in names, a first line that looks like
another format. Each is read the way a team's production logs would be read: the rest of
the file still counts.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import penstock
from penstock._observed.replay import replay_run
from penstock._observed.report import replay_text, summary_text
from penstock._observed.tally import observe
from penstock.cli import main

CID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _declare() -> None:
    @penstock.flow("pipe")
    @penstock.entrypoint
    def start() -> None:
        pass

    @penstock.flow("pipe")
    @penstock.step(after="start")
    def work() -> None:
        pass


def _record(**fields: Any) -> str:
    base: dict[str, Any] = {
        "flow": "pipe",
        "step": "work",
        "correlation_id": CID,
        "parent_step": "start",
        "predecessor": "start",
        "edge_from": "start",
        "duration_ms": 1.5,
        "status": "ok",
        "start_time": 1_790_000_000.0,
        "span_id": "00f067aa0ba902b7",
        "penstock_schema": 2,
    }
    base.update(fields)
    return json.dumps(base)


def _span(**fields: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": CID,
        "spanId": "00f067aa0ba902b7",
        "name": "pipe.work",
        "startTimeUnixNano": "1790000000000000000",
        "endTimeUnixNano": "1790000000001500000",
        "attributes": [
            {"key": "penstock.step", "value": {"stringValue": "work"}},
            {"key": "penstock.flow", "value": {"stringValue": "pipe"}},
            {"key": "penstock.schema", "value": {"intValue": "2"}},
        ],
    }
    span.update(fields)
    return span


def _otlp(*spans: dict[str, Any]) -> str:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def test_overflowing_numbers_are_invalid_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 310-digit duration, NaN/negative times, OTLP Infinity and 400-digit times: skipped."""
    _declare()
    logs = tmp_path / "app.log"
    logs.write_text(
        "\n".join(
            [
                _record(duration_ms=10**310),
                _record(duration_ms=-1, span_id="1" * 16),
                _record(start_time=float("nan"), span_id="2" * 16),
                _record(start_time=float("inf"), span_id="3" * 16),
                _record(span_id="4" * 16),
            ]
        )
        + "\n"
    )
    observed = observe("pipe", [logs])
    assert observed.skipped == {
        "invalid number: duration_ms": 2,
        "invalid number: start_time": 2,
    }
    assert observed.step("work").calls == 1  # type: ignore[union-attr]
    # A NaN start must not pass every window either.
    windowed = observe("pipe", [logs], since="2020-01-01T00:00:00Z")
    assert windowed.step("work").calls == 1  # type: ignore[union-attr]
    spans = tmp_path / "traces.jsonl"
    spans.write_text(
        "\n".join(
            [
                _otlp(_span(startTimeUnixNano=float("inf"))).replace("Infinity", "Infinity"),
                _otlp(_span(startTimeUnixNano="9" * 400, spanId="1" * 16)),
                _otlp(_span(endTimeUnixNano=10**400, spanId="2" * 16)),
                _otlp(_span(spanId="3" * 16)),
            ]
        )
        + "\n"
    )
    observed = observe("pipe", [spans])
    assert observed.skipped == {
        "invalid number: startTimeUnixNano": 2,
        "invalid number: endTimeUnixNano": 1,
    }
    assert main(["observe", "pipe", str(logs), str(spans)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_ids_that_are_not_ids_are_skipped(tmp_path: Path) -> None:
    """A traceId or spanId neither hex nor base64 of the right length is never a run."""
    _declare()
    spans = tmp_path / "traces.jsonl"
    spans.write_text(
        "\n".join(
            [
                _otlp(_span(traceId="not-a-trace-id")),
                _otlp(_span(traceId="zz" * 16)),
                _otlp(_span(traceId="0" * 32)),
                _otlp(_span(spanId="AAAA")),
                _otlp(_span(parentSpanId="xyz")),
                _otlp(_span()),
            ]
        )
        + "\n"
    )
    observed = observe("pipe", [spans])
    assert observed.skipped == {
        "invalid id: traceId": 3,
        "invalid id: spanId": 1,
        "invalid id: parentSpanId": 1,
    }
    assert observed.runs == 1


_PEAK = textwrap.dedent(
    """
    import sys
    import penstock
    from penstock._observed.tally import observe

    @penstock.flow("pipe")
    @penstock.entrypoint
    def start():
        pass

    result = observe("pipe", [sys.argv[1]])
    print(dict(result.skipped), result.runs)
    # VmHWM, this process's own peak: ru_maxrss would carry over the peak of the test process
    # that spawned it (Linux keeps it across exec), hundreds of MB late in a full run.
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(int(status.split()[0]) // 1024)
    """
)


def _peak_mb(path: Path) -> tuple[str, int]:
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    summary, peak = proc.stdout.strip().splitlines()
    return summary, int(peak)


def test_a_gzip_bomb_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    """A ~1 MB .gz holding one 1 GiB line: skipped ("line over 1 MiB"), peak under 100 MB."""
    bomb = tmp_path / "bomb.log.gz"
    chunk = b"a" * (1 << 20)
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        out.write(b'{"step": "')
        for _ in range(1024):
            out.write(chunk)
        out.write(b'"}\n')
        out.write(_record().encode() + b"\n")
    assert bomb.stat().st_size < 2 << 20
    summary, peak = _peak_mb(bomb)
    assert summary == "{'line over 1 MiB': 1} 1"
    assert peak < 100, f"peak {peak} MB"


def test_a_huge_name_is_skipped_not_padded(tmp_path: Path) -> None:
    """A 100 MB step name is over the line cap; a 300-character one over the name cap."""
    _declare()
    path = tmp_path / "names.log"
    with path.open("w") as out:
        out.write(_record(step="x" * 100_000_000) + "\n")
        out.write(_record(step="y" * 300, span_id="1" * 16) + "\n")
        out.write(_record(span_id="2" * 16) + "\n")
    observed = observe("pipe", [path])
    assert observed.skipped == {"line over 1 MiB": 1, "name over 256 characters": 1}
    assert max(len(line) for line in summary_text(observed).splitlines()) < 200


def _chain_run(n: int, *, layout: int = 2) -> str:
    """One run of ``n`` calls: start calls work n-1 times in a row."""
    lines = [
        _record(
            step="start",
            parent_step=None,
            predecessor=None,
            edge_from=None,
            span_id="f" * 16,
            duration_ms=float(n),
        )
    ]
    for i in range(1, n):
        fields: dict[str, Any] = {
            "span_id": f"{i:016x}",
            "parent_span_id": "f" * 16,
            "start_time": 1_790_000_000.0 + i / 1000,
            "duration_ms": 0.5,
            "predecessor": "start" if i == 1 else "work",
        }
        if layout == 1:
            fields["penstock_schema"] = 1
            fields["edge_from"] = None
        lines.append(_record(**fields))
    return "\n".join(lines) + "\n"


def test_replaying_a_long_run_takes_seconds_not_hours(tmp_path: Path) -> None:
    """--run over one run of 20,000 records (older layout: rebuilt from the tree) finishes."""
    _declare()
    path = tmp_path / "long.log"
    path.write_text(_chain_run(20_000, layout=1))
    began = time.perf_counter()
    one = replay_run("pipe", [path], CID[:8])
    elapsed = time.perf_counter() - began
    assert len(one.steps) == 20_000
    assert all(s.declared for s in one.steps)
    assert elapsed < 60, f"{elapsed:.1f} s"  # was cubic: 2,000 records never finished
    observed = observe("pipe", [path])
    assert observed.edge("start", "work").count == 19_999  # type: ignore[union-attr]


def test_older_spans_with_thousands_of_siblings_are_placed_quickly(tmp_path: Path) -> None:
    """Spans of a penstock before the run attributes, 8,000 siblings: n log n, not n**2."""
    _declare()
    parent = _span(spanId="f" * 16)
    parent["attributes"] = [
        {"key": "penstock.step", "value": {"stringValue": "start"}},
        {"key": "penstock.flow", "value": {"stringValue": "pipe"}},
    ]
    parent["endTimeUnixNano"] = str(1_790_000_000_000_000_000 + 10**12)
    children = []
    for i in range(1, 8001):
        start = 1_790_000_000_000_000_000 + i * 1000
        child = _span(spanId=f"{i:016x}", parentSpanId="f" * 16)
        child["startTimeUnixNano"] = str(start)
        child["endTimeUnixNano"] = str(start + 500)
        child["attributes"] = child["attributes"][:2]  # no penstock.schema: the old layout
        children.append(child)
    path = tmp_path / "old.jsonl"
    path.write_text(_otlp(parent, *children) + "\n")
    began = time.perf_counter()
    observed = observe("pipe", [path])
    elapsed = time.perf_counter() - began
    assert observed.edge("start", "work").count == 8000  # type: ignore[union-attr]
    assert elapsed < 30, f"{elapsed:.1f} s"


def test_terminal_escapes_in_names_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ESC, C1 and bidi overrides read from a file never reach the terminal raw."""
    _declare()
    evil = "\x1b[2J\x1b[31mwork\u202e\x9b"
    path = tmp_path / "evil.log"
    path.write_text(_record(step=evil, edge_from="start") + "\n" + _record(span_id="1" * 16) + "\n")
    assert main(["observe", "pipe", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "\x9b" not in out
    assert "\\u001b[2J" in out
    assert main(["observe", "pipe", str(path), "--run", CID]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\\u202e" in out
    assert "\x1b" not in replay_text(replay_run("pipe", [path], CID))


def test_list_and_paths_escape_reordering_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A name with a bidi override (accepted by the decorators) is shown escaped."""

    @penstock.flow("evil\u202eflow")
    @penstock.entrypoint
    def begin() -> None:
        pass

    assert main(["list"]) == 0
    assert main(["paths", "evil\u202eflow"]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out
    assert "evil\\u202eflow" in out


def test_a_file_is_sniffed_per_record(tmp_path: Path) -> None:
    """A plain first line mentioning "resourceSpans" never makes the records after it skipped."""
    _declare()
    lines = ['starting exporter for "resourceSpans" at 127.0.0.1']
    lines += [_record(span_id=f"{i + 1:016x}") for i in range(26)]
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines) + "\n")
    observed = observe("pipe", [path])
    assert observed.step("work").calls == 26  # type: ignore[union-attr]
    assert observed.skipped == {"not JSON": 1}


def test_a_cut_pretty_document_does_not_swallow_the_lines_after_it(tmp_path: Path) -> None:
    """A lone "{" line (a document cut short) gives back the records that follow it."""
    _declare()
    path = tmp_path / "cut.log"
    path.write_text("{\n" + '  "resourceSpans": [\n' + _record() + "\n")
    observed = observe("pipe", [path])
    assert observed.step("work").calls == 1  # type: ignore[union-attr]
    assert observed.skipped == {"truncated or invalid JSON": 1}
