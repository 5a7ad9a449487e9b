"""``configure()`` and ``reset()``: the public way to choose the recording backend.

The choice is kept by `penstock._runtime.selection`; "auto" and "otel" are resolved at the first
run (see there). This module installs what is decided now into the run state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from penstock._errors import BackendError
from penstock._runtime import lifecycle, selection

if TYPE_CHECKING:
    from penstock.backends import Backend

__all__ = ["available_backends", "configure", "reset"]

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
            ``"logging"`` defaults to ``format="auto"``: when neither the ``penstock`` logger
            nor the root logger has a handler, it installs one printing a logfmt line per
            step on standard error.

    Raises:
        BackendError: the name is unknown (the message lists the available ones), options are
            given with a backend object, or the backend rejects an option.
    """
    with selection.lock:
        if isinstance(backend, str):
            name = backend.strip().lower()
            if name == "auto":
                if options:
                    raise BackendError(
                        f"backend 'auto' takes no options (got {sorted(options)}); "
                        "name the backend the options are for"
                    )
                _install("auto", {})
                return
            # Validate the name now, so a typo fails at configure time, not at the first run.
            selection.backend_class(name)
            if name == "otel":
                # Decided at the first run: the SDK provider may be installed after this call.
                selection.check_options(name, options)
                _install(name, dict(options))
                return
            if name == "logging":
                # An explicit choice of logging in a program that configured none gets
                # readable lines on stderr; configured logging is left alone.
                options.setdefault("format", "auto")
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


def _install(choice: Any, options: dict[str, Any], backend: Any = None) -> None:
    lifecycle.install(selection.set_choice(choice, options, backend))
