"""The compiled scanner: what it counts straight into a tally, and what it leaves to Python.

`test_fast_path.py` checks that reading with it gives the plain reader's output byte for
byte on every fixture and on fuzzed lines; these tests check that it is built, that it does
count the lines of an ordinary log, and where it stops.
"""

from __future__ import annotations

import json
import os
import random
from array import array
from pathlib import Path
from typing import Any

import pytest

from penstock._observed import fast as fast_module
from penstock._observed import tally as tally_module
from penstock._observed.fast import compiled_scan
from penstock._observed.record import DUPLICATE
from tests.observed import shop

pytest.importorskip("msgspec")


@pytest.fixture
def scan() -> Any:
    found = compiled_scan()
    if found is None:
        reason = "the compiled scanner (penstock/_observed/_scan.c) was not built here"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI builds it: gcc and the Python headers are needed)")
        pytest.skip(reason)
    return found


def _record(**fields: Any) -> bytes:
    base = {
        "time": "2026-12-07T10:00:00.000Z",
        "level": "info",
        "message": "orders.charge ok in 1.25 ms",
        "flow": "orders",
        "step": "charge",
        "correlation_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "parent_step": "receive",
        "predecessor": "receive",
        "duration_ms": 1.25,
        "status": "ok",
        "start_time": 1796630400.5,
        "span_id": "00f067aa0ba902b7",
        "edge_from": "receive",
        "penstock_schema": 2,
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode() + b"\n"


def _call(scan: Any, block: bytes, groups: dict[Any, Any], pos: int = 0) -> Any:
    state: dict[str, Any] = {"seen": set(), "runs": set(), "other": {}}
    done = scan(block, pos, b"orders", 2, 2, state["seen"], state["runs"], groups, state["other"])
    return done, state


def test_it_counts_plain_records_duplicates_app_lines_and_other_flows(scan: Any) -> None:
    groups = {("charge", "receive", "ok"): [0, None, array("d")]}
    block = (
        _record()
        + _record()  # the same run and span id again
        + _record(span_id="1111111111111111", duration_ms=3, start_time=1796630401.25)
        + b'{"time": "x", "level": "info", "message": "an app line"}\n'
        + b"{}\n"
        + _record(flow="billing")
        + _record(flow=None)
    )
    (pos, lines, app, dup), state = _call(scan, block, groups)
    assert (pos, lines, app, dup) == (len(block), 7, 2, 1)
    calls, last, durations = groups[("charge", "receive", "ok")]
    assert calls == 2
    assert last == 1796630401.25
    assert list(durations) == [1.25, 3.0]
    assert state["runs"] == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    # The marks are the ones Python's reader makes: the same call read by either counts once.
    assert hash(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")) in state["seen"]
    assert state["other"] == {"billing": 1, "": 1}


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(_record(message='say "hi"'), id="an escape"),
        pytest.param(_record(step="caf\u00e9"), id="outside ASCII"),
        pytest.param(_record(extra={"nested": 1}), id="nesting"),
        pytest.param(_record(status="done"), id="an unknown status"),
        pytest.param(_record(penstock_schema=1), id="an older layout"),
        pytest.param(_record(penstock_schema=3), id="a newer layout"),
        pytest.param(_record(penstock_schema=...), id="no layout"),
        pytest.param(_record(duration_ms=-1), id="a negative duration"),
        pytest.param(_record(duration_ms=10**30), id="a huge integer"),
        pytest.param(_record(duration_ms=1e12), id="a duration too long"),
        pytest.param(_record(start_time="soon"), id="a start that is text"),
        pytest.param(_record(span_id=...), id="no span id"),
        pytest.param(_record(span_id=""), id="an empty span id"),
        pytest.param(_record(correlation_id=...), id="no run"),
        pytest.param(_record(step="s" * 257), id="a name over 256 characters"),
        pytest.param(_record(edge_from="pack"), id="a group the tally has not made"),
        pytest.param(_record(log="x", stream="stdout"), id="a docker wrapper"),
        pytest.param(b'{"resourceSpans": []}\n', id="an OTLP document"),
        pytest.param(_record()[:-1] + b" trailing\n", id="trailing text"),
        pytest.param(b'{"step": 1, ' + _record()[1:], id="a key twice"),
        pytest.param(b"   " + _record(), id="a line not opening with a brace"),
    ],
)
def test_it_stops_at_a_line_it_is_not_sure_of(scan: Any, line: bytes) -> None:
    groups = {("charge", "receive", "ok"): [0, None, array("d")]}
    first = _record()
    (pos, lines, app, dup), _ = _call(scan, first + line + _record(span_id="2" * 16), groups)
    assert (pos, lines, app, dup) == (len(first), 1, 0, 0)
    assert groups[("charge", "receive", "ok")][0] == 1
    # Python reads that line, then the scanner goes on after it.
    (pos, lines, _, _), _ = _call(scan, first + line + _record(span_id="2" * 16), groups, pos)
    assert (pos, lines) == (len(first), 0)


def test_numbers_are_read_as_the_decoder_reads_them(scan: Any) -> None:
    values = [0, 7, 1.25, 0.1, 0.3, 123456.789012, 1e-7, 2.5e3, 9.999999999e11, 0.0836]
    values += [179663040.0123456, 999999999999, 1.7976931348623157e-5, 5e-324, 0.1e1]
    block = b"".join(
        _record(duration_ms=v, span_id=f"{i:016x}", start_time=v / 100)
        for i, v in enumerate(values)
    )
    groups = {("charge", "receive", "ok"): [0, None, array("d")]}
    (pos, lines, _, _), _ = _call(scan, block, groups)
    assert (pos, lines) == (len(block), len(values))
    durations = list(groups[("charge", "receive", "ok")][2])
    assert durations == [float(v) for v in values]
    assert groups[("charge", "receive", "ok")][1] == max(values) / 100


def test_number_tokens_round_as_python_rounds_them(scan: Any) -> None:
    """Short tokens take a shortcut (digits / 10**k); it must round as float() does."""
    rng = random.Random(7)
    tokens = []
    for _ in range(3000):
        value = rng.random() * 10 ** rng.randint(-6, 11)
        tokens.append(rng.choice([repr(value), f"{value:.3f}", f"{value:.6f}", f"{value:.9g}"]))
    template = _record(duration_ms=0.5, span_id="%s")
    block = b"".join(
        template.replace(b'"duration_ms": 0.5', b'"duration_ms": ' + t.encode()).replace(
            b"%s", f"{i:016x}".encode()
        )
        for i, t in enumerate(tokens)
    )
    groups = {("charge", "receive", "ok"): [0, None, array("d")]}
    (pos, lines, _, _), _ = _call(scan, block, groups)
    assert (pos, lines) == (len(block), len(tokens))
    assert list(groups[("charge", "receive", "ok")][2]) == [float(t) for t in tokens]


def test_an_ordinary_log_is_counted_in_c(
    scan: Any, json_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All but the first line of each group (the tally makes the group) and the app lines."""
    lines = [x for x in json_log.read_text().splitlines() if x.startswith("{")]
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines * 20) + "\n")
    counted: list[int] = []
    make = tally_module.Tally.block_sink

    def counting(self: tally_module.Tally) -> Any:
        sink = make(self)
        assert sink is not None

        def count(block: bytes, pos: int) -> tuple[int, int]:
            pos, lines = sink(block, pos)
            counted.append(lines)
            return pos, lines

        return count

    monkeypatch.setattr(tally_module.Tally, "block_sink", counting)
    result = tally_module.observe(shop.FLOW, [path])
    assert sum(counted) > 0.95 * len(lines) * 20
    assert result.skipped[DUPLICATE] == sum(1 for x in lines if '"duration_ms"' in x) * 19
    monkeypatch.setattr(tally_module.Tally, "block_sink", make)
    monkeypatch.setattr(fast_module, "FAST_SCAN", False)
    assert tally_module.observe(shop.FLOW, [path]) == result
