"""Real Redis and real Celery worker processes for the cross-process tests.

``RedisServer`` runs Debian's ``redis-server`` on a free 127.0.0.1 port with persistence off;
``CeleryWorker`` runs ``celery worker --pool=solo`` in a subprocess and waits for its
" ready." line. Both stop the processes they started, by pid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.processes import free_port, stop_process
from tests.support.system import ROOT, require_executable

EXAMPLES = ROOT / "examples"


class RedisServer:
    """A throw-away ``redis-server`` on 127.0.0.1."""

    def __init__(self, log_dir: Path) -> None:
        self.executable = require_executable(
            "redis-server", "install it, e.g. apt-get install redis-server"
        )
        self.port = free_port()
        self.log = log_dir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """``redis://`` URL of database ``db``."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING."""
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    self.executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        import redis

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log.read_text()[-2000:]}")
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except redis.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (by pid)."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


class CeleryWorker:
    """A real ``celery worker`` process for the app ``app_path`` (``module:attribute``).

    The worker gets ``env`` on top of this process's environment, with the repository and the
    examples folder on ``PYTHONPATH``; it consumes ``queue`` (default: the app's), with the
    ``solo`` pool or a one-process ``prefork`` pool, as node ``name`` (default: the queue's).
    """

    def __init__(
        self,
        app_path: str,
        log: Path,
        env: dict[str, str],
        queue: str | None = None,
        *,
        pool: str = "solo",
        name: str | None = None,
    ) -> None:
        self.app_path = app_path
        self.log = log
        self.env = env
        self.queue = queue
        self.pool = pool
        self.name = name or queue or "celery"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> CeleryWorker:
        """Start the worker and wait for " ready." in its log."""
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), str(EXAMPLES), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        env.pop("CI", None)  # nothing in the worker should behave differently under CI
        pool = ["--pool=solo"] if self.pool == "solo" else ["--pool=prefork", "--concurrency=1"]
        queue = ["-Q", self.queue] if self.queue else []
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    self.app_path,
                    "worker",
                    *pool,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                    *queue,
                    "-n",
                    f"{self.name}@127.0.0.1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
        try:
            self.wait_for(" ready.", timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Wait until ``text`` shows in the worker's log."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited: {self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{text!r} not in the celery worker's log: {self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        """The tail of the worker's log."""
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then kill if it hangs."""
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process(proc, timeout=15)


def read_records(
    path: Path, want: Any, *, timeout: float = 15.0, what: str = "records"
) -> list[dict[str, Any]]:
    """JSON-lines records from ``path``, polled until ``want(records)`` is true."""
    deadline = time.monotonic() + timeout
    records: list[dict[str, Any]] = []
    while True:
        if path.exists():
            lines = path.read_text().splitlines()
            records = [json.loads(line) for line in lines if line.strip()]
            if want(records):
                return records
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} in {path.name}: {records!r}")
        time.sleep(0.05)
