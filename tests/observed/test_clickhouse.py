"""Recorded runs read from a ClickHouse trace store (the exporter's ``otel_traces`` table).

The same spans, exported as OTLP JSON files and inserted into the table the Collector's
ClickHouse exporter creates (in chDB, the same SQL engine in-process), give the same
``observe`` output; the store is asked for the counts, and fetches one trace for a replay.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from penstock import observe, replay_run
from penstock._observed.record import DUPLICATE
from penstock.cli import main
from tests.observed import shop
from tests.support.clickhouse import create_table, exporter_rows, require_chdb


def _without_foreign_spans(otlp_file: Path, target: Path) -> Path:
    """The OTLP file with only penstock's spans (as a Collector filter would keep them)."""
    out = []
    for line in otlp_file.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        for resource in doc["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                scope["spans"] = [
                    s
                    for s in scope["spans"]
                    if any(a["key"] == "penstock.step" for a in s.get("attributes", ()))
                ]
        out.append(json.dumps(doc))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


@pytest.fixture
def store(otlp_file: Path, tmp_path: Path) -> str:
    """The shop's spans (foreign span included) in an ``otel_traces`` table in chDB."""
    require_chdb()
    rows = exporter_rows(otlp_file.read_text(encoding="utf-8").splitlines())
    return create_table(tmp_path / "traces.chdb", rows)


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-m", "tests.observed.shop_module", "observe", shop.FLOW, *args, "-f", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def test_observe_json_from_the_store_is_the_same_as_from_the_files(
    otlp_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`observe --format json` prints the same bytes from chDB as from the OTLP files."""
    only_penstock = _without_foreign_spans(otlp_file, tmp_path / "penstock-spans.jsonl")
    rows = exporter_rows(only_penstock.read_text(encoding="utf-8").splitlines())
    source = create_table(tmp_path / "traces.chdb", rows)
    code_files, from_files, _ = _cli_json(capsys, str(only_penstock))
    code_store, from_store, err = _cli_json(capsys, "--from", source)
    assert (code_files, code_store, err) == (0, 0, "")
    assert from_store == from_files
    data = json.loads(from_store)
    assert data["runs"] == len(shop.ORDERS)
    assert any(not e["declared"] and e["count"] for e in data["edges"])  # drift is there too


def test_foreign_spans_are_not_read_from_a_store(otlp_file: Path, store: str) -> None:
    """Only the flow's spans are asked for: foreign spans are neither read nor counted."""
    from_files = observe(shop.FLOW, [otlp_file]).as_dict()
    from_store = observe(shop.FLOW, store).as_dict()
    assert from_files.pop("foreign_spans") > 0
    assert from_store.pop("foreign_spans") == 0
    assert from_store == from_files


def test_the_same_span_delivered_twice_counts_once(otlp_file: Path, tmp_path: Path) -> None:
    """At-least-once delivery: a (trace, span id) inserted twice is one call, reported."""
    lines = otlp_file.read_text(encoding="utf-8").splitlines()
    once = observe(shop.FLOW, create_table(tmp_path / "once", exporter_rows(lines))).as_dict()
    twice = observe(
        shop.FLOW, create_table(tmp_path / "twice", exporter_rows(lines), copies=2)
    ).as_dict()
    dropped = twice.pop("skipped")
    assert once.pop("skipped") == {}
    assert twice == once
    penstock_spans = sum(s["calls"] for s in once["steps"])
    assert dropped == {DUPLICATE: penstock_spans}


def test_undeclared_transition_names_the_trace_and_span_that_showed_it(
    otlp_file: Path, store: str
) -> None:
    """A drift from a store names the store and the first span showing it, as files do."""
    from_files = observe(shop.FLOW, [otlp_file])
    observed = observe(shop.FLOW, store)
    drift = [e for e in observed.edges if not e.declared]
    assert [(e.source, e.target) for e in drift] == [("validate", "ship")]
    seen_in_files = from_files.edge("validate", "ship")
    assert seen_in_files is not None
    assert seen_in_files.seen_at is not None
    span = seen_in_files.seen_at[seen_in_files.seen_at.index("(trace ") :]
    assert drift[0].seen_at == f"chdb:{store[5:]} table otel.otel_traces {span}"


def test_since_and_until_are_pushed_down(otlp_file: Path, store: str) -> None:
    """The time window is a WHERE on Timestamp: the same calls as the file reader keeps."""
    starts = sorted(
        int(row["Timestamp"])
        for row in exporter_rows(otlp_file.read_text(encoding="utf-8").splitlines())
    )
    middle = starts[len(starts) // 2] / 1e9
    for window in ({"since": middle}, {"until": middle}):
        from_files = observe(shop.FLOW, [otlp_file], **window).as_dict()  # type: ignore[arg-type]
        from_store = observe(shop.FLOW, store, **window).as_dict()  # type: ignore[arg-type]
        assert from_store["steps"] == from_files["steps"]
        assert from_store["edges"] == from_files["edges"]
        assert from_store["runs"] == from_files["runs"]


def test_replay_fetches_one_trace_and_orders_it_like_the_files(otlp_file: Path, store: str) -> None:
    """`--run` against a store: the same calls, order, statuses and edges as from files."""
    failed = next(
        row["TraceId"]
        for row in exporter_rows(otlp_file.read_text(encoding="utf-8").splitlines())
        if row["StatusCode"] == "Error"
    )
    from_files = replay_run(shop.FLOW, [otlp_file], failed).as_dict()
    from_store = replay_run(shop.FLOW, store, failed[:12]).as_dict()
    assert from_store["steps"] == from_files["steps"]
    assert from_store["status"] == "error"
    assert from_store["run"] == failed


def test_show_sql_prints_the_query_and_sends_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--show-sql` prints the parameterised query for review, reading no store."""
    shop.declare()
    code = main(
        [
            "-m",
            "tests.observed.shop_module",
            "observe",
            shop.FLOW,
            "--from",
            "clickhouse://reader@127.0.0.1:1/otel",
            "--since",
            "2026-12-01T00:00:00Z",
            "--show-sql",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "FROM `otel`.`otel_traces`" in out
    assert "Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})" in out
    assert (
        "SpanAttributes.values[indexOf(SpanAttributes.keys, 'penstock.flow')] = {flow:String}"
        in out
    )
    assert "uniqExact(span_key) AS calls" in out
    assert "uniqExactMerge(traces) AS runs" in out


def test_docs_draw_the_overlay_from_a_store_and_warn_when_it_cannot_be_asked(
    otlp_file: Path, tmp_path: Path
) -> None:
    """`observed: chdb:...` (relative to the site) draws the counts; an unreachable server
    is a located warning with the diagram replaced by a note, never an aborted build."""
    from tests.mkdocs.conftest import run, write_site
    from tests.observed.sites import write_shop_package

    require_chdb()
    root = tmp_path / "site"
    root.mkdir()
    rows = exporter_rows(otlp_file.read_text(encoding="utf-8").splitlines())
    create_table(root / "traces.chdb", rows)
    pages = {
        "index.md": "# Shop\n\n::: penstock-flow shop\n    observed: chdb:traces.chdb\n",
        "down.md": "# Down\n\n::: penstock-flow shop\n"
        "    observed: clickhouse://reader@127.0.0.1:9/otel?timeout=2\n",
    }
    site = write_site(root, pages, plugin={"modules": ["shopsite.declared"]}, modules={})
    write_shop_package(site / "src")
    build = run("mkdocs", site)
    assert build.returncode == 0, build.output
    [overview] = build.diagrams("index")
    assert 'checkout -->|"9#215;"| validate' in overview
    assert "down.md:3: penstock-flow 'shop': observed: clickhouse://reader@127.0.0.1:9" in (
        build.output
    )
    assert "cannot reach the server" in build.output
    assert "cannot draw flow" in build.page("down")
    assert run("mkdocs", site, "--strict").returncode != 0


def test_a_table_without_the_exporter_columns_is_refused_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing columns are named, one line, exit 2; a missing table says which names to give."""
    session = require_chdb()
    folder = tmp_path / "other.chdb"
    sess = session.Session(str(folder))
    try:
        sess.query("CREATE DATABASE otel")
        sess.query(
            "CREATE TABLE otel.otel_traces (Timestamp DateTime64(9), TraceId String, "
            "SpanId String, ParentSpanId String, ServiceName String, "
            "SpanAttributes Map(String, String)) ENGINE = MergeTree ORDER BY Timestamp"
        )
    finally:
        sess.close()
    shop.declare()
    code, out, err = _cli_json(capsys, "--from", f"chdb:{folder}")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "lacks column(s) Duration, StatusCode" in err
    code, _, err = _cli_json(capsys, "--from", f"chdb:{folder}?table=spans")
    assert code == 2
    assert "table otel.spans: table not found" in err
    assert "?database= and ?table=" in err


def test_the_row_limit_is_reported_when_hit(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`?max_rows=` bounds what a query may read; hitting it is a clear error, not a guess."""
    code, out, err = _cli_json(capsys, "--from", f"{store}?max_rows=5")
    assert (code, out) == (2, "")
    assert "would read more than 5 rows (max_rows_to_read)" in err
    assert "raise ?max_rows=" in err


def test_last_seen_comes_back_as_from_the_files(otlp_file: Path, store: str) -> None:
    """When each step and edge was last taken (what `diff --observed` reports) matches."""
    from_files = observe(shop.FLOW, [otlp_file])
    from_store = observe(shop.FLOW, store)
    assert [s.last_seen for s in from_store.steps] == [s.last_seen for s in from_files.steps]
    assert [e.last_seen for e in from_store.edges] == [e.last_seen for e in from_files.edges]
    assert any(s.last_seen for s in from_store.steps)


def test_penstock_columns_added_by_an_operator_are_read_with_the_same_answer(
    otlp_file: Path, tmp_path: Path
) -> None:
    """With the optional MATERIALIZED columns, the store reads them and answers the same."""
    lines = otlp_file.read_text(encoding="utf-8").splitlines()
    plain = create_table(tmp_path / "plain", exporter_rows(lines))
    added = create_table(tmp_path / "added", exporter_rows(lines), materialized=True)
    twice = create_table(tmp_path / "twice", exporter_rows(lines), copies=2, materialized=True)
    from_files = observe(shop.FLOW, [otlp_file]).as_dict()
    from_files.pop("foreign_spans")
    for source in (plain, added):
        from_store = observe(shop.FLOW, source).as_dict()
        from_store.pop("foreign_spans")
        assert from_store == from_files
    duplicated = observe(shop.FLOW, twice).as_dict()
    assert duplicated.pop("skipped") == {DUPLICATE: sum(s["calls"] for s in from_files["steps"])}
    assert duplicated["steps"] == from_files["steps"]
    assert duplicated["edges"] == from_files["edges"]


def test_the_store_reads_the_penstock_columns_when_the_table_has_them(tmp_path: Path) -> None:
    """Detected from the table's columns: the Map is not read when all of them are there."""
    from penstock._observed.store_sql import MATERIALIZED, tally_sql

    with_columns = tally_sql("t", "", materialized=True)
    assert "SpanAttributes" not in with_columns
    assert all(column in with_columns for column in MATERIALIZED.values())
    assert "SpanAttributes.values[indexOf(SpanAttributes.keys, 'penstock.step')]" in tally_sql(
        "t", ""
    )


def test_the_docs_give_the_statements_that_add_the_penstock_columns() -> None:
    """The ClickHouse page shows the very statements penstock's column detection expects."""
    from penstock._observed.store_sql import materialized_sql

    page = (Path(__file__).resolve().parents[2] / "docs" / "clickhouse.md").read_text("utf-8")
    for statement in materialized_sql("otel.otel_traces"):
        assert statement + ";" in page
