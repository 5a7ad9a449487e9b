"""Choosing a backend: names, options, auto and otel resolution at first run, entry points."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bom_sync.consumer import handle_kafka_message

import penstock
from penstock import entrypoint, flow
from penstock.backends import BaseBackend, StepRun
from penstock.backends import active_backend as current_backend
from penstock.backends.logging import LoggingBackend
from penstock.backends.noop import NoopBackend
from penstock.backends.otel import OtelBackend
from penstock.testing import RecordingBackend
from tests.runtime.app import message
from tests.support.otel import session_exporter
from tests.support.system import ROOT


def active_backend() -> object:
    """Run one step, then return the backend that recorded it."""

    @flow("probe")
    @entrypoint
    def probe() -> None:
        return None

    probe()
    backend = current_backend()
    assert backend is not None
    return backend


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter (for process-wide state such as the global
    OpenTelemetry provider) and return its standard output."""
    full_env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'examples'}"}
    full_env.pop("PENSTOCK_BACKEND", None)
    full_env.update(env or {})
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_unknown_backend_lists_the_available_ones() -> None:
    """A mistyped name fails at configure time, suggests the close one and lists them all."""
    with pytest.raises(penstock.BackendError) as info:
        penstock.configure(backend="loging")
    msg = str(info.value)
    assert "unknown penstock backend 'loging'; did you mean 'logging'?" in msg
    assert "Available backends: auto, logging, noop, otel, recording." in msg


def test_bad_options_are_errors_naming_them() -> None:
    """Options a backend does not take, or options with a backend object, are errors."""
    with pytest.raises(penstock.BackendError, match="'logging' rejected the options"):
        penstock.configure(backend="logging", colour=True)
    with pytest.raises(penstock.BackendError, match="no option 'colour'.*tracer_provider"):
        penstock.configure(backend="otel", colour=True)
    with pytest.raises(penstock.BackendError, match="only apply to a backend chosen by name"):
        penstock.configure(backend=NoopBackend(), level=1)
    with pytest.raises(penstock.BackendError, match="is not a penstock backend"):
        penstock.configure(backend=object())  # type: ignore[arg-type]
    with pytest.raises(penstock.BackendError, match="'auto' takes no options"):
        penstock.configure(backend="auto", level=1)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("logging", LoggingBackend),
        ("noop", NoopBackend),
        ("recording", RecordingBackend),
        (" Logging ", LoggingBackend),
    ],
)
def test_named_backends(name: str, cls: type) -> None:
    """Each built-in name selects its backend class."""
    penstock.configure(backend=name)
    assert type(active_backend()) is cls


def test_backend_object_is_used_as_is() -> None:
    """A backend object given to configure() records the runs."""
    recorder = RecordingBackend()
    penstock.configure(backend=recorder)
    assert active_backend() is recorder
    assert recorder.steps() == ["probe"]


def test_auto_picks_otel_once_an_sdk_provider_is_installed() -> None:
    """auto chooses the otel backend when a global SDK tracer provider exists at first run."""
    session_exporter()
    assert type(active_backend()) is OtelBackend


def test_environment_variable_selects_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """PENSTOCK_BACKEND chooses the backend when configure() was not called."""
    monkeypatch.setenv("PENSTOCK_BACKEND", "noop")
    assert type(active_backend()) is NoopBackend
    penstock.reset()
    penstock.configure(backend="recording")
    assert type(active_backend()) is RecordingBackend, "configure() wins over the environment"


def test_bad_environment_variable_logs_and_uses_auto(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong PENSTOCK_BACKEND never breaks the application: logged, then auto."""
    monkeypatch.setenv("PENSTOCK_BACKEND", "otle")
    assert isinstance(active_backend(), (LoggingBackend, OtelBackend))
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "PENSTOCK_BACKEND: unknown penstock backend 'otle'; did you mean 'otel'?" in (
        record.getMessage()
    )


def test_entry_point_backends_are_found_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A class registered under the penstock.backends entry point group is a backend name."""
    (tmp_path / "thirdparty_backend.py").write_text(
        textwrap.dedent(
            """
            from penstock.backends import BaseBackend

            class CountingBackend(BaseBackend):
                def __init__(self, *, start=0):
                    self.count = start

                def on_end(self, *, step, **kwargs):
                    self.count += 1
            """
        )
    )
    dist = tmp_path / "thirdparty_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdparty-backend\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[penstock.backends]\ncounting = thirdparty_backend:CountingBackend\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    penstock.configure(backend="counting", start=10)
    backend = active_backend()
    assert type(backend).__name__ == "CountingBackend"
    assert backend.count == 11  # type: ignore[attr-defined]
    with pytest.raises(penstock.BackendError, match="counting"):
        penstock.configure(backend="countin")


def test_auto_without_sdk_logs_and_imports_no_opentelemetry() -> None:
    """With no SDK in use, auto records through logging and never imports OpenTelemetry."""
    out = run_python(
        """
        import json, logging, sys
        logging.basicConfig(level=logging.INFO, format="%(correlation_id)s %(step)s")
        import penstock
        from bom_sync.consumer import Message, handle_kafka_message
        from penstock.backends import active_backend
        handle_kafka_message(Message(json.dumps({"part_number": "PN-100"}).encode(), []))
        print(json.dumps({
            "backend": type(active_backend()).__name__,
            "otel": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
        }))
        """
    )
    data = json.loads(out)
    assert data == {"backend": "LoggingBackend", "otel": []}


OTEL_SETUP = """
    import json, logging, sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    import penstock
    from bom_sync.consumer import Message, handle_kafka_message

    def run(part="PN-100"):
        handle_kafka_message(Message(json.dumps({"part_number": part}).encode(), []))

    def install_sdk():
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        return exporter
"""


def test_configure_before_the_sdk_provider_works() -> None:
    """configure("otel") then installing the provider (the usual start-up order) emits spans."""
    out = run_python(
        OTEL_SETUP
        + """
    penstock.configure(backend="otel")
    exporter = install_sdk()
    run()
    print(len(exporter.get_finished_spans()))
    """
    )
    assert out.strip() == "6"


def test_otel_without_sdk_warns_once_and_falls_back_to_logging() -> None:
    """otel without an SDK provider warns once, logs steps, then emits spans once one exists."""
    out = run_python(
        OTEL_SETUP
        + """
    records = []
    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)
    logging.getLogger("penstock").addHandler(Keep())
    logging.getLogger("penstock").setLevel(logging.INFO)
    penstock.configure(backend="otel")
    run("PN-100")
    run("PN-200")
    exporter = install_sdk()
    run("PN-300")
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    steps = [r for r in records if hasattr(r, "duration_ms")]
    print(json.dumps({"warnings": warnings, "step_records": len(steps),
                      "spans": len(exporter.get_finished_spans())}))
    """
    )
    data = json.loads(out)
    assert len(data["warnings"]) == 1
    assert "'otel' was chosen but no OpenTelemetry SDK tracer provider" in data["warnings"][0]
    assert data["step_records"] == 12
    assert data["spans"] == 6


def test_reset_forgets_the_choice() -> None:
    """After reset() the next run resolves the backend again."""
    penstock.configure(backend="noop")
    assert type(active_backend()) is NoopBackend
    penstock.reset()
    assert current_backend() is None


class _Sink(BaseBackend):
    def __init__(self) -> None:
        self.steps: list[str] = []

    def on_end(self, *, step: StepRun, **kwargs: object) -> None:
        self.steps.append(step.step)


@pytest.mark.usefixtures("bom_store")
def test_reconfiguring_mid_run_ends_steps_with_the_backend_that_started_them() -> None:
    """A run that started under one backend finishes its steps there."""
    first, second = _Sink(), _Sink()

    @flow("switch")
    @entrypoint
    def outer() -> None:
        penstock.configure(backend=second)
        handle_kafka_message(message("PN-100"))

    penstock.configure(backend=first)
    outer()
    assert first.steps == ["outer"]
    assert second.steps[-1] == "handle_kafka_message"
    assert len(second.steps) == 6


def test_explicit_logging_in_an_unconfigured_program_prints_logfmt_lines() -> None:
    """configure(backend="logging") with no logging configured prints one line per step."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, penstock\n"
            "from bom_sync.consumer import Message, handle_kafka_message\n"
            "penstock.configure(backend='logging')\n"
            "handle_kafka_message(Message(json.dumps({'part_number': 'PN-100'}).encode(), []))\n",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'examples'}"},
        timeout=60,
        check=True,
    )
    lines = proc.stderr.splitlines()
    assert len(lines) == 6
    assert all(" level=info flow=bom_sync step=" in line for line in lines)
    assert all(line.endswith(" status=ok") for line in lines)


def test_misspelt_hook_is_refused_with_the_hook_it_resembles() -> None:
    """A backend whose method name is close to a hook's is refused at configure time."""

    class Typo(BaseBackend):
        def on_ends(self, *, step: StepRun, **kwargs: object) -> None:
            pass

    with pytest.raises(penstock.BackendError, match=r"Typo\.on_ends .*did you mean 'on_end'"):
        penstock.configure(backend=Typo())


def test_backend_without_base_class_gets_only_the_hooks_it_has() -> None:
    """A duck-typed backend (no BaseBackend) with the four step hooks records runs."""

    class Duck:
        def __init__(self) -> None:
            self.ended: list[tuple[str, str]] = []

        def on_start(self, *, step: StepRun, **kwargs: object) -> None:
            pass

        def on_enter(self, *, step: StepRun, **kwargs: object) -> None:
            pass

        def on_exit(self, *, step: StepRun, token: object, **kwargs: object) -> None:
            pass

        def on_end(self, *, step: StepRun, **kwargs: object) -> None:
            self.ended.append((step.step, step.status))

    duck = Duck()
    penstock.configure(backend=duck)  # type: ignore[arg-type]
    active_backend()
    assert duck.ended == [("probe", "ok")]


def test_backend_gives_ids_through_set_ids() -> None:
    """A backend with provides_ids sets the ids penstock reports, through StepRun.set_ids."""
    seen: list[tuple[str, int]] = []

    class Ids(BaseBackend):
        provides_ids = True

        def on_start(self, *, step: StepRun, **kwargs: object) -> None:
            step.set_ids(0xABC, 0xDEF)

        def on_end(self, *, step: StepRun, **kwargs: object) -> None:
            seen.append((step.correlation_id, step.span_id))

    penstock.configure(backend=Ids())
    active_backend()
    assert seen == [(f"{0xABC:032x}", 0xDEF)]
