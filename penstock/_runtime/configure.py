"""``configure()`` and ``reset()``: the public way to choose the recording backend.

The choice is kept by `penstock._runtime.selection`; "auto" and "otel" are resolved at the first
run (see there). This module installs what is decided now into the run state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from penstock._errors import BackendError
from penstock._runtime import lifecycle, selection

if TYPE_CHECKING:
    from penstock._runtime.backend import Backend

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


def _install(choice: Any, options: dict[str, Any], backend: Any = None) -> None:
    lifecycle.install(selection.set_choice(choice, options, backend))
