"""penstock.testing.recording(): records while the block runs, then gives the backend
configured before it back, as structlog's capture_logs gives its processors back."""

from __future__ import annotations

import io

import pytest

import penstock
from penstock import flow, step
from penstock.backends import active_backend
from penstock.backends.logging import LoggingBackend
from penstock.testing import RecordingBackend, recording


def test_the_backend_before_records_again_with_its_handler() -> None:
    """A logging backend with its own handler is neither closed nor replaced by the block."""

    @flow("recording_test")
    @step
    def ping() -> None: ...

    out = io.StringIO()
    penstock.configure(backend="logging", format="logfmt", stream=out)
    ping()
    before = active_backend()
    assert isinstance(before, LoggingBackend)
    with recording() as rec:
        ping()
        assert active_backend() is rec
    rec.assert_ran("ping")
    assert active_backend() is before
    assert before.handler is not None, "the handler it installed is still there"
    ping()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, "one line before the block, one after, none inside"
    assert all("step=ping" in line for line in lines)


def test_blocks_nest_and_each_gives_back_its_own() -> None:
    """An inner recording gives the outer one back, which gives the configured one back."""

    @flow("recording_test")
    @step
    def ping() -> None: ...

    configured = RecordingBackend()
    penstock.configure(backend=configured)
    with recording() as outer:
        ping()
        with recording() as inner:
            ping()
        ping()
    ping()
    assert (len(configured.records), len(outer.records), len(inner.records)) == (1, 2, 1)
    assert active_backend() is configured


def test_a_choice_still_to_be_made_stays_to_be_made() -> None:
    """configure("noop") by name, or nothing at all: the same after the block."""

    @flow("recording_test")
    @step
    def ping() -> None: ...

    with recording():
        ping()
    assert active_backend() is None, "nothing configured before: still decided at first run"
    penstock.configure(backend="noop")
    noop = active_backend()
    with recording():
        ping()
    assert active_backend() is noop


def test_the_backend_comes_back_when_the_block_raises() -> None:
    """An exception in the block still gives the configured backend back."""
    configured = RecordingBackend()
    penstock.configure(backend=configured)
    with pytest.raises(ZeroDivisionError), recording():
        1 / 0  # noqa: B018
    assert active_backend() is configured
