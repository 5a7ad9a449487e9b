"""The options of one diagram declared once, and the one failure report of both docs hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from penstock import docs
from penstock._project.config import module_sources


def test_options_are_listed_with_types_defaults_and_meaning() -> None:
    """Every per-diagram option has a kind, its field's default and one sentence of meaning."""
    options = {o.name: o for o in docs.DiagramOptions.options()}
    assert list(options)[:4] == ["direction", "title", "show_docs", "link_source"]
    assert {"observed", "run", "links", "legend", "collapse", "link_api", "since"} <= set(options)
    defaults = docs.DiagramOptions()
    for option in options.values():
        assert option.default == getattr(defaults, option.name)
        assert option.kind is (bool if isinstance(option.default, bool) else str)
        assert option.doc.endswith(".")
    assert options["show_docs"].rst_name == "show-docs"
    assert options["since"].required
    assert not options["title"].required
    # Host settings are fields, not per-diagram options.
    assert not {"source_url", "allow_problems", "since_modules"} & set(options)


def test_merged_reads_either_spelling_or_only_rst() -> None:
    """MkDocs writes show_docs or show-docs; Sphinx only show-docs, with a did-you-mean."""
    base = docs.DiagramOptions()
    assert base.merged({"show-docs": True, "direction": "lr"}).show_docs
    assert base.merged({"show_docs": True}).show_docs
    assert base.merged({"show-docs": True}, rst=True).show_docs
    with pytest.raises(docs.OptionError, match="'show_docs'; did you mean 'show-docs'") as info:
        base.merged({"show_docs": True}, rst=True, host_options=["caption"])
    assert "caption" in str(info.value)
    with pytest.raises(docs.OptionError, match="'zoom' must be true or false"):
        base.merged({"zoom": "sometimes"})


def test_failure_report_of_an_unknown_flow_after_an_import_failure() -> None:
    """A flow most likely declared by a module that failed is said once, at info level."""
    exc = docs.UnknownFlowError("payments", ["orders"], [])
    report = docs.failure_report(exc, "payments", failed=["shop.payments"], see="above")
    assert report.reported
    assert report.message == (
        "flow 'payments' is not available because module(s) 'shop.payments' failed to import "
        "(see above)"
    )
    # With a close match it is a mistake in the page: warned as usual.
    close = docs.UnknownFlowError("order", ["orders"], ["orders"])
    assert not docs.failure_report(close, "order", failed=["shop.payments"]).reported


def test_failure_report_names_the_setting_when_no_modules_are_configured(tmp_path: Path) -> None:
    """No modules anywhere: the report says which setting to fill in."""
    sources = module_sources([], [], start=tmp_path, settings=("penstock_modules in conf.py", "p"))
    exc = docs.UnknownFlowError("orders", [], [])
    report = docs.failure_report(exc, "orders", sources=sources)
    assert report.kind == "unknown-flow"
    assert "penstock_modules in conf.py lists no modules" in report.message


def test_failure_report_keeps_build_paths_off_the_page(tmp_path: Path) -> None:
    """The log keeps absolute paths; the page shows them relative to the project."""
    where = tmp_path / "src" / "shop.py"
    exc = docs.OptionError(f"bad option in {where}:3\nsecond line {where}")
    report = docs.failure_report(exc, "orders", root=tmp_path)
    assert str(where) in report.message
    assert report.page_message == "bad option in src/shop.py:3\nsecond line src/shop.py"
    assert report.details == "second line src/shop.py"
    assert report.kind == "bad-option"
    assert not report.reported


def test_drift_option_is_warn_or_ignore_with_a_suggestion() -> None:
    """``drift`` is declared once: ``warn`` by default, ``ignore`` accepted in any case, any
    other value an option error with a did-you-mean; a site may set its default."""
    from penstock.docs import DiagramOptions, OptionError

    assert DiagramOptions().validated().drift == "warn"
    assert DiagramOptions().merged({"drift": "IGNORE"}).drift == "ignore"
    with pytest.raises(OptionError, match="option 'drift' is one of warn, ignore, got 'ignor'"):
        DiagramOptions().merged({"drift": "ignor"})
    (drift,) = [o for o in DiagramOptions.options() if o.name == "drift"]
    assert drift.site
    assert drift.default == "warn"
