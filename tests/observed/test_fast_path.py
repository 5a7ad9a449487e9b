"""The fast readers (msgspec blocks, orjson, C, two cores) give the plain reader's output exactly.

Every fixture is read six ways: the standard library alone, orjson, msgspec (blocks of log
lines decoded at once, with a small block size so that files span many blocks and stop
half-way), msgspec on two cores (the input cut in two, the second half counted in a forked
process), and the same two with the compiled scanner counting the lines it is sure of.
The JSON output, the text summary and a replay must be the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from penstock._errors import ObservedError
from penstock._graph.model import get_flow
from penstock._observed import documents as documents_module
from penstock._observed import fast as fast_module
from penstock._observed import split as split_module
from penstock._observed.record import DUPLICATE
from penstock._observed.replay import replay_run
from penstock._observed.report import replay_text, summary_text
from penstock._observed.source import read_records
from penstock._observed.split import tally_in_two
from penstock._observed.tally import ObservedFlow, Tally, observe
from tests.observed import shop

pytest.importorskip("msgspec")

MODES = ("plain", "orjson", "msgspec", "two cores", "compiled", "compiled two cores")
#: The modes that read on two cores.
TWO = ("two cores", "compiled two cores")


def _set_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(documents_module, "FAST_JSON", mode != "plain")
    monkeypatch.setattr(fast_module, "FAST_DECODE", mode not in ("plain", "orjson"))
    monkeypatch.setattr(fast_module, "FAST_SCAN", mode.startswith("compiled"))
    # Small blocks: a fixture spans many, and reading stops and goes on line by line.
    monkeypatch.setattr(fast_module, "BLOCK", 512)


def _observe_in_two(flow: str, files: list[Path]) -> tuple[ObservedFlow, bool]:
    """`observe` with the input cut in two whatever its size; whether the cut was used."""
    paths = list(files)
    graph = get_flow(flow)
    tally = tally_in_two(lambda: Tally(graph), paths, force=True)
    used = tally is not None
    if tally is None:
        return observe(flow, files), False
    if tally.deferred:
        from penstock._observed.record import Skipped

        tally.settle(read_records(paths, Skipped()))
    return tally.result([str(p) for p in paths]), used


def _outputs(
    files: list[Path], monkeypatch: pytest.MonkeyPatch, run: str | None = None
) -> dict[str, str]:
    found: dict[str, str] = {}
    for mode in MODES:
        _set_mode(monkeypatch, mode)
        if mode in TWO:
            result, _ = _observe_in_two(shop.FLOW, files)
        else:
            result = observe(shop.FLOW, files)
        text = io.StringIO()
        text.write(json.dumps(result.as_dict(), indent=2))
        text.write(summary_text(result))
        if run is not None:
            try:
                text.write(replay_text(replay_run(shop.FLOW, files, run)))
            except ObservedError as exc:  # a file without the run: the same message
                text.write(str(exc))
        found[mode] = text.getvalue()
    return found


def _assert_same(outputs: dict[str, str], files: list[Path]) -> None:
    plain = outputs["plain"]
    for mode in MODES[1:]:
        assert outputs[mode] == plain, (mode, files)


def _records(json_log: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in json_log.read_text().splitlines()
        if line.startswith("{") and '"duration_ms"' in line
    ]


#: Values every field of a record is set to in turn (NaN and 1e400 are written raw).
_VALUES: list[Any] = [
    None, "", "x", "ok", "error", 1, 0, -1, 1.5, -0.0, 2**64, 10**30, True, False, [], {},
    [1, {"a": 2}], {"stringValue": "x"}, "a" * 300, "\u202e", "\ud800x", 1e11, 1e12, 3,
    2.0, "2", "NaN", "Infinity",
]  # fmt: skip
_FIELDS = (
    "flow", "step", "correlation_id", "parent_step", "predecessor", "duration_ms", "status",
    "start_time", "span_id", "parent_span_id", "edge_from", "penstock_schema", "log",
    "stream", "resourceSpans", "batches", "trace",
)  # fmt: skip


def _mutations(records: list[dict[str, Any]], rng: random.Random) -> Iterator[str]:
    """Lines opening with ``{``: each field of a record set to each odd value, or removed."""
    for field in _FIELDS:
        for value in [*_VALUES, "<missing>"]:
            record = dict(rng.choice(records))
            record["span_id"] = f"{rng.getrandbits(64):016x}"
            if value == "<missing>":
                record.pop(field, None)
            else:
                record[field] = value
            yield json.dumps(record)
    record = dict(records[0])
    body = json.dumps(record)[1:]
    yield '{"step": 1, ' + body  # a duplicate key: the last one counts
    yield json.dumps(record)[:-1] + ', "step": 7}'
    yield '{"duration_ms": NaN, ' + body
    yield '{"duration_ms": 1e400, ' + body
    yield '{"duration_ms": ' + "9" * 400 + ", " + body
    yield '{"message": {"deep": [1, {"a": [2]}]}, ' + body
    yield '{"message": "{[braces in text]}", ' + body
    yield '{"m": ' + '{"a": ' * 70 + "1" + "}" * 70 + ", " + body
    yield '{"m": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + ", " + body
    yield json.dumps(record) + " trailing"
    yield json.dumps(record) + "\r"
    yield "{}"
    yield '{"message": "' + "y" * 3000 + '", ' + body
    yield json.dumps({**record, "flow": "other"})
    yield json.dumps({"log": json.dumps(record)[:20], "stream": "stdout"})
    yield json.dumps({"log": json.dumps(record)[20:] + "\n", "stream": "stdout"})
    yield json.dumps({"log": 3, "stream": "stdout", **record})


@pytest.fixture
def fuzzed(json_log: Path, tmp_path: Path) -> list[Path]:
    """Files of odd lines: only lines opening with ``{`` (read in blocks), then any kind."""
    rng = random.Random(20)
    records = _records(json_log)
    braces = tmp_path / "braces.log"
    lines = list(_mutations(records, rng))
    braces.write_text("\n".join(lines) + "\n")
    mixed = tmp_path / "mixed.log"
    other = [
        "",
        "   ",
        "plain text",
        "{",
        '  "a": 1',
        "}",
        "2026-01-01T00:00:00Z stdout F " + json.dumps(records[1]),
        "2026-01-01T00:00:00Z stdout P " + json.dumps(records[2])[:9],
        "2026-01-01T00:00:00Z stdout F " + json.dumps(records[2])[9:],
        "\ufeff" + json.dumps(records[3]),
        "[" + json.dumps(records[4]) + "]",
    ]
    mixed_lines = lines + other
    rng.shuffle(mixed_lines)
    mixed.write_text("\n".join(mixed_lines))  # no newline at the end
    return [braces, mixed]


def test_fuzzed_lines_read_the_same_every_way(
    fuzzed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for files in ([fuzzed[0]], [fuzzed[1]], fuzzed):
        outputs = _outputs(files, monkeypatch)
        _assert_same(outputs, files)
    # The fuzzed file is no toy: most reasons a record is skipped for are in it.
    result = json.loads(outputs["plain"].split("\n}", 1)[0] + "\n}")
    reasons = set(result["skipped"])
    assert {"wrong type: step", "invalid number: duration_ms", "unknown schema version"} <= reasons
    assert {"unknown status", "name over 256 characters", "truncated or invalid JSON"} <= reasons


def test_every_fixture_reads_the_same_every_way(
    json_log: Path, otlp_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = json_log.read_text()
    records = _records(json_log)
    gz = tmp_path / "app.log.gz"
    gz.write_bytes(gzip.compress(json_log.read_bytes()))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(otlp_file.read_text().splitlines()[0]), indent=2))
    docker = tmp_path / "docker.log"
    docker.write_text(
        "".join(
            json.dumps({"log": line[:15], "stream": "stdout"})
            + "\n"
            + json.dumps({"log": line[15:] + "\n", "stream": "stdout"})
            + "\n"
            for line in text.splitlines()
        )
    )
    cri = tmp_path / "cri.log"
    cri.write_text("".join(f"2026-01-01T00:00:00Z stdout F {line}\n" for line in text.splitlines()))
    b64 = tmp_path / "b64.jsonl"
    b64.write_text(
        re.sub(
            r'"(traceId|spanId)": ?"([0-9a-f]+)"',
            lambda m: f'"{m[1]}": "{base64.b64encode(bytes.fromhex(m[2])).decode()}"',
            otlp_file.read_text(),
        )
    )
    # Older layouts: edges rebuilt from the run's tree, spans placed from the span tree.
    legacy_log = tmp_path / "legacy.log"
    legacy_log.write_text(
        "".join(
            json.dumps({k: v for k, v in r.items() if k not in ("penstock_schema", "edge_from")})
            + "\n"
            for r in records
        )
    )
    legacy_otlp = tmp_path / "legacy.jsonl"
    old_keys = ("penstock.schema", "penstock.edge_from", "penstock.parent_step")
    old_keys += ("penstock.predecessor",)
    documents = [json.loads(line) for line in otlp_file.read_text().splitlines()]
    for document in documents:
        for resource in document["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    span["attributes"] = [
                        a for a in span.get("attributes", []) if a["key"] not in old_keys
                    ]
    legacy_otlp.write_text("".join(json.dumps(d) + "\n" for d in documents))
    again = tmp_path / "again.log"  # the same records in both halves: counted once
    again.write_text(text + text)
    run = records[0]["correlation_id"]
    cases = [
        [json_log],
        [otlp_file],
        [gz],
        [pretty],
        [docker],
        [cri],
        [b64],
        [again],
        [legacy_log],
        [legacy_otlp],
        [legacy_otlp, legacy_log],
        [json_log, gz, otlp_file],
        [otlp_file, json_log],
    ]
    try:
        import zstandard
    except ImportError:
        pass
    else:
        zst = tmp_path / "app.log.zst"
        zst.write_bytes(zstandard.ZstdCompressor().compress(json_log.read_bytes()))
        cases.append([zst, json_log])
    for files in cases:
        outputs = _outputs(files, monkeypatch, run)
        _assert_same(outputs, files)
    assert json.loads(outputs["plain"].split("\n}", 1)[0] + "\n}")["runs"] > 0


def _big_log(path: Path, records: list[dict[str, Any]], copies: int) -> None:
    """``copies`` of the records, each copy with its own span ids (so all are distinct)."""
    with path.open("w") as out:
        for copy in range(copies):
            for record in records:
                out.write(json.dumps({**record, "span_id": f"{copy:08x}{record['span_id'][8:]}"}))
                out.write("\n")


@pytest.mark.parametrize("mode", TWO)
def test_two_cores_cut_a_file_and_number_its_lines_on(
    mode: str, json_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(json_log)
    path = tmp_path / "big.log"
    _big_log(path, records, 30)
    # An undeclared transition seen only in the second half: its line number is the file's.
    stray = {**records[-1], "step": "refund", "edge_from": "ship", "span_id": "ab" * 8}
    with path.open("a") as out:
        out.write(json.dumps(stray) + "\n")
    lines = len(path.read_text().splitlines())
    _set_mode(monkeypatch, mode)
    monkeypatch.setattr(fast_module, "BLOCK", 256 << 10)
    two, used = _observe_in_two(shop.FLOW, [path])
    assert used
    _set_mode(monkeypatch, "plain")
    one = observe(shop.FLOW, [path])
    assert json.dumps(two.as_dict()) == json.dumps(one.as_dict())
    assert summary_text(two) == summary_text(one)
    edge = two.edge("ship", "refund")
    assert edge is not None
    assert edge.seen_at == f"{path}:{lines}"
    assert one.skipped == {}


@pytest.mark.parametrize("mode", TWO)
def test_two_cores_fall_back_to_reading_in_order(
    mode: str, json_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Halves sharing a call, or a cut through a container line's pieces: read in order."""
    records = _records(json_log)
    _set_mode(monkeypatch, mode)
    twice = tmp_path / "twice.log"
    twice.write_text("".join(json.dumps(r) + "\n" for r in records * 2))
    graph = get_flow(shop.FLOW)
    assert tally_in_two(lambda: Tally(graph), [twice], force=True) is None
    result = observe(shop.FLOW, [twice])
    assert result.skipped[DUPLICATE] == len(records)
    # Docker pieces around the middle: the first half ends holding a piece.
    docker = tmp_path / "docker.log"
    pieces = [json.dumps({"log": json.dumps(r)[:15], "stream": "stdout"}) for r in records]
    ends = [json.dumps({"log": json.dumps(r)[15:] + "\n", "stream": "stdout"}) for r in records]
    docker.write_text("".join(f"{a}\n{b}\n" for a, b in zip(pieces, ends, strict=True)))
    tally = tally_in_two(lambda: Tally(graph), [docker], force=True)
    # Cut before a piece's end, the first half holds a piece: refused; cut before a
    # piece, the halves are whole: the same counts.
    if tally is not None:
        assert tally.result([str(docker)]) == observe(shop.FLOW, [docker])


def test_two_cores_only_for_large_inputs_without_threads(
    json_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = get_flow(shop.FLOW)
    assert tally_in_two(lambda: Tally(graph), [json_log]) is None  # small
    monkeypatch.setattr(split_module, "MIN_BYTES", 1)
    ready = threading.Event()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (ready.set(), done.wait(10)))
    worker.start()
    try:
        ready.wait(10)
        assert tally_in_two(lambda: Tally(graph), [json_log]) is None  # another thread runs
    finally:
        done.set()
        worker.join()
