"""A real git repository whose history changes its flows, built once per session.

The tests only read it (every ``penstock diff`` must leave HEAD, the index and the working
tree as they were, and test_git checks that), so one repository serves every module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.render.conftest import forget_generated
from tests.support.mermaid import mermaid_oracle
from tests.support.system import require_executable

__all__ = ["Repo", "forget_generated", "mermaid_oracle", "repo"]

PYPROJECT = """\
[project]
name = "shop"
version = "0"

[tool.penstock]
modules = [{modules}]
"""

ORDERS_V1 = '''\
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive(order):
    return order


@flow("orders")
@step(after="receive")
def validate(order):
    """Check the order."""
    return order


@flow("orders")
@step(after="validate")
def reserve(order):
    return order


@flow("orders")
@step(after="reserve")
def legacy_fax(order):
    return order
'''

BILLING_V1 = '''\
from penstock import entrypoint, flow, step


@flow("billing")
@entrypoint
def invoice(order):
    return order


@flow("billing")
@step(after="invoice")
def charge(order):
    """Charge the card."""
    return order
'''

# v2: legacy_fax removed, notify added, validate renamed in place to "check";
# billing only moved down a few lines (not a change).
ORDERS_V2 = '''\
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive(order):
    return order


@flow("orders")
@step(after="receive", name="check")
def validate(order):
    """Check the order."""
    return order


@flow("orders")
@step(after="check")
def reserve(order):
    return order


@flow("orders")
@step(after="reserve")
def notify(order):
    return order
'''

BILLING_V2 = "# Billing.\n\n# (Comments only: every step moves down three lines.)\n" + BILLING_V1

# v3: reserve moved from orders to billing; notify now runs after check; charge's description
# changed; a new flow "returns"; check became an entrypoint too.
ORDERS_V3 = '''\
from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def receive(order):
    return order


@flow("orders")
@entrypoint(after="receive", name="check")
def validate(order):
    """Check the order."""
    return order


@flow("billing")
@step(after="charge")
def reserve(order):
    return order


@flow("orders")
@step(after="check")
def notify(order):
    return order
'''

BILLING_V3 = BILLING_V2.replace("Charge the card.", "Charge the card, or the wallet.")

RETURNS_V3 = """\
from penstock import entrypoint, flow, step


@flow("returns")
@entrypoint
def request_return(order):
    return order


@flow("returns")
@step(after="request_return")
def refund(order):
    return order
"""

# v4: the returns flow is gone again.
# broken: a module raising on import (line 4).
BROKEN_BILLING = "from penstock import flow, step\n\n\nraise RuntimeError('billing is broken')\n"


@dataclass
class Repo:
    """The test repository: its folder and a way to run git and penstock in it."""

    path: Path

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            env={**os.environ, **_GIT_ENV},
            check=True,
        )
        return out.stdout

    def penstock(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "penstock", *args],
            cwd=cwd or self.path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def diff_json(self, *args: str) -> dict[str, Any]:
        out = self.penstock("diff", *args, "-f", "json")
        assert out.returncode == 0, out.stderr
        data: dict[str, Any] = json.loads(out.stdout)
        return data

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self, message: str, tag: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("tag", tag)

    def state(self) -> tuple[str, str, str, str]:
        """HEAD, the index, the working tree status and the worktree list: all must stay."""
        return (
            self.git("rev-parse", "HEAD"),
            self.git("ls-files", "--stage"),
            self.git("status", "--porcelain", "--untracked-files=all"),
            self.git("worktree", "list", "--porcelain"),
        )


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _pyproject(*modules: str) -> str:
    return PYPROJECT.format(modules=", ".join(json.dumps(m) for m in modules))


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """Tags v1, v2, v3, v4, broken and syntax, then an uncommitted edit in the working tree."""
    require_executable("git", "install git, e.g. apt-get install git")
    r = Repo(tmp_path_factory.mktemp("shop"))
    r.git("init", "-q", "-b", "main")
    r.write("pyproject.toml", _pyproject("shop.orders", "shop.billing"))
    r.write("shop/__init__.py", "")
    r.write("shop/orders.py", ORDERS_V1)
    r.write("shop/billing.py", BILLING_V1)
    r.commit("v1", "v1")
    r.write("shop/orders.py", ORDERS_V2)
    r.write("shop/billing.py", BILLING_V2)
    r.commit("v2", "v2")
    r.write("pyproject.toml", _pyproject("shop.orders", "shop.billing", "shop.returns"))
    r.write("shop/orders.py", ORDERS_V3)
    r.write("shop/billing.py", BILLING_V3)
    r.write("shop/returns.py", RETURNS_V3)
    r.commit("v3", "v3")
    r.write("pyproject.toml", _pyproject("shop.orders", "shop.billing"))
    (r.path / "shop/returns.py").unlink()
    r.commit("v4", "v4")
    r.write("shop/billing.py", BROKEN_BILLING)
    r.commit("broken", "broken")
    r.write("shop/billing.py", BILLING_V3)
    r.commit("fixed", "fixed")
    r.write("shop/billing.py", "from penstock import flow\n\n\ndef half(:\n    pass\n")
    r.commit("a syntax error", "syntax")
    r.write("shop/billing.py", BILLING_V3)
    r.commit("fixed again", "fixed-again")
    # Uncommitted: a step added to orders.
    r.write(
        "shop/orders.py",
        ORDERS_V3 + '\n\n@flow("orders")\n@step(after="notify")\ndef archive(order):\n'
        "    return order\n",
    )
    return r
