"""``configure()`` and ``reset()``: the public way to choose the recording backend.

The choice is kept by `penstock._runtime.selection`; "auto" and "otel" are resolved at the first
run (see there). This module installs what is decided now into the run state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from penstock._errors import BackendError
from penstock._runtime import lifecycle, selection
from penstock._runtime.active import Active

if TYPE_CHECKING:
    from penstock._runtime.backend import Backend

__all__ = ["available_backends", "configure", "configured", "reset"]

available_backends = selection.available_backends


def configure(backend: str | Backend = "auto", **options: Any) -> None:
    """Choose how step calls are recorded.

    Args:
        backend: ``"auto"`` (OpenTelemetry when an SDK tracer provider is installed globally at
            the first run, structured logging otherwise), ``"logging"``, ``"otel"``,
            ``"noop"``, the name of a backend registered under the ``penstock.backends`` entry
            point group, or a backend object (see `penstock.backends`).
        **options: keyword arguments for the named backend's constructor, e.g.
            ``format="logfmt"`` for ``"logging"``, ``tracer_provider=...`` for ``"otel"``.
            ``output="json"`` or ``output="off"`` (``"auto"``, ``"logging"`` and
            ``"otel"``) changes what is printed on standard error while the application has
            configured no logging: by default one logfmt line per finished step (also set by
            the ``PENSTOCK_OUTPUT`` environment variable).

    Raises:
        BackendError: the name is unknown (the message lists the available ones), options are
            given with a backend object, or the backend rejects an option.
    """
    with selection.lock:
        if isinstance(backend, str):
            name = backend.strip().lower()
            if name == "auto":
                extra = sorted(set(options) - {"output"})
                if extra:
                    raise BackendError(
                        f"backend 'auto' takes no options but output (got {extra}); "
                        "name the backend the options are for"
                    )
                selection.check_output(options)
                _install("auto", dict(options))
                return
            # Validate the name now, so a typo fails at configure time, not at the first run.
            selection.backend_class(name)
            if name == "otel":
                # Decided at the first run: the SDK provider may be installed after this call.
                selection.check_output(options)
                selection.check_options(name, {k: v for k, v in options.items() if k != "output"})
                _install(name, dict(options))
                return
            _install(name, dict(options), selection.make(name, options))
        else:
            if options:
                raise BackendError(
                    f"options {sorted(options)} only apply to a backend chosen by name; "
                    f"configure {backend!r} before passing it"
                )
            selection.validate_backend(backend)
            _install(backend, {}, backend)


def reset() -> None:
    """Forget the configuration and everything recorded in this process (for tests)."""
    with selection.lock:
        _install(None, {})
    lifecycle.reset_state()


@contextmanager
def configured(backend: Backend) -> Iterator[None]:
    """``configure(backend)`` while the block runs; then the configuration before it, as it was.

    The backend recording before the block is neither closed nor made anew: it records again
    after the block (its handlers, its provider untouched), and a choice still to be decided
    at the first run ("auto", "otel") is still to be decided. Run state (observed edges,
    drift reports) is left alone.
    """
    selection.validate_backend(backend)
    with selection.lock:
        saved = selection.save()
        before = (lifecycle.ACTIVE, lifecycle.RECHECK)
        # Not set_choice: it would close the backend being replaced.
        selection.restore((backend, {}, [*saved[2], backend], saved[3]))
        lifecycle.install(Active(backend))
    try:
        yield
    finally:
        with selection.lock:
            selection.restore(saved)
            lifecycle.install(*before)


def _install(choice: Any, options: dict[str, Any], backend: Any = None) -> None:
    lifecycle.install(selection.set_choice(choice, options, backend))
