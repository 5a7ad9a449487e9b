"""Load the flows of one version of a project: a git revision, the working tree, or a dump file.

A revision is checked out in a temporary ``git worktree add --detach`` (the user's working tree,
index and HEAD are never touched, and the checkout is always removed) and dumped by a separate
Python process: its modules share names with the current ones, so they cannot be imported into
this process. That process reads the revision's own configuration (``[tool.penstock]`` in its
``pyproject.toml``) unless modules were given on the command line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from penstock._errors import DiffError, RevisionError
from penstock._graph.dump import read_dump_document
from penstock._graph.model import FlowGraph
from penstock._suggest import did_you_mean

__all__ = [
    "DEFAULT_TIMEOUT",
    "WORKING_TREE",
    "Interrupted",
    "LoadedVersion",
    "load_version",
    "load_versions",
    "resolve_commit",
    "worker_dump",
]

#: How reports name the working tree (the default ``NEW``).
WORKING_TREE = "working tree"
#: Seconds a version may take to load (check out, import, dump) before it is given up.
DEFAULT_TIMEOUT = 300.0
#: Signals that end a comparison cleanly: CI cancelling a job sends SIGTERM, a closed
#: terminal SIGHUP, Ctrl-C SIGINT.
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(BaseException):
    """A signal stopped the comparison (raised after the checkout and children are cleaned up).

    A `BaseException`, like `KeyboardInterrupt`, so no ``except Exception`` on the way up
    swallows it.

    Attributes:
        signum: the signal's number.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextmanager
def _signals_end_cleanly() -> Iterator[None]:
    """Turn SIGTERM, SIGINT and SIGHUP into `Interrupted` while a comparison runs.

    The exception unwinds the stack, so every child is killed and every checkout and temporary
    folder removed on the way out. Further signals are ignored while that cleanup runs. Only
    the main thread can set handlers; elsewhere (a docs server's worker thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}

    def stop(signum: int, frame: object) -> None:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    for sig, handler in previous.items():
        # A signal the caller chose to ignore (nohup) stays ignored.
        if handler is not signal.SIG_IGN:
            signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


# The child process must import the installed penstock, not a folder of the checkout that
# happens to be called `penstock`: drop the current directory `-c` puts first on sys.path.
_WORKER = (
    "import os, sys; "
    "sys.path[:] = [p for p in sys.path if p not in ('', '.', os.getcwd())]; "
    "from penstock._versions.revisions import _worker; "
    "sys.exit(_worker(sys.argv[1:]))"
)


@dataclass(frozen=True)
class LoadedVersion:
    """One side of a comparison.

    Attributes:
        label: how reports name it: the revision as written (with its short commit id), the
            file name, or ``working tree``.
        flows: its flows by name, sorted.
        commit: the full commit id for a revision, else ``None``.
        bodies: fingerprints of its step functions by ``module.qualname`` (empty for a dump
            written without them).
    """

    label: str
    flows: dict[str, FlowGraph]
    commit: str | None = None
    bodies: dict[str, str] = field(default_factory=dict)


def load_version(
    spec: str | None,
    *,
    modules: Sequence[str] = (),
    paths: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    exclude: Sequence[str] = (),
    timeout: float | None = DEFAULT_TIMEOUT,
) -> LoadedVersion:
    """Load the flows ``spec`` names.

    Args:
        spec: a file written by ``penstock dump`` (or ``penstock dag FLOW -f json``), a git
            revision of the repository around ``cwd``, or ``None`` for the working tree.
        modules: modules to import (default: ``[tool.penstock] modules`` of that version).
        paths: folders to import from, relative to ``cwd`` (default: that version's
            ``[tool.penstock] paths``, else ``cwd``).
        cwd: the folder the command runs in (default: the current directory).
        exclude: globs of submodules a package's import skips (default: that version's
            ``[tool.penstock] exclude``).
        timeout: seconds the loading may take (``None``: no limit); then the loader is killed.

    Raises:
        DiffError: not a readable dump, not in a git repository, or over the timeout.
        RevisionError: unknown revision, or its modules fail to import (with the module and
            ``file:line``).
        Interrupted: SIGTERM, SIGINT or SIGHUP arrived (everything is cleaned up first).
    """
    return load_versions(
        [spec], modules=modules, paths=paths, cwd=cwd, exclude=exclude, timeout=timeout
    )[0]


def load_versions(
    specs: Sequence[str | None],
    *,
    modules: Sequence[str] = (),
    paths: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    exclude: Sequence[str] = (),
    timeout: float | None = DEFAULT_TIMEOUT,
) -> list[LoadedVersion]:
    """Load several versions (see `load_version`).

    Their modules are imported at the same time, by one process each; errors are raised in
    the order of ``specs``. ``timeout`` bounds the whole, from checkout to the last dump.
    """
    here = Path(cwd if cwd is not None else os.getcwd()).resolve()
    deadline = None if timeout is None else time.monotonic() + timeout
    with _signals_end_cleanly(), ExitStack() as stack:
        jobs = [_prepare(spec, here, modules, paths, exclude, stack) for spec in specs]
        for job in jobs:
            if isinstance(job, _Job):
                job.start(stack)
        outcomes: list[LoadedVersion | DiffError] = []
        for job in jobs:
            if isinstance(job, LoadedVersion):
                outcomes.append(job)
                continue
            try:
                outcomes.append(job.finish(deadline, timeout))
            except DiffError as exc:
                outcomes.append(exc)
    loaded = []
    for outcome in outcomes:
        if isinstance(outcome, DiffError):
            raise outcome
        loaded.append(outcome)
    return loaded


def _prepare(
    spec: str | None,
    here: Path,
    modules: Sequence[str],
    paths: Sequence[str],
    exclude: Sequence[str],
    stack: ExitStack,
) -> LoadedVersion | _Job:
    """A dump file read, or a process to start in the working tree or a revision's checkout.

    The checkout is made now, and removed when ``stack`` closes.
    """
    if spec is None:
        return _Job(WORKING_TREE, here, modules, paths, exclude, tree_root=None)
    as_file = here / spec
    if as_file.is_file():
        try:
            text = as_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DiffError(f"cannot read dump file {spec}: {exc}") from None
        dump = read_dump_document(text, spec)
        return LoadedVersion(spec, dump.flows, bodies=dump.bodies)
    top = _toplevel(here, spec)
    commit = _resolve(top, spec)
    label = spec if commit.startswith(spec) else f"{spec} ({commit[:12]})"
    tree = stack.enter_context(_checkout(top, commit, spec))
    sub = tree / here.relative_to(top)
    if not sub.is_dir():
        rel = here.relative_to(top).as_posix()
        raise RevisionError(spec, f"revision {spec!r} has no folder {rel!r} to run in")
    moved = [_into_tree(p, here, top, tree) for p in paths]
    return _Job(label, sub, modules, moved, exclude, tree_root=tree, revision=spec, commit=commit)


def resolve_commit(revision: str, cwd: str | os.PathLike[str]) -> str:
    """The full commit id ``revision`` names in the git repository around ``cwd``.

    Raises:
        DiffError: not inside a git repository.
        RevisionError: no such revision (with a did-you-mean among branches and tags).
    """
    here = Path(cwd).resolve()
    return _resolve(_toplevel(here, revision), revision)


# --- git ---------------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
        )
    except FileNotFoundError:
        raise DiffError(
            "git is needed to compare revisions and was not found on PATH; "
            "compare dump files written by `penstock dump -o FILE` instead"
        ) from None


def _toplevel(here: Path, spec: str) -> Path:
    out = _git(["rev-parse", "--show-toplevel"], here)
    if out.returncode != 0:
        raise DiffError(
            f"{spec!r} is not a file, and {here} is not inside a git repository to read it "
            "as a revision from"
        )
    return Path(out.stdout.strip()).resolve()


def _resolve(top: Path, spec: str) -> str:
    if spec.startswith("-"):
        raise RevisionError(spec, f"{spec!r} is not a file or a git revision")
    # Resolved first, peeled to its commit second: `^{commit}` appended to `:/fix the bug`
    # would become part of the message searched for.
    out = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", spec], top)
    if out.returncode == 0:
        peeled = _git(["rev-parse", "--verify", "--quiet", f"{out.stdout.strip()}^{{commit}}"], top)
        if peeled.returncode == 0:
            return peeled.stdout.strip()
        raise RevisionError(spec, f"{spec!r} names a git object that is not a commit")
    refs = _git(["for-each-ref", "--format=%(refname:short)"], top).stdout.split()
    hint = did_you_mean(spec, refs)
    if _git(["rev-parse", "--is-shallow-repository"], top).stdout.strip() == "true":
        hint += (
            " (this is a shallow clone: fetch the revision first, e.g. `git fetch --unshallow`, "
            "or `fetch-depth: 0` with actions/checkout)"
        )
    raise RevisionError(
        spec, f"{spec!r} is neither a file nor a revision of the git repository at {top}{hint}"
    )


@contextmanager
def _checkout(top: Path, commit: str, spec: str) -> Iterator[Path]:
    """A detached worktree of ``commit`` in a temporary folder, removed afterwards."""
    holder = Path(tempfile.mkdtemp(prefix="penstock-diff-"))
    tree = holder / "tree"
    try:
        # Hooks off: a post-checkout hook is the user's, meant for their own checkouts.
        hooks_off = ["-c", f"core.hooksPath={os.devnull}"]
        out = _git([*hooks_off, "worktree", "add", "--detach", "--quiet", str(tree), commit], top)
        if out.returncode != 0:
            raise RevisionError(
                spec, f"cannot check out revision {spec!r}: {out.stderr.strip() or out.stdout}"
            )
        yield tree
    finally:
        if tree.exists():
            _git(["worktree", "remove", "--force", str(tree)], top)
        shutil.rmtree(holder, ignore_errors=True)
        _git(["worktree", "prune"], top)


def _into_tree(path: str, here: Path, top: Path, tree: Path) -> str:
    """A ``--path`` folder of the user's checkout, as the same folder of the revision's."""
    absolute = (here / path).resolve()
    try:
        return str(tree / absolute.relative_to(top))
    except ValueError:
        return str(absolute)  # outside the repository: the same folder for every revision


# --- the child process ---------------------------------------------------------------------


class _Job:
    """One child process dumping the flows of a folder (``_worker``)."""

    def __init__(
        self,
        label: str,
        folder: Path,
        modules: Sequence[str],
        paths: Sequence[str],
        exclude: Sequence[str],
        *,
        tree_root: Path | None,
        revision: str | None = None,
        commit: str | None = None,
    ) -> None:
        self.label = label
        self.folder = folder
        self.modules = list(modules)
        self.paths = [str((folder / p).resolve()) for p in paths]
        self.exclude = list(exclude)
        self.tree_root = tree_root
        self.revision = revision
        self.commit = commit
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp = Path()

    def start(self, stack: ExitStack) -> None:
        """Start the process; its files live in a temporary folder closed with ``stack``."""
        self.tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="penstock-dump-")))
        request = {
            "result": str(self.tmp / "result.json"),
            "modules": self.modules,
            "paths": self.paths,
            "exclude": self.exclude,
            "root": str(self.tree_root or self.folder),
        }
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        # Output goes to files, not pipes: two children never wait on each other's pipe.
        # Its own session: a module that starts processes of its own is stopped with it, and
        # a Ctrl-C in the terminal reaches only this process, which then cleans up.
        with (self.tmp / "out.txt").open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER, json.dumps(request)],
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=hasattr(os, "killpg"),
            )
        stack.callback(self._stop)

    def _stop(self) -> None:
        # Runs before the checkout is removed: never leave a child importing from it.
        proc = self.proc
        if proc is None:
            return
        if hasattr(os, "killpg"):
            with suppress(ProcessLookupError, PermissionError):  # already gone
                os.killpg(proc.pid, signal.SIGKILL)  # the child and whatever it started
        elif proc.poll() is None:
            proc.kill()
        proc.wait()

    def finish(self, deadline: float | None = None, timeout: float | None = None) -> LoadedVersion:
        """Wait for the process; its flows, or the error naming the module and line.

        Raises:
            DiffError: the process did not finish by ``deadline`` (``time.monotonic()``).
        """
        assert self.proc is not None
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            status = self.proc.wait(left)
        except subprocess.TimeoutExpired:
            name = self.label if self.revision is None else f"revision {self.label}"
            raise DiffError(
                f"{name}: loading its flows took longer than {timeout:g} s (--timeout), and "
                "was stopped: does a module loop, or wait for a network or a lock, when "
                "imported?"
            ) from None
        try:
            answer = json.loads((self.tmp / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            output = (self.tmp / "out.txt").read_text(encoding="utf-8", errors="replace")
            tail = "\n".join(output.strip().splitlines()[-15:])
            raise DiffError(
                f"could not load the flows of {self.label} (exit status {status}):\n{tail}"
            ) from None
        if answer.get("ok"):
            dump = read_dump_document(json.dumps(answer["dump"]), self.label)
            return LoadedVersion(self.label, dump.flows, self.commit, dump.bodies)
        module, location = answer.get("module"), answer.get("location")
        where = f" ({location})" if location else ""
        what = f"could not import module {module!r}{where}" if module else "could not load flows"
        revision = self.revision
        name = (
            self.label
            if revision is None
            else f"revision {revision!r}{self.label[len(revision) :]}"
        )
        message = f"{name}: {what}: {answer.get('error')}"
        if answer.get("traceback"):
            message += "\n" + str(answer["traceback"]).rstrip()
        if revision is not None:
            raise RevisionError(revision, message, module=module, location=location)
        raise DiffError(message)


def _worker(argv: Sequence[str]) -> int:
    """The child process: import the modules, write the dump (or the failure) as JSON."""
    request = json.loads(argv[0])
    result = Path(request["result"])
    root = Path(request["root"])
    here = Path.cwd()
    try:
        answer = worker_dump(
            request["modules"], request["paths"], here, root, exclude=request["exclude"]
        )
    except DiffError as exc:
        answer = {"ok": False, "error": str(exc)}
    result.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
    return 0 if answer.get("ok") else 1


def worker_dump(
    modules: Sequence[str],
    paths: Sequence[str],
    here: Path,
    root: Path,
    exclude: Sequence[str] = (),
) -> dict[str, Any]:
    """Import the modules as the ``penstock`` command does, and dump every flow.

    The modules, folders and excluded submodules come from ``modules``/``paths``/``exclude``,
    else from the ``[tool.penstock]`` found from ``here`` (the same rules as every other
    command).

    Returns ``{"ok": True, "dump": DOCUMENT}``, or ``{"ok": False, "error": ..., "module":
    ..., "location": "file:line" (relative to ``root``), "traceback": ...}`` when a module
    fails to import or none is configured. Step files are written relative to ``here``.
    """
    from penstock._errors import PenstockError
    from penstock._graph.bodies import step_bodies
    from penstock._graph.dump import dump_document
    from penstock._graph.model import flows
    from penstock._project.config import module_sources
    from penstock._project.modules import ModuleImportError, import_modules

    try:
        sources = module_sources(
            modules,
            paths,
            start=here,
            settings=("-m MODULE", "--path DIR"),
            fallback_folders=[here],
            exclude=exclude,
        )
    except PenstockError as exc:  # an invalid [tool.penstock]
        return {"ok": False, "error": _relative_text(str(exc), root)}
    if not sources.modules and not flows():
        return {
            "ok": False,
            "error": "no modules to import: pass -m MODULE, or list them as "
            "`modules` under [tool.penstock] in pyproject.toml",
        }
    failures: list[ModuleImportError] = []
    import_modules(
        sources.modules,
        sources.folders,
        failures=failures,
        paths_setting=sources.paths_setting,
        exclude=sources.exclude,
    )
    if failures:
        first = failures[0]
        details = _relative_text(first.details, root)
        lines = [line for line in details.splitlines() if line.strip()]
        return {
            "ok": False,
            "module": first.module,
            "location": _relative_location(first.location, root),
            "error": lines[-1].strip() if lines else "import failed",
            "traceback": details,
        }
    graphs = flows().values()
    return {"ok": True, "dump": dump_document(graphs, root=here, bodies=step_bodies())}


def _relative_text(text: str, root: Path) -> str:
    # Paths inside a temporary checkout mean nothing once it is gone: show them from its root.
    return text.replace(str(root) + os.sep, "")


def _relative_location(location: str | None, root: Path) -> str | None:
    if location is None:
        return None
    file, _, line = location.rpartition(":")
    return f"{_relative(file, root)}:{line}" if file else location


def _relative(file: str, root: Path) -> str:
    try:
        return Path(file).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return file
