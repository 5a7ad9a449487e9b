"""Observed runs you can trust: the happens-before rule, renamed steps, duplicates, formats."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

import penstock
from penstock._observed import documents as documents_module
from penstock._observed.record import DUPLICATE
from penstock._observed.replay import replay_run
from penstock._observed.report import replay_text, summary_text
from penstock._observed.tally import ObservedFlow, observe
from penstock._render.observed import drift_messages, observed_overlay
from penstock.cli import main
from tests.observed import orders, shop


def _edges(observed: ObservedFlow) -> dict[tuple[str, str], int]:
    return {(e.source, e.target): e.count for e in observed.edges}


def _same(a: ObservedFlow, b: ObservedFlow) -> None:
    """The same counts (where each transition was first seen may differ by file)."""
    assert a.steps == b.steps
    assert a.runs == b.runs
    assert [(e.source, e.target, e.declared, e.count) for e in a.edges] == [
        (e.source, e.target, e.declared, e.count) for e in b.edges
    ]


def _undeclared(observed: ObservedFlow) -> list[tuple[str, str]]:
    return [(e.source, e.target) for e in observed.edges if not e.declared]


def record_orders_log(path: Path) -> Path:
    """The orders flow's runs under the logging backend, as JSON lines."""
    place_order = orders.declare()
    with path.open("w", encoding="utf-8") as stream:
        penstock.configure(backend="logging", format="json", stream=stream)
        try:
            for order in orders.ORDERS:
                place_order(order)
        finally:
            penstock.reset()
    return path


def record_orders_otlp(path: Path) -> Path:
    """The orders flow's runs under the otel backend, as the Collector's OTLP JSON."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tests.support.otlp import OtlpJsonFileExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(path)))
    place_order = orders.declare()
    penstock.configure(backend="otel", tracer_provider=provider)
    try:
        for order in orders.ORDERS:
            place_order(order)
    finally:
        penstock.reset()
        provider.shutdown()
    return path


@pytest.fixture
def orders_log(tmp_path: Path) -> Path:
    return record_orders_log(tmp_path / "orders.log")


@pytest.fixture
def orders_otlp(tmp_path: Path) -> Path:
    return record_orders_otlp(tmp_path / "orders.jsonl")


def _as_layout_1(path: Path, out: Path, *, version: bool = True) -> Path:
    """The same records as a penstock before ``edge_from`` wrote them."""
    lines = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        data.pop("edge_from", None)
        if version:
            data["penstock_schema"] = 1
        else:
            data.pop("penstock_schema", None)
        lines.append(json.dumps(data))
    out.write_text("\n".join(lines) + "\n")
    return out


# --- 1. the happens-before rule ------------------------------------------------------------


def test_sequential_fan_out_is_no_drift_in_json_logs(orders_log: Path) -> None:
    """Siblings called one after the other take the edges from earlier declared siblings."""
    observed = observe(orders.FLOW, [orders_log])
    assert _undeclared(observed) == []
    assert _edges(observed) == orders.EXPECTED_EDGES
    record = json.loads(orders_log.read_text().splitlines()[0])
    assert record["penstock_schema"] == 2
    assert "edge_from" in record


def test_sequential_fan_out_is_no_drift_in_otlp(orders_otlp: Path) -> None:
    """The otel backend records the edge too (``penstock.edge_from``); OTLP counts the same."""
    observed = observe(orders.FLOW, [orders_otlp])
    assert _undeclared(observed) == []
    assert _edges(observed) == orders.EXPECTED_EDGES
    assert '"penstock.edge_from"' in orders_otlp.read_text()


@pytest.mark.parametrize("version", [True, False], ids=["layout-1", "no-version"])
def test_older_records_are_settled_from_the_run_tree(
    orders_log: Path, tmp_path: Path, version: bool
) -> None:
    """Records without ``edge_from`` give the same edges, rebuilt from their span tree."""
    old = _as_layout_1(orders_log, tmp_path / "old.log", version=version)
    observed = observe(orders.FLOW, [old])
    assert _undeclared(observed) == []
    assert _edges(observed) == orders.EXPECTED_EDGES
    run = json.loads(old.read_text().splitlines()[0])["correlation_id"]
    one = replay_run(orders.FLOW, [old], run)
    assert all(s.declared for s in one.steps)


def test_a_genuinely_undeclared_transition_is_still_reported_with_both_locations(
    json_log: Path,
) -> None:
    """validate -> ship (no payment) is drift, in observe, with both functions' file:line."""
    observed = observe(shop.FLOW, [json_log])
    assert _undeclared(observed) == [("validate", "ship")]
    (message,) = drift_messages(penstock.get_flow(shop.FLOW), observed)
    assert message.count("shop.py:") == 2


def test_fan_out_gives_no_warning_in_a_strict_mkdocs_build(
    orders_log: Path, tmp_path: Path
) -> None:
    """The sequential fan-out drawn over its runs passes ``mkdocs build --strict``."""
    from tests.mkdocs.conftest import run, write_site

    runs = tmp_path / "site" / "runs"
    runs.mkdir(parents=True)
    (runs / "orders.log").write_bytes(orders_log.read_bytes())
    source = Path(orders.__file__).read_text()
    declared = "from ordersite import orders\n\norders.declare()\n"
    site = write_site(
        tmp_path / "site",
        {"index.md": "# Orders\n\n::: penstock-flow orders\n    observed: runs/*.log\n"},
        plugin={"modules": ["ordersite.declared"]},
        modules={
            "ordersite/__init__.py": "",
            "ordersite/orders.py": source,
            "ordersite/declared.py": declared,
        },
    )
    build = run("mkdocs", site, "--strict")
    assert build.returncode == 0, build.output
    [diagram] = build.diagrams("index")
    assert 'confirm_order -->|"1#215;"| notify_customer' in diagram


# --- 2. renamed and removed steps ----------------------------------------------------------


def _rewrite(path: Path, out: Path, change: dict[str, Any], where: dict[str, Any]) -> Path:
    lines = []
    for line in path.read_text().splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if all(data.get(k) == v for k, v in where.items()):
            data.update(change)
        lines.append(json.dumps(data))
    out.write_text("\n".join(lines) + "\n")
    return out


def _renamed(path: Path, out: Path, *, layout: int) -> Path:
    """The log as an older deployment wrote it: ``validate`` was called ``check`` then."""
    lines = []
    for line in path.read_text().splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        for key in ("step", "parent_step", "predecessor", "edge_from"):
            if data.get(key) == "validate":
                data[key] = "check"
        if layout == 1 and "penstock_schema" in data:
            data["penstock_schema"] = 1
            data.pop("edge_from", None)
        lines.append(json.dumps(data))
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("layout", [2, 1])
def test_a_renamed_step_is_reported_as_itself(json_log: Path, tmp_path: Path, layout: int) -> None:
    """Logs naming 'check' (since renamed 'validate') never turn into checkout -> charge."""
    old = _renamed(json_log, tmp_path / "old.log", layout=layout)
    observed = observe(shop.FLOW, [old])
    assert observed.edge("checkout", "charge") is None
    edge = observed.edge("check", "charge")
    assert edge is not None
    assert (edge.declared, edge.count) == (False, 8)
    assert edge.as_dict()["note"] == "not a step of the flow now: renamed or removed?"
    check = observed.step("check")
    assert check is not None
    assert not check.declared
    messages = drift_messages(penstock.get_flow(shop.FLOW), observed)
    assert sum("name step 'check'" in m and "renamed or removed" in m for m in messages) == 1
    assert not any("add 'check'" in m for m in messages)


def test_a_removed_step_is_a_ghost_in_every_output(json_log: Path, tmp_path: Path) -> None:
    """A record of a step the code no longer has: declared false, a ghost box, one warning."""
    old = _rewrite(json_log, tmp_path / "old.log", {"step": "legacy_step"}, {"step": "ship"})
    observed = observe(shop.FLOW, [old])
    ghost = observed.step("legacy_step")
    assert ghost is not None
    assert ghost.as_dict()["declared"] is False
    assert ghost.as_dict()["note"] == "not a step of the flow now: renamed or removed?"
    assert all(s.as_dict()["declared"] for s in observed.steps if s.name != "legacy_step")
    graph = penstock.get_flow(shop.FLOW)
    _, overlay = observed_overlay(graph, observed)
    assert overlay.nodes["legacy_step"].style == "ghost"
    text = penstock.generate_dag(graph, observed=observed)
    assert "legacy_step" in text
    assert "stroke-dasharray" in text
    messages = [m for m in drift_messages(graph, observed) if "legacy_step" in m]
    assert len(messages) == 1
    assert "renamed or removed" in summary_text(observed)


def test_a_removed_step_never_stops_a_docs_build(json_log: Path, tmp_path: Path) -> None:
    """The build warns once, naming the step, and writes the page."""
    from tests.mkdocs.conftest import run
    from tests.observed.sites import mkdocs_site

    old = _rewrite(json_log, tmp_path / "old.log", {"step": "legacy_step"}, {"step": "ship"})
    site = mkdocs_site(tmp_path / "site", old, missing=False)
    build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    assert build.output.count("'legacy_step'") == 1
    [overview] = build.diagrams("index")
    assert "legacy_step" in overview


# --- 3. at-least-once delivery -------------------------------------------------------------


def test_duplicates_count_once_in_otlp_and_replay(otlp_file: Path, tmp_path: Path) -> None:
    """A retried OTLP batch (every line twice) counts once, in the tally and in replay."""
    twice = tmp_path / "twice.jsonl"
    text = otlp_file.read_text()
    twice.write_text(text + text)
    alone = observe(shop.FLOW, [otlp_file])
    observed = observe(shop.FLOW, [twice])
    _same(observed, alone)
    assert observed.skipped[DUPLICATE] == sum(s.calls for s in alone.steps)
    run = next(iter(json.loads(text.splitlines()[0])["resourceSpans"]))
    trace = run["scopeSpans"][0]["spans"][0]["traceId"]
    once = replay_run(shop.FLOW, [otlp_file], trace).as_dict()["steps"]
    assert replay_run(shop.FLOW, [twice], trace).as_dict()["steps"] == once


# --- 5. the formats real pipelines write ---------------------------------------------------


def test_zstd_files_in_both_framings(json_log: Path, otlp_file: Path, tmp_path: Path) -> None:
    """One zstd stream, and length-prefixed zstd messages (the Collector's two framings)."""
    zstandard = pytest.importorskip("zstandard")
    compressor = zstandard.ZstdCompressor()
    stream = tmp_path / "traces.zst"
    stream.write_bytes(compressor.compress(otlp_file.read_bytes()))
    framed = tmp_path / "traces.bin"
    with framed.open("wb") as out:
        for line in otlp_file.read_bytes().splitlines():
            frame = compressor.compress(line)
            out.write(len(frame).to_bytes(4, "big") + frame)
    logs = tmp_path / "app.log.zst"
    logs.write_bytes(compressor.compress(json_log.read_bytes()))
    expected = observe(shop.FLOW, [otlp_file])
    for path in (stream, framed):
        _same(observe(shop.FLOW, [path]), expected)
    assert observe(shop.FLOW, [logs]).steps == observe(shop.FLOW, [json_log]).steps


def test_zstd_without_the_extra_names_it(
    otlp_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without zstandard the file is skipped with the extra to install."""
    from penstock._observed import files

    path = tmp_path / "traces.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 20)
    monkeypatch.setattr(files, "_zstandard", lambda: None)
    observed = observe(shop.FLOW, [path])
    (reason,) = observed.skipped
    assert "penstock[zstd]" in reason


def test_container_logs_are_unwrapped(json_log: Path, tmp_path: Path) -> None:
    """CRI lines (partial ones joined) and Docker json-file lines read as the plain log."""
    plain = observe(shop.FLOW, [json_log])
    cri_lines = []
    docker_lines = []
    for i, line in enumerate(json_log.read_text().splitlines()):
        stamp = f"2026-12-07T00:00:{i % 60:02d}.000000000Z"
        if i % 3 == 0 and len(line) > 20:  # split some lines in two partial chunks
            cri_lines.append(f"{stamp} stdout P {line[:10]}")
            cri_lines.append(f"{stamp} stdout F {line[10:]}")
        else:
            cri_lines.append(f"{stamp} stdout F {line}")
        if i % 4 == 0 and len(line) > 20:
            docker_lines.append(json.dumps({"log": line[:15], "stream": "stdout", "time": stamp}))
            docker_lines.append(
                json.dumps({"log": line[15:] + "\n", "stream": "stdout", "time": stamp})
            )
        else:
            docker_lines.append(json.dumps({"log": line + "\n", "stream": "stdout", "time": stamp}))
    cri = tmp_path / "cri.log"
    cri.write_text("\n".join(cri_lines) + "\n")
    docker = tmp_path / "docker.log"
    docker.write_text("\n".join(docker_lines) + "\n")
    for path in (cri, docker):
        _same(observe(shop.FLOW, [path]), plain)


def test_pretty_printed_otlp_documents_are_read(otlp_file: Path, tmp_path: Path) -> None:
    """A whole OTLP document over many lines (a hand-saved export) is one document."""
    docs = [json.loads(line) for line in otlp_file.read_text().splitlines()]
    pretty = tmp_path / "trace.json"
    pretty.write_text("\n".join(json.dumps(d, indent=2) for d in docs) + "\n")
    merged = tmp_path / "merged.json"
    merged.write_text(
        json.dumps({"resourceSpans": [r for d in docs for r in d["resourceSpans"]]}, indent=4)
    )
    expected = observe(shop.FLOW, [otlp_file])
    for path in (pretty, merged):
        got = observe(shop.FLOW, [path])
        assert got.skipped == {}
        _same(got, expected)


def _b64_ids(path: Path, out: Path, variant: str) -> Path:
    def enc(hex_id: str) -> str:
        raw = bytes.fromhex(hex_id)
        if variant == "urlsafe":
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")
        text = base64.b64encode(raw).decode()
        return text if variant == "padded" else text.rstrip("=")

    lines = []
    for line in path.read_text().splitlines():
        doc = json.loads(line)
        for resource in doc["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if span.get(key):
                            span[key] = enc(span[key])
        lines.append(json.dumps(doc))
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("variant", ["padded", "unpadded", "urlsafe"])
def test_base64_ids_decode_to_the_same_runs(otlp_file: Path, tmp_path: Path, variant: str) -> None:
    """Base64 ids (protobuf's JSON mapping, trace stores' APIs) read the same as hex."""
    converted = _b64_ids(otlp_file, tmp_path / f"{variant}.jsonl", variant)
    if variant == "urlsafe":
        assert re.search(r'"spanId": "[^"]*[-_]', converted.read_text())
    expected = observe(shop.FLOW, [otlp_file])
    got = observe(shop.FLOW, [converted])
    _same(got, expected)
    assert got.skipped == expected.skipped
    run = json.loads(otlp_file.read_text().splitlines()[0])
    trace = run["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
    assert replay_run(shop.FLOW, [converted], trace).correlation_id == trace


def test_nothing_of_the_flow_is_said_plainly(
    json_log: Path, otlp_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No table of zeros: which flows the files hold instead, and the foreign spans."""
    orders.declare()
    observed = observe(orders.FLOW, [json_log, otlp_file])
    assert observed.runs == 0
    assert "other flow" not in observed.skipped
    text = summary_text(observed)
    assert text.startswith("no records of flow 'orders' in 2 files (")
    assert "records of flow 'shop'" in text
    assert "8 foreign spans" in text
    assert "calls" not in text
    _, overlay = observed_overlay(penstock.get_flow(orders.FLOW), observed)
    assert "skipped" not in " ".join(overlay.notes)
    assert main(["observe", orders.FLOW, str(json_log)]) == 0
    assert capsys.readouterr().out.startswith("no records of flow 'orders' in 1 file (")


# --- 6. numbers and words ------------------------------------------------------------------


def test_sub_tenth_of_a_millisecond_percentiles_hold(tmp_path: Path) -> None:
    """0.0836 ms is kept to the nanosecond and printed as 0.0836 (within the 1 %)."""
    shop.declare()
    lines = []
    for i in range(200):
        lines.append(
            json.dumps(
                {
                    "flow": "shop",
                    "step": "validate",
                    "correlation_id": f"{i:032x}",
                    "parent_step": None,
                    "duration_ms": 0.083612,
                    "status": "ok",
                    "span_id": f"{i + 1:016x}",
                    "penstock_schema": 2,
                }
            )
        )
    path = tmp_path / "fast.log"
    path.write_text("\n".join(lines) + "\n")
    observed = observe(shop.FLOW, [path])
    step = observed.step("validate")
    assert step is not None
    assert step.p95_ms is not None
    assert abs(step.p95_ms - 0.083612) / 0.083612 <= 0.01
    row = next(line for line in summary_text(observed).splitlines() if "validate" in line)
    printed = [float(x) for x in row.split()[-2:]]  # p50, p95: 3 significant digits at least
    assert all(abs(p - 0.083612) / 0.083612 <= 0.01 for p in printed)
    assert all(len(x.lstrip("0.")) >= 3 for x in row.split()[-2:])


def test_undeclared_span_is_located_by_trace_and_span_id(otlp_file: Path) -> None:
    """An OTLP line holds many spans: "first seen at" names the span too."""
    observed = observe(shop.FLOW, [otlp_file])
    edge = observed.edge("validate", "ship")
    assert edge is not None
    assert edge.seen_at is not None
    assert re.search(r":\d+ \(trace [0-9a-f]{32} span [0-9a-f]{16}\)$", edge.seen_at)


def test_a_hop_names_the_step_the_record_names(tmp_path: Path) -> None:
    """--run across a Kafka hop says 'via kafka from publish', not 'from ?'."""

    @penstock.flow("hop")
    @penstock.entrypoint
    def start() -> None:
        pass

    from penstock._decorators import declare

    def consume() -> None:
        pass

    penstock.flow("hop")(declare(consume, "@step", kind="step", after="start", transport="kafka"))

    cid = "ab" * 16
    lines = [
        {"flow": "hop", "step": "start", "correlation_id": cid, "duration_ms": 1.0,
         "status": "ok", "span_id": "1" * 16, "start_time": 1.0, "penstock_schema": 2},
        {"flow": "hop", "step": "consume", "correlation_id": cid, "duration_ms": 1.0,
         "status": "ok", "span_id": "2" * 16, "parent_span_id": "3" * 16, "start_time": 2.0,
         "parent_step": "publish_order_placed", "penstock_schema": 2},
    ]  # fmt: skip
    path = tmp_path / "hop.log"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    text = replay_text(replay_run("hop", [path], cid))
    assert "via kafka from publish_order_placed" in text


# --- 7. the fast path gives the same output ------------------------------------------------


def test_fast_json_decoder_gives_the_same_output_on_every_fixture(
    json_log: Path, otlp_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orjson and the standard library read every fixture to the same JSON output."""
    pytest.importorskip("orjson")
    hostile = tmp_path / "hostile.log"
    record = json.loads(next(x for x in json_log.read_text().splitlines() if "duration_ms" in x))
    hostile.write_text(
        "\n".join(
            [
                json.dumps({**record, "duration_ms": float("nan")}),
                json.dumps({**record, "duration_ms": 10**310}),
                json.dumps({**record, "start_time": -1}),
                json.dumps({**record, "step": "\ud800x"}),
                '{"a": ' * 2000 + "1" + "}" * 2000,
                "plain text",
                json.dumps({**record, "span_id": "f" * 16, "duration_ms": 2**64}),
            ]
        )
        + "\n"
    )
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(otlp_file.read_text().splitlines()[0]), indent=2))
    gz = tmp_path / "app.log.gz"
    gz.write_bytes(gzip.compress(json_log.read_bytes()))
    for files in ([json_log], [otlp_file], [hostile], [pretty], [gz], [json_log, gz, otlp_file]):
        outputs = []
        for fast in (True, False):
            monkeypatch.setattr(documents_module, "FAST_JSON", fast)
            result = observe(shop.FLOW, files)
            buffer = io.StringIO()
            buffer.write(json.dumps(result.as_dict(), indent=2))
            buffer.write(summary_text(result))
            outputs.append(buffer.getvalue())
        assert outputs[0] == outputs[1], files
