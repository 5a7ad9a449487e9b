"""penstock installed as a user installs it: built into an sdist and a wheel, checked with
twine, and the wheel (with the ``mkdocs`` extra) installed into a fresh virtualenv outside the
checkout. There, the README's quickstart runs, ``penstock --version`` names the built version,
``penstock check`` passes on the example service, and ``mkdocs build --strict`` draws a flow
on a two-page site.

One build and one install serve every test of this module (they are what takes the time).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.system import ROOT, missing

#: The import packages the wheel holds; nothing else but its .dist-info.
PACKAGES = ("penstock", "penstock_mkdocs", "penstock_sphinx")

#: What must be in the wheel beside the Python modules.
DATA_FILES = (
    "penstock/py.typed",
    "penstock_mkdocs/py.typed",
    "penstock_sphinx/py.typed",
    "penstock/_static/penstock/mermaid.min.js",
    "penstock/_static/penstock/mermaid.LICENSE.txt",
    "penstock/_static/penstock/penstock-mermaid-init.js",
    "penstock/_static/penstock/d3.min.js",
    "penstock/schema/flow-v2.schema.json",
    "penstock/schema/flows-v1.schema.json",
    "penstock/schema/map-v1.schema.json",
    "penstock/_build_version.py",
)


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    version: str


@dataclass(frozen=True)
class Installed:
    built: Built
    bin: Path
    home: Path

    def run(self, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """A command of the virtualenv, run as a user would, away from the checkout."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["NO_COLOR"] = "1"
        exe = str(self.bin / argv[0])
        return subprocess.run(
            [exe, *argv[1:]],
            cwd=cwd or self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _require_build_tools() -> None:
    for module, what in (("build", "build"), ("twine", "twine"), ("hatch_vcs", "hatch-vcs")):
        if importlib.util.find_spec(module) is None:
            missing(f"{what} (to build the distributions)", "pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sdist and the wheel of this checkout, built as the release workflow builds them."""
    _require_build_tools()
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the version comes from git")
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend of the dev environment, so the test needs no network;
    # the release workflow builds in isolation.
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    # Platform-specific where the compiled scanner was built (hatch_build.py), else pure.
    tags = r"(py3-none-any|cp3\d+-cp3\d+-\w+)"
    match = re.fullmatch(rf"penstock_flows-([^-]+)-{tags}\.whl", wheel.name)
    assert match, wheel.name
    return Built(wheel, sdist, match[1])


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh virtualenv outside the checkout with the wheel and its ``mkdocs`` extra."""
    home = tmp_path_factory.mktemp("user")
    env_dir = home / "venv"
    # No pip of its own: this pip installs into it (``--python``), which spares seeding one
    # (3 s); no .pyc files are compiled ahead for all of Pygments and Material (6 s): the
    # commands below compile what they import, as they would on a user's machine.
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python")]
    done = subprocess.run(
        [*pip, "install", "--quiet", "--no-compile", f"{built.wheel}[mkdocs]"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Not removed afterwards: pytest keeps the temporary folders of the last three runs only,
    # and deleting thousands of files inline costs more than the test.
    return Installed(built, bin_dir, home)


def test_wheel_holds_the_packages_and_their_data_only(built: Built) -> None:
    """Mermaid, the JSON Schemas and py.typed are in; tests, docs and node_modules are not."""
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
    info = f"penstock_flows-{built.version}.dist-info/"
    outside = [n for n in names if not n.startswith((*(f"{p}/" for p in PACKAGES), info))]
    assert outside == []
    for name in DATA_FILES:
        assert name in names, f"the wheel lacks {name}"
    assert not [n for n in names if "__pycache__" in n or "node_modules" in n]
    with zipfile.ZipFile(built.wheel) as wheel:
        metadata = wheel.read(f"{info}METADATA").decode()
        entry_points = wheel.read(f"{info}entry_points.txt").decode()
    assert "Name: penstock-flows\n" in metadata
    assert f"Version: {built.version}\n" in metadata
    for extra in ("otel", "celery", "kafka", "grpc", "mkdocs", "sphinx", "all"):
        assert f"Provides-Extra: {extra}\n" in metadata
    assert "penstock = penstock.cli:main" in entry_points
    assert "penstock = penstock_mkdocs.plugin:PenstockPlugin" in entry_points


def test_wheel_carries_the_compiled_modules(built: Built) -> None:
    """Built where a C compiler is at hand (always in CI), with its platform's tag."""
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    modules = {f"penstock/_observed/_scan{suffix}", f"penstock/propagation/_wire{suffix}"}
    if not modules & set(names):
        reason = f"the wheel was built without {sorted(modules)} (no C compiler or headers)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert modules <= set(names)
    assert not built.wheel.name.endswith("-py3-none-any.whl"), built.wheel.name
    assert not [n for n in names if n.endswith(".c")]
    assert {n for n in names if n.endswith((".so", ".pyd"))} == modules


def test_a_pure_wheel_when_asked(tmp_path: Path) -> None:
    """``PENSTOCK_PURE=1``: the wheel the release publishes for every other platform."""
    _require_build_tools()
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the version comes from git")
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)]
    done = subprocess.run(
        [*build, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PENSTOCK_PURE": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if n.endswith((".so", ".pyd", ".c"))]


def test_the_installed_modules_load(installed: Installed) -> None:
    """The C modules in the wheel import in the user's virtualenv, outside the checkout."""
    code = (
        "import penstock._observed._scan as s, penstock.propagation._wire as w;"
        "print(s.scan.__doc__.splitlines()[0]); print(w.read_metadata.__doc__.splitlines()[0])"
    )
    done = installed.run("python", "-c", code)
    if done.returncode != 0 and "No module named 'penstock." in done.stderr:
        if os.environ.get("CI") == "true":
            pytest.fail(done.stderr)
        pytest.skip("the wheel was built without the C modules")
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith("Count the plain step records"), first
    assert second.startswith("The entry of the run a call's metadata carries"), second


def test_sdist_rebuilds_without_local_leftovers(built: Built) -> None:
    """The sdist has the sources, tests and version, and no virtualenv, site or npm folder."""
    with tarfile.open(built.sdist) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    assert "pyproject.toml" in names
    assert "penstock/_build_version.py" in names
    assert "PKG-INFO" in names
    for junk in (".venv/", "site/", "tools/node_modules/", ".git/", "dist/"):
        assert not [n for n in names if n.startswith(junk)], junk


def test_twine_accepts_both(built: Built) -> None:
    """`twine check --strict` finds the metadata and the README renderable on the index."""
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built.wheel), str(built.sdist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_version_is_the_built_one(installed: Installed) -> None:
    """`penstock --version` in the user's virtualenv prints the version in the wheel's name."""
    done = installed.run("penstock", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"penstock {installed.built.version}\n"


def _readme_block(lang: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"```{lang}[^\n]*\n(.*?)```", text, re.S)
    assert found, f"README has no {lang} block"
    return found[1]


def test_readme_quickstart_runs(installed: Installed) -> None:
    """The README's Python quickstart, saved as a file, prints the Mermaid diagram."""
    script = installed.home / "quickstart.py"
    script.write_text(_readme_block("python"), encoding="utf-8")
    done = installed.run("python", str(script))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("graph TD\n")
    assert "handle_kafka_message --> sync_reference" in done.stdout
    assert str(ROOT) not in done.stdout + done.stderr


@pytest.fixture(scope="module")
def example_project(installed: Installed) -> Path:
    """The example service with the README's [tool.penstock] table, outside the checkout."""
    project = installed.home / "project"
    shutil.copytree(
        ROOT / "examples", project / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "pyproject.toml").write_text(_readme_block("toml"), encoding="utf-8")
    return project


def test_check_passes_on_the_example(installed: Installed, example_project: Path) -> None:
    """`penstock check` imports the example's modules from the table and finds no problem."""
    done = installed.run("penstock", "check", cwd=example_project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout + done.stderr == "ok: 1 flow(s), no problems\n"
    listed = installed.run("penstock", "list", cwd=example_project)
    assert listed.stdout.split()[:3] == ["bom_sync", "6", "steps"]


SITE_CONFIG = """\
site_name: Orders
theme:
  name: material
plugins:
  - search
  - penstock
nav:
  - Home: index.md
  - The flow: flow.md
"""

FLOW_PAGE = """\
# The flow

::: penstock-flow bom_sync
    direction: LR
    show_docs: true
"""


def test_mkdocs_strict_build_draws_the_flow(installed: Installed, example_project: Path) -> None:
    """A two-page site with the directive builds with --strict and serves Mermaid itself."""
    (example_project / "mkdocs.yml").write_text(SITE_CONFIG, encoding="utf-8")
    docs = example_project / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Orders\n\nSee [the flow](flow.md).\n", encoding="utf-8")
    (docs / "flow.md").write_text(FLOW_PAGE, encoding="utf-8")
    done = installed.run("mkdocs", "build", "--strict", cwd=example_project)
    assert done.returncode == 0, done.stdout + done.stderr
    page = (example_project / "site" / "flow" / "index.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in page
    assert "handle_kafka_message --&gt; sync_reference" in page or (
        "handle_kafka_message --> sync_reference" in page
    )
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert any("mermaid.min.js" in s for s in scripts), scripts
    assert not [s for s in scripts if s.startswith(("http://", "https://"))], scripts
    shipped = list((example_project / "site").rglob("mermaid.min.js"))
    assert shipped, "the Mermaid penstock ships was not copied into the site"
