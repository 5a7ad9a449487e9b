"""Logs that can't be forged: whatever an exception message holds, every record penstock prints
is one physical line, and nothing else it prints reads as a record."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

import penstock
from penstock import entrypoint, flow
from tests.support.system import ROOT

CORR = "4bf92f3577b34da6a3ce929d0e0e4736"
#: A record as penstock prints it, to be smuggled in through an exception message.
FORGED = (
    "time=2026-01-01T00:00:00.000Z level=info flow=shop step=refund"
    f" correlation_id={CORR} duration_ms=1.0 status=ok"
)
#: Every kind of line break and control a message could use to start a line of its own.
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
#: C0, DEL, C1 (with NEL) and the Unicode line and paragraph separators.
CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
HOSTILE = "card declined" + "".join(f"{b}{FORGED}" for b in BREAKS) + "\x1b[2K\x1b[1A\x00\x7f\x9b"

#: One logfmt pair, strictly: a key, ``=``, a bare value or a quoted one with escapes.
_PAIR = r'[A-Za-z_][A-Za-z0-9_.]*=(?:"(?:[^"\\]|\\.)*"|[^\s"=\\]*)'
_RECORD = re.compile(rf"{_PAIR}(?: {_PAIR})*")
_TOKEN = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^\s"=\\]*)')
_UNESCAPE = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|.)")
_SHORT = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def _unescape(value: str) -> str:
    if not value.startswith('"'):
        return value

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if len(code) > 1 else _SHORT[code]

    return _UNESCAPE.sub(one, value[1:-1])


def parse_logfmt(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Records (lines that parse whole as logfmt and start with ``time=``), and the rest.

    Lines are split wherever Python splits them (``str.splitlines``: also ``\\r``, U+2028...).
    """
    records, others = [], []
    for line in text.splitlines():
        if line.startswith("time=") and _RECORD.fullmatch(line):
            records.append({k: _unescape(v) for k, v in _TOKEN.findall(line)})
        else:
            others.append(line)
    return records, others


@pytest.fixture
def pay() -> Callable[[], None]:
    """A flow whose payment step fails with a message (and a note) carrying forged records."""

    @flow("shop")
    @entrypoint
    def pay() -> None:
        exc = ValueError(HOSTILE)
        exc.add_note(f"note{FORGED}\n{FORGED}")
        raise exc

    return pay


def _fail(pay: Callable[[], None]) -> None:
    with pytest.raises(ValueError):
        pay()


def test_logfmt_output_prints_no_forged_record(pay: Callable[[], None]) -> None:
    """Only the real record parses as one; the message round-trips; the traceback is prefixed."""
    out = io.StringIO()
    penstock.configure(backend="logging", format="logfmt", stream=out)
    _fail(pay)
    text = out.getvalue()
    records, others = parse_logfmt(text)
    assert [(r["flow"], r["step"], r["status"]) for r in records] == [("shop", "pay", "error")]
    assert records[0]["exception_message"] == HOSTILE
    assert others, "the traceback is printed"
    assert all(line.startswith("  | ") for line in others), others
    assert others[0] == "  | Traceback (most recent call last):"
    assert any(FORGED in line for line in others), "the message is there, on a prefixed line"
    # No raw control character (but the newlines between lines) nor line separator at all.
    assert not re.search(f"[{CONTROLS}]", text.replace("\n", ""))


def test_default_stderr_output_prints_no_forged_record() -> None:
    """The default output (no logging configured, logfmt on stderr) in a real process."""
    script = (
        "import penstock\n"
        "@penstock.flow('shop')\n"
        "@penstock.entrypoint\n"
        "def pay():\n"
        f"    raise ValueError({HOSTILE!r})\n"
        "try:\n"
        "    pay()\n"
        "except ValueError:\n"
        "    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("PENSTOCK_BACKEND", None)
    env.pop("PENSTOCK_OUTPUT", None)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        env=env,
        timeout=60,
        check=True,
    )
    text = proc.stderr.decode("utf-8")
    records, others = parse_logfmt(text)
    assert [(r["step"], r["status"]) for r in records] == [("pay", "error")]
    assert records[0]["exception_message"] == HOSTILE
    assert all(line.startswith("  | ") for line in others), others


def test_application_log_with_traceback_is_prefixed_too() -> None:
    """A non-step record (an application's logger.exception) gets the same treatment."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    from penstock.backends.logging import LogfmtFormatter

    handler.setFormatter(LogfmtFormatter())
    app = logging.getLogger("shop.app")
    app.addHandler(handler)
    app.propagate = False
    try:
        try:
            raise ValueError(HOSTILE)
        except ValueError:
            app.exception("refund of %s\n%s", "order 7", FORGED)
    finally:
        app.removeHandler(handler)
        app.propagate = True
    records, others = parse_logfmt(out.getvalue())
    assert [(r["logger"], r["level"]) for r in records] == [("shop.app", "error")]
    assert records[0]["msg"] == f"refund of order 7\n{FORGED}"
    assert all(line.startswith("  | ") for line in others), others


@pytest.mark.parametrize(
    "value",
    ["a\u2028b", "a\u2029b", "a\x85b", "a\rb", "a\x1b[31mb", "a\x7fb", "tab\there", 'q"b\\s'],
)
def test_each_control_is_escaped_and_round_trips(value: str) -> None:
    """Every control or separator in a value is escaped inside quotes, and reads back."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    from penstock.backends.logging import LogfmtFormatter

    handler.setFormatter(LogfmtFormatter())
    app = logging.getLogger("shop.values")
    app.addHandler(handler)
    app.propagate = False
    try:
        app.warning("%s", value)
    finally:
        app.removeHandler(handler)
        app.propagate = True
    text = out.getvalue()
    assert text.count("\n") == 1
    assert text.endswith("\n")
    assert not re.search(f"[{CONTROLS}]", text[:-1])
    records, others = parse_logfmt(text)
    assert others == []
    assert records[0]["msg"] == value


def test_json_output_is_one_ascii_line_per_record(pay: Callable[[], None]) -> None:
    """JSON lines: one object per physical line, ASCII only, the message intact."""
    out = io.StringIO()
    penstock.configure(backend="logging", format="json", stream=out)
    _fail(pay)
    text = out.getvalue()
    assert text.isascii()
    assert not re.search(f"[{CONTROLS}]", text.replace("\n", ""))
    lines = text.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [(o["step"], o["status"]) for o in objs] == [("pay", "error")]
    assert objs[0]["exception_message"] == HOSTILE
    assert FORGED in objs[0]["exception"]
