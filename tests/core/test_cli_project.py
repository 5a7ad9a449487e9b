"""The penstock command in a project: [tool.penstock], errors that name the fix, hints."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.system import ROOT

CHECKOUT = '''
from penstock import entrypoint, flow, step


@flow("checkout")
@entrypoint
def start_checkout():
    """Begin."""


@flow("checkout")
@step(after=start_checkout)
def reserve_stock():
    """Hold the items."""
'''

PAYMENT = '''
from penstock import flow, step


@flow("checkout")
@step(after="reserve_stock")
def charge_payment():
    """Take the money."""


@flow("checkout")
@step(after=charge_payment)
def ship():
    """Send it."""
'''


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A src-layout project whose pyproject.toml names the package only."""
    return write(
        tmp_path / "proj",
        {
            "pyproject.toml": '[project]\nname = "shop"\n\n[tool.penstock]\nmodules = ["shop"]\n',
            "src/shop/__init__.py": "",
            "src/shop/checkout.py": CHECKOUT,
            "src/shop/payment.py": PAYMENT,
            "src/shop/__main__.py": "raise SystemExit('__main__ must not be imported')\n",
            "docs/.keep": "",
        },
    )


def penstock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "penstock", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_the_table_replaces_every_flag(shop: Path) -> None:
    """list, check, dag and paths need no -m or --path; a package imports its submodules."""
    listed = penstock("list", cwd=shop)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["checkout", "4", "steps", "entrypoints:", "start_checkout"]
    assert penstock("check", cwd=shop).returncode == 0
    dag = penstock("dag", "checkout", cwd=shop / "docs")  # found by walking up
    assert dag.returncode == 0, dag.stderr
    assert "reserve_stock --> charge_payment" in dag.stdout
    paths = penstock("paths", "checkout", cwd=shop)
    assert paths.stdout.strip() == "start_checkout -> reserve_stock -> charge_payment -> ship"


def test_command_line_modules_win_over_the_table(shop: Path) -> None:
    """-m replaces the table's modules; the missing module is named in a copyable hint."""
    out = penstock("-m", "shop.checkout", "check", cwd=shop)
    assert out.returncode == 0  # checkout alone is a complete flow of 2 steps
    assert penstock("-m", "shop.checkout", "list", cwd=shop).stdout.split()[1] == "2"
    out = penstock("-m", "shop.payment", "check", cwd=shop)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert "[unknown-after]" in lines[0]
    assert lines[1] == (
        f"  hint: 'reserve_stock' is defined in {Path('src/shop/checkout.py')}, module "
        "'shop.checkout' ('shop' is in [tool.penstock] modules; -m replaced them), which was "
        "not imported: "
        "add -m shop.checkout"
    )
    assert "[no-entrypoint]" in lines[2]
    assert "2 problem(s) in 1 of 1 flow(s)" in out.stderr


def test_no_entrypoint_hint_names_the_module(shop: Path) -> None:
    """A flow without entrypoint whose entrypoint lives in a module not imported."""
    (shop / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    out = penstock("--path", "src", "-m", "shop.payment", "check", cwd=shop)
    assert out.returncode == 1
    assert "[no-entrypoint]" in out.stdout
    assert (
        "hint: an @entrypoint of flow 'checkout' is declared in "
        f"{Path('src/shop/checkout.py')}, module 'shop.checkout', which was not imported: "
        "add -m shop.checkout, or add it to modules in [tool.penstock]"
    ) in out.stdout


def test_a_package_off_sys_path_names_the_folders_and_the_setting(tmp_path: Path) -> None:
    """Not found: which name, the folders penstock added, the setting to change; no traceback."""
    proj = write(
        tmp_path / "proj",
        {
            "pyproject.toml": "[tool.penstock]\nmodules = ['shop.checkout']\n",
            "app/shop/__init__.py": "",
            "app/shop/checkout.py": CHECKOUT,
        },
    )
    out = penstock("list", cwd=proj)
    assert out.returncode == 2
    err = out.stderr
    assert "could not import module 'shop.checkout':" in err
    assert "no module named 'shop' was found on sys.path." in err
    assert f"    {proj.resolve()}\n" in err
    assert "add the folder that holds 'shop' with paths in [tool.penstock] in pyproject.toml" in err
    assert "Traceback" not in err
    (proj / "pyproject.toml").write_text(
        "[tool.penstock]\nmodules = ['shop.checkout']\npaths = ['app']\n"
    )
    assert penstock("list", cwd=proj).returncode == 0


def test_an_error_in_user_code_keeps_its_traceback_at_the_users_line(tmp_path: Path) -> None:
    """A user's exception: the traceback starts in the user's file, no importlib frames."""
    proj = write(
        tmp_path / "proj",
        {
            "pyproject.toml": "[tool.penstock]\nmodules = ['broken']\n",
            "broken.py": "import os\n\nVALUE = 1 / 0\n",
        },
    )
    out = penstock("list", cwd=proj)
    assert out.returncode == 2
    err = out.stderr
    assert f"could not import module 'broken' ({proj.resolve() / 'broken.py'}:3):" in err
    assert err.index("Traceback") < err.index('broken.py", line 3') < err.index("ZeroDivision")
    assert "importlib" not in err
    assert "penstock" + os.sep not in err.split("could not import", 1)[1]


def test_an_invalid_table_is_a_usage_error_with_did_you_mean(tmp_path: Path) -> None:
    """An unknown key in [tool.penstock] names the file and the close key."""
    proj = write(tmp_path / "proj", {"pyproject.toml": "[tool.penstock]\nmodule = ['x']\n"})
    out = penstock("list", cwd=proj)
    assert out.returncode == 2
    assert "unknown key 'module'; did you mean 'modules'?" in out.stderr


BROKEN = """
from penstock import entrypoint, flow, step


@flow("loop")
@entrypoint
def begin(): ...


@flow("loop")
@step(after=["begin", "last"])
def middle(): ...


@flow("loop")
@step(after=middle)
def last(): ...


@flow("gap")
@entrypoint
def first(): ...


@flow("gap")
@step(after="frist")
def second(): ...
"""


def test_dag_and_paths_refuse_broken_flows(tmp_path: Path) -> None:
    """Exit 1 with the problems on stderr; --allow-problems draws anyway."""
    proj = write(
        tmp_path / "proj",
        {"pyproject.toml": "[tool.penstock]\nmodules = ['flows']\n", "flows.py": BROKEN},
    )
    dag = penstock("dag", "gap", cwd=proj)
    assert dag.returncode == 1
    assert dag.stdout == ""
    assert "penstock dag: flow 'gap' has 1 problem(s):" in dag.stderr
    assert "[unknown-after]" in dag.stderr
    assert "Fix them (all flows: penstock check), or pass --allow-problems" in dag.stderr
    assert penstock("dag", "gap", "--allow-problems", cwd=proj).returncode == 0
    paths = penstock("paths", "loop", cwd=proj)
    assert paths.returncode == 1
    assert "[cycle]" in paths.stderr
    assert penstock("paths", "loop", "--allow-problems", cwd=proj).returncode == 0
    check = penstock("check", cwd=proj)
    assert "2 problem(s) in 2 of 2 flow(s)" in check.stderr


def test_dag_check_hint_is_a_command_that_works(tmp_path: Path) -> None:
    """The "regenerate it with" line runs as printed and makes the file fresh."""
    proj = write(tmp_path / "proj", {"lib/shopflows.py": CHECKOUT})
    target = "docs/my flow.mmd"
    args = ["--path", "lib", "-m", "shopflows", "dag", "checkout", "--show-docs", "-o", target]
    assert penstock(*args, cwd=proj).returncode == 0
    (proj / target).write_text("stale\n")
    stale = penstock(*args, "--check", cwd=proj)
    assert stale.returncode == 1
    command = stale.stderr.strip().splitlines()[-1].strip()
    assert command.startswith("penstock --path lib -m shopflows dag checkout ")
    words = shlex.split(command)
    assert penstock(*words[1:], cwd=proj).returncode == 0
    assert penstock(*args, "--check", cwd=proj).returncode == 0
