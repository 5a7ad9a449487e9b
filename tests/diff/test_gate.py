"""`penstock diff` as a required CI check: traffic, exit codes, timeouts, signals, bad dumps.

Everything runs the real command in a subprocess against a real git repository; recorded runs
are written by the real logging backend while the old revision's code runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.diff.conftest import _GIT_ENV
from tests.support.mermaid import MermaidOracle
from tests.support.system import require_executable

ORDERS_V1 = '''\
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive(order):
    validate(order)
    if order.get("fax"):
        legacy_fax(order)
        if order.get("amount") == 4:  # a resend: two calls in one run
            legacy_fax(order)


@flow("orders")
@step(after="receive")
def validate(order):
    """Check the order."""
    return approve_refund(order)


@flow("orders")
@step(after="validate", when="refund")
def approve_refund(order):
    doubled = order.get("amount", 0) * 2
    return doubled + 1


@flow("orders")
@step(after="receive")
def legacy_fax(order):
    return {"faxed": order}
'''

# v2: legacy_fax removed (edge and all), email added, approve_refund's function renamed
# (same body, same place), the condition on validate -> check changed.
ORDERS_V2 = '''\
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive(order):
    validate(order)
    email(order)


@flow("orders")
@step(after="receive", when="always, really")
def validate(order):
    """Check the order."""
    return accept_refund(order)


@flow("orders")
@step(after="validate", when="refund")
def accept_refund(order):
    doubled = order.get("amount", 0) * 2
    return doubled + 1


@flow("orders")
@step(after="validate")
def email(order):
    return order
'''

RUN = """\
import sys

import penstock
from shop.orders import receive

with open(sys.argv[1], "w", encoding="utf-8") as stream:
    penstock.configure(backend="logging", format="json", stream=stream)
    for i in range(6):
        receive({"fax": i % 2 == 0, "amount": i})
    penstock.reset()
"""

LOOPS = """\
import os
from pathlib import Path

from penstock import entrypoint, flow

Path(os.environ["LOOP_PIDFILE"]).write_text(str(os.getpid()))
while True:
    pass
"""


class Shop:
    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            env={**os.environ, **_GIT_ENV},
            check=True,
        ).stdout

    def penstock(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "penstock", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """v1 (with runs.log recorded by running it), v2 committed, a looping revision tagged."""
    require_executable("git", "install git, e.g. apt-get install git")
    s = Shop(tmp_path_factory.mktemp("gate"))
    s.git("init", "-q", "-b", "main")
    (s.path / "pyproject.toml").write_text('[tool.penstock]\nmodules = ["shop.orders"]\n')
    (s.path / "shop").mkdir()
    (s.path / "shop" / "__init__.py").write_text("")
    (s.path / "shop" / "orders.py").write_text(ORDERS_V1)
    (s.path / "run.py").write_text(RUN)
    s.git("add", "-A")
    s.git("commit", "-q", "-m", "first version")
    s.git("tag", "v1")
    subprocess.run(
        [sys.executable, "run.py", "runs.log"], cwd=s.path, check=True, capture_output=True
    )
    (s.path / "shop" / "orders.py").write_text(ORDERS_V2)
    s.git("add", "shop")
    s.git("commit", "-q", "-m", "email instead of fax")
    s.git("tag", "v2")
    (s.path / "shop" / "orders.py").write_text(LOOPS)
    s.git("add", "shop")
    s.git("commit", "-q", "-m", "a module that never finishes importing")
    s.git("tag", "loops")
    s.git("checkout", "-q", "v2")
    return s


# --- traffic-aware review ------------------------------------------------------------------


def test_json_puts_the_old_flows_traffic_on_each_change(shop: Shop) -> None:
    out = shop.penstock("diff", "v1", "v2", "-f", "json", "--observed", "runs.log")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    orders = data["flows"]["orders"]
    assert orders["steps"]["probable_renames"] == [["approve_refund", "accept_refund"]]
    assert orders["steps"]["removed"] == ["legacy_fax"]
    observed = orders["observed"]
    assert observed["runs"] == 6
    fax = observed["steps"]["legacy_fax"]
    # Three of the six runs faxed, one of them twice.
    assert (fax["change"], fax["calls"], fax["runs"]) == ("removed", 4, 3)
    assert fax["last_seen"].endswith("Z")
    assert observed["steps"]["email"] == {
        "change": "added",
        "calls": 0,
        "runs": 0,
        "last_seen": None,
        "new": True,
    }
    edges = {(e["from"], e["to"], e["change"]): (e["calls"], e["runs"]) for e in observed["edges"]}
    assert edges[("receive", "legacy_fax", "removed")] == (4, 3)
    assert edges[("validate", "email", "added")] == (0, 0)
    assert edges[("receive", "validate", "condition")] == (6, 6)
    live = {(r["kind"], r["name"]): (r["calls"], r["runs"]) for r in data["live_removals"]}
    assert live == {
        ("step", "legacy_fax"): (4, 3),
        ("edge", "receive -> legacy_fax"): (4, 3),
        ("step", "approve_refund (renamed to accept_refund?)"): (6, 6),
    }
    assert data["observed"]["sources"] == ["runs.log"]


def test_text_says_every_change_with_its_traffic(shop: Shop) -> None:
    out = shop.penstock("diff", "v1", "v2", "--observed", "runs.log")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith(" Still carrying traffic (in the whole recording): 3 removals\n")
    assert "   orders: step legacy_fax (4 calls in 3 runs, last seen " in text
    assert " orders | changed  steps +1 -1 ~1  edges +1 -1  conditions ~1\n" in text
    assert "     + step email  [new: no traffic yet]\n" in text
    assert "     - step legacy_fax  [4 calls in 3 runs, last seen " in text
    assert "     ~ step accept_refund: renamed from approve_refund?  [6 calls in 6 runs" in text
    assert "     ~ edge receive -> validate: when always -> 'always, really'  [6 calls in 6" in text
    assert "conditions ~1 (v1 (" in text


def test_markdown_lists_what_still_carries_traffic_first(
    shop: Shop, mermaid_oracle: MermaidOracle
) -> None:
    out = shop.penstock("diff", "v1", "v2", "-f", "markdown", "--observed", "runs.log")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.index("#### Still carrying traffic") < text.index("```mermaid")
    assert "| orders | step legacy\\_fax | 4 | 3 | `" in text
    # The removed edge carries its count in the diagram, which Mermaid reads.
    assert 'receive -. "4 calls" .-> legacy_fax' in text
    diagram = text.split("```mermaid\n")[1].split("```")[0]
    for parsed in mermaid_oracle.parse_one(diagram):
        assert parsed.ok, f"{parsed.error}\n{diagram}"
        labels = {e.get("text") for e in parsed.edges}
        assert "4 calls" in labels


def test_fail_on_live_removal_names_them_and_a_window_without_them_passes(shop: Shop) -> None:
    out = shop.penstock(
        "diff", "v1", "v2", "--observed", "runs.log", "--fail-on-live-removal", "-o", "r.txt"
    )
    assert out.returncode == 1
    assert "removes 3 step(s) or edge(s) that recorded runs took" in out.stderr
    assert "orders: edge receive -> legacy_fax (4 calls in 3 runs" in out.stderr
    later = shop.penstock(
        "diff", "v1", "v2", "--observed", "runs.log", "--since", "2999-01-01T00:00:00Z",
        "--fail-on-live-removal",
    )  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert "No removed step or edge carried traffic" in later.stdout


# --- exit codes: 2 for every error, never 1 --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-revision"],
        ["v1", "v2", "--flow", "ordres"],
        ["v1", "v2", "--observed", "missing.log"],
        ["v1", "v2", "--observed", "runs.log", "--since", "yesterday"],
        ["v1", "v2", "--fail-on-live-removal"],
        ["v1", "v2", "--timeout", "soon"],
        ["v1", "v2", "-f", "nope"],
        ["v1", "v2", "--max-chars", "-5"],
        ["--observed", "runs.log", "--", "v1", "v2", "extra"],
    ],
    ids=[
        "revision",
        "flow",
        "observed",
        "since",
        "needs-observed",
        "timeout-arg",
        "format",
        "max-chars",
        "extra-argument",
    ],
)
def test_every_error_exits_2_with_one_message(shop: Shop, args: list[str]) -> None:
    out = shop.penstock("diff", *args, "--exit-code")
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    assert out.stderr.strip()


def test_a_crash_exits_2_not_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from penstock._graph import dump as dump_module
    from penstock.cli import main

    good = tmp_path / "a.json"
    good.write_text(json.dumps({"schema": "penstock.flows", "version": 1, "flows": []}))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("penstock.cli.diff.compare", broken)
    assert main(["diff", "a.json", "a.json", "--exit-code"]) == 2
    assert "internal error (RuntimeError)" in capsys.readouterr().err
    del dump_module


# --- dumps: validated, located errors --------------------------------------------------------


def _flow(**overrides: Any) -> dict[str, Any]:
    step = {
        "name": "receive",
        "kind": "entrypoint",
        "module": "m",
        "qualname": "receive",
        "file": "m.py",
        "line": 1,
        "doc": None,
        "transport": None,
    }
    flow = {
        "schema": "penstock.flow",
        "version": 2,
        "flow": "orders",
        "entrypoints": ["receive"],
        "steps": [step, {**step, "name": "pay", "kind": "step", "qualname": "pay"}],
        "edges": [{"source": "receive", "target": "pay", "when": None}],
    }
    flow.update(overrides)
    return flow


def _dump(*flows: dict[str, Any]) -> str:
    return json.dumps({"schema": "penstock.flows", "version": 1, "flows": list(flows)})


STEP = _flow()["steps"][0]

BAD_DUMPS = {
    "deep": ("[" * 100_000 + "]" * 100_000, "arrays and objects nested 100000 deep"),
    "edge-to-nowhere": (
        _dump(_flow(edges=[{"source": "receive", "target": "shipp", "when": None}])),
        "flows[0].edges[0].target: 'shipp' is not a step of flow 'orders'",
    ),
    "integer-flow": (_dump(_flow(flow=7)), "flows[0].flow: expected a string, got the integer 7"),
    "integer-step": (
        _dump(_flow(steps=[{**STEP, "name": 3}])),
        "flows[0].steps[0].name: expected a string, got the integer 3",
    ),
    "integer-when": (
        _dump(_flow(edges=[{"source": "receive", "target": "pay", "when": 1}])),
        "flows[0].edges[0].when: expected a string or null, got the integer 1",
    ),
    "nested-entrypoints": (
        _dump(_flow(entrypoints=[[1]])),
        "flows[0].entrypoints[0]: expected a string, got an array",
    ),
    "string-entrypoints": (
        _dump(_flow(entrypoints="receive")),
        "flows[0].entrypoints: expected an array, got the string 'receive'",
    ),
    "duplicate-steps": (
        _dump(_flow(steps=[STEP, STEP], edges=[])),
        "flows[0].steps[1].name: flow 'orders' has two steps called 'receive'",
    ),
    "entrypoint-no-step": (
        _dump(_flow(entrypoints=["recieve"])),
        "flows[0].entrypoints[0]: 'recieve' is not a step of flow 'orders'",
    ),
    "duplicate-flows": (_dump(_flow(), _flow()), "flows[1].flow: flow 'orders' appears twice"),
}


@pytest.mark.parametrize("case", sorted(BAD_DUMPS))
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_bad_dumps_are_located_errors_exit_2(tmp_path: Path, case: str, fmt: str) -> None:
    text, message = BAD_DUMPS[case]
    (tmp_path / "bad.json").write_text(text)
    (tmp_path / "good.json").write_text(_dump(_flow()))
    out = subprocess.run(
        [sys.executable, "-m", "penstock", "diff", "good.json", "bad.json", "-f", fmt],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    assert f"bad.json: {message}" in out.stderr or f"bad.json is {message}" in out.stderr, (
        out.stderr
    )


def test_a_good_dump_validates_and_reads() -> None:
    from penstock._graph.dump import read_dump

    assert list(read_dump(_dump(_flow()), "good.json")) == ["orders"]


# --- timeouts and signals: nothing left behind ------------------------------------------------


def _leftovers(shop: Shop, tmp: Path) -> tuple[str, list[str]]:
    worktrees = shop.git("worktree", "list", "--porcelain")
    return worktrees, sorted(p.name for p in tmp.iterdir())


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is dead too (its parent, the test's penstock, has exited).
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1].startswith("Z")


def test_timeout_kills_the_loader_and_removes_the_checkout(shop: Shop, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = shop.git("worktree", "list", "--porcelain")
    started = time.monotonic()
    out = shop.penstock(
        "diff", "loops", "v2", "--timeout", "3", TMPDIR=str(tmp), LOOP_PIDFILE=str(pidfile)
    )
    assert time.monotonic() - started < 60
    assert out.returncode == 2
    assert "took longer than 3 s (--timeout)" in out.stderr
    assert "Traceback" not in out.stderr
    assert _leftovers(shop, tmp) == (before, [])
    assert _gone(int(pidfile.read_text()))


#: penstock as a terminal or a CI runner starts it: the signals at their defaults. A test
#: runner started under nohup, or in the background of a script, passes them on ignored, and
#: penstock rightly leaves an ignored signal ignored.
_AS_FROM_A_TERMINAL = (
    "import runpy, signal, sys; "
    "[signal.signal(s, signal.SIG_DFL) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)]; "
    "sys.argv[0] = 'penstock'; "
    "runpy.run_module('penstock', run_name='__main__', alter_sys=True)"
)


def _hung(proc: subprocess.Popen[str], sig: signal.Signals) -> str:
    """What a penstock that did not stop was doing: its signal state and every thread's stack."""
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except OSError:  # no /proc (macOS): the stacks alone
        status = ""
    state = [line for line in status.splitlines() if line.startswith(("State", "Sig", "Shd"))]
    proc.send_signal(signal.SIGABRT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        err = "(no stack: it did not answer SIGABRT either)"
    return f"still running 60 s after {sig.name}; " + "; ".join(state) + "\n" + err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_stop_cleanly(shop: Shop, tmp_path: Path, sig: signal.Signals) -> None:
    pidfile = tmp_path / "pid"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = shop.git("worktree", "list", "--porcelain")
    # -X faulthandler: if it ever hangs, SIGABRT makes it print where (see _hung).
    proc = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", _AS_FROM_A_TERMINAL, "diff", "loops", "v2"],
        cwd=shop.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp), "LOOP_PIDFILE": str(pidfile)},
    )
    try:
        deadline = time.monotonic() + 60
        while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pidfile.exists(), "the looping module never started"
        assert any(p.name.startswith("penstock-diff-") for p in tmp.iterdir())
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(_hung(proc, sig))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            # Killed outright, penstock cannot stop its loader (in a session of its own): the
            # looping module would spin on through the rest of the suite.
            with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
    assert proc.returncode == 2, err
    assert err.strip().splitlines() == [
        f"penstock diff: stopped by {sig.name}; the loader processes were killed and the "
        "temporary checkouts removed"
    ]
    assert _leftovers(shop, tmp) == (before, [])
    assert _gone(int(pidfile.read_text()))
