"""The otel backend follows OpenTelemetry's semantic conventions: code attributes, span kinds."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import code_attributes as deprecated
from opentelemetry.semconv.attributes import code_attributes as stable
from opentelemetry.trace import SpanKind

import penstock
from penstock import flow, step
from penstock.propagation import continue_remote
from penstock.testing import recording

STABLE = {stable.CODE_FUNCTION_NAME, stable.CODE_FILE_PATH, stable.CODE_LINE_NUMBER}
DEPRECATED = {
    deprecated.CODE_FUNCTION,
    deprecated.CODE_NAMESPACE,
    deprecated.CODE_FILEPATH,
    deprecated.CODE_LINENO,
}


def _one_step() -> dict[str, object]:
    @flow("conventions")
    @step
    def work() -> int:
        return 1

    work()
    return {}


def _code_keys(spans: InMemorySpanExporter) -> set[str]:
    (span,) = spans.get_finished_spans()
    return {k for k in dict(span.attributes or {}) if k.startswith("code.")}


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        (None, None, STABLE),
        (None, "http,code", STABLE),
        (None, "database/dup, code/dup", STABLE | DEPRECATED),
        ("deprecated", "code/dup", DEPRECATED),
        ("both", None, STABLE | DEPRECATED),
        ("stable", "code/dup", STABLE),
    ],
)
def test_code_attribute_names(
    spans: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
    option: str | None,
    env: str | None,
    expected: set[str],
) -> None:
    """Stable names by default; the option, else OTEL_SEMCONV_STABILITY_OPT_IN, changes them."""
    if env is None:
        monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    else:
        monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", env)
    penstock.configure(backend="otel", **({} if option is None else {"code_attributes": option}))
    _one_step()
    assert _code_keys(spans) == expected
    (span,) = spans.get_finished_spans()
    attrs = dict(span.attributes or {})
    if stable.CODE_FUNCTION_NAME in attrs:
        assert attrs[stable.CODE_FUNCTION_NAME] == f"{__name__}._one_step.<locals>.work"
    if deprecated.CODE_FUNCTION in attrs:
        assert attrs[deprecated.CODE_FUNCTION] == "_one_step.<locals>.work"
        assert attrs[deprecated.CODE_NAMESPACE] == __name__


def test_a_bad_code_attributes_option_names_the_choices(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    """A typo is reported with the choices and a did-you-mean when the backend is made (at
    the first run: "otel" waits for an SDK provider); the step runs all the same."""
    penstock.configure(backend="otel", code_attributes="stabel")
    with caplog.at_level(logging.ERROR, logger="penstock"):

        @flow("conventions")
        @step
        def work() -> int:
            return 1

        assert work() == 1
    assert "code_attributes='stabel'" in caplog.text
    assert "did you mean 'stable'" in caplog.text


@pytest.mark.parametrize(
    ("kind", "expected"), [("consumer", SpanKind.CONSUMER), ("server", SpanKind.SERVER)]
)
def test_the_first_step_of_a_continued_run_shows_the_hop(
    spans: InMemorySpanExporter, kind: str, expected: SpanKind
) -> None:
    """The first step under a remote parent gets the hop's kind and attributes; the next one,
    and steps below, stay INTERNAL."""
    penstock.configure(backend="otel")

    @flow("conventions")
    @step
    def first() -> None:
        inner()

    @flow("conventions")
    @step
    def inner() -> None:
        return None

    @flow("conventions")
    @step
    def second() -> None:
        return None

    with continue_remote(0x1234, 0x5678, kind=kind, attributes={"messaging.system": "celery"}):  # type: ignore[arg-type]
        first()
        second()
    found = {s.name: s for s in spans.get_finished_spans()}
    assert found["conventions.first"].kind is expected
    assert dict(found["conventions.first"].attributes or {})["messaging.system"] == "celery"
    for name in ("conventions.inner", "conventions.second"):
        assert found[name].kind is SpanKind.INTERNAL
        assert "messaging.system" not in dict(found[name].attributes or {})
    assert found["conventions.first"].parent is not None
    assert found["conventions.first"].parent.span_id == 0x5678


def test_a_hop_span_made_by_another_instrumentation_stays_the_parent(
    spans: InMemorySpanExporter,
) -> None:
    """When another instrumentation's span for the hop is current (say OpenTelemetry's Celery
    CONSUMER span), the step is its INTERNAL child: one span of that kind per hop."""
    penstock.configure(backend="otel")
    tracer = trace.get_tracer_provider().get_tracer("other-instrumentation")
    remote = trace.SpanContext(
        0x1234, 0x5678, is_remote=True, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)
    )

    @flow("conventions")
    @step
    def task() -> None:
        return None

    def continued() -> continue_remote:
        return continue_remote(
            0x1234, 0x5678, kind="consumer", attributes={"messaging.system": "x"}
        )

    for instrumentation_first in (True, False):
        spans.clear()
        parent_ctx = trace.set_span_in_context(trace.NonRecordingSpan(remote))
        if instrumentation_first:
            with (
                tracer.start_as_current_span(
                    "run/task", context=parent_ctx, kind=SpanKind.CONSUMER
                ),
                continued(),
            ):
                task()
        else:
            with (
                continued(),
                tracer.start_as_current_span(
                    "run/task", context=parent_ctx, kind=SpanKind.CONSUMER
                ),
            ):
                task()
        found = {s.name: s for s in spans.get_finished_spans()}
        consumer, step_span = found["run/task"], found["conventions.task"]
        assert step_span.kind is SpanKind.INTERNAL
        assert step_span.parent is not None
        assert step_span.parent.span_id == consumer.context.span_id
        assert [s.kind for s in found.values()].count(SpanKind.CONSUMER) == 1


def test_logging_backend_is_unaffected() -> None:
    """The hop is an otel-backend matter: other backends run the steps the same way."""
    with recording() as recorder, continue_remote(0x1234, 0x5678, kind="server"):
        _one_step()
    assert recorder.get("work").trace_id == 0x1234


def test_hop_attribute_names_are_the_conventions_own() -> None:
    """The messaging and RPC attribute names penstock writes are the semantic conventions'."""
    from opentelemetry.semconv._incubating.attributes import messaging_attributes as m
    from opentelemetry.semconv._incubating.attributes import rpc_attributes as r
    from opentelemetry.semconv.attributes import http_attributes as h
    from opentelemetry.semconv.attributes import url_attributes as u

    from penstock.contrib._semconv import http_server, messaging, rpc

    assert set(messaging("celery", "queue")) == {m.MESSAGING_SYSTEM, m.MESSAGING_DESTINATION_NAME}
    assert set(rpc("grpc", "/shop.Orders/Get")) == {r.RPC_SYSTEM, r.RPC_SERVICE, r.RPC_METHOD}
    assert set(http_server("GET", "https", "/orders")) == {
        h.HTTP_REQUEST_METHOD,
        u.URL_SCHEME,
        u.URL_PATH,
    }
