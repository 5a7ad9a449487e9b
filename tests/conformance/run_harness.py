"""Run the W3C Trace Context validation harness against a service; write its report as JSON.

Usage: ``python run_harness.py HARNESS_DIR SERVICE_URL HARNESS_PORT REPORT_JSON``.

The harness (``test.py`` and its modules, unchanged) is a unittest module; this loads it under
its own name (``test`` is also the standard library's test package), points its callback
server at ``HARNESS_PORT`` (as its own ``__main__`` does from ``HARNESS_PORT``) and records each
test's outcome, so that pytest can assert per test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import unittest
from typing import Any


class _Recorder(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, dict[str, str]] = {}

    def _record(self, test: unittest.TestCase, outcome: str, message: str = "") -> None:
        name = f"{type(test).__name__}.{test._testMethodName}"
        self.outcomes[name] = {"outcome": outcome, "message": message[-4000:]}

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._record(test, "failed", self.failures[-1][1])

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        if isinstance(test, unittest.TestCase):
            self._record(test, "error", self.errors[-1][1])
        else:  # setUpModule failed: every test is lost
            self.outcomes["<module>"] = {"outcome": "error", "message": self.errors[-1][1]}

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def main(harness_dir: str, service_url: str, port: str, report: str) -> int:
    os.environ["SERVICE_ENDPOINT"] = service_url
    os.environ.setdefault("SPEC_LEVEL", "1")
    sys.path.insert(0, harness_dir)
    spec = importlib.util.spec_from_file_location("w3c_harness", f"{harness_dir}/test.py")
    assert spec is not None
    assert spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    sys.modules["w3c_harness"] = harness
    spec.loader.exec_module(harness)
    timeout = int(os.environ.get("HARNESS_TIMEOUT", "5"))
    harness.client = harness.TestClient(host="127.0.0.1", port=int(port), timeout=timeout + 1)
    harness.server = harness.TestServer(host="127.0.0.1", port=int(port), timeout=timeout)
    suite = unittest.TestLoader().loadTestsFromModule(harness)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Recorder)
    result = runner.run(suite)
    assert isinstance(result, _Recorder)
    with open(report, "w", encoding="utf-8") as out:
        json.dump(result.outcomes, out, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
