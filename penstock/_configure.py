"""Choosing the recording backend: ``configure()``, ``reset()``, and resolution at first run.

``"auto"`` (the default) and ``"otel"`` are decided when the first step runs, not at import or
configure time, so "configure penstock, then install the SDK tracer provider" works.
"""

from __future__ import annotations

import os
import sys
from threading import RLock
from typing import TYPE_CHECKING, Any

from penstock import _runtime
from penstock._errors import BackendError
from penstock._runtime import Active

if TYPE_CHECKING:
    from penstock.backends import Backend

__all__ = ["configure", "reset"]

#: Built-in backend names -> (module, class).
BUILTIN: dict[str, tuple[str, str]] = {
    "logging": ("penstock.backends.logging", "LoggingBackend"),
    "noop": ("penstock.backends.noop", "NoopBackend"),
    "otel": ("penstock.backends.otel", "OtelBackend"),
    "recording": ("penstock.testing", "RecordingBackend"),
}
ENTRY_POINT_GROUP = "penstock.backends"

_lock = RLock()
#: What configure() asked for: None means "PENSTOCK_BACKEND, else auto".
_choice: str | Backend | None = None
_options: dict[str, Any] = {}
#: Backend objects made by penstock (closed when replaced).
_owned: list[Any] = []
_warned_fallback = False


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
    with _lock:
        if isinstance(backend, str):
            name = backend.strip().lower()
            if name == "auto":
                if options:
                    raise BackendError(
                        f"backend 'auto' takes no options (got {sorted(options)}); "
                        "name the backend the options are for"
                    )
                _install(None, "auto", {})
                return
            # Validate the name now, so a typo fails at configure time, not at the first run.
            _backend_class(name)
            if name == "otel":
                # Decided at the first run: the SDK provider may be installed after this call.
                _check_options(name, options)
                _install(None, name, dict(options))
                return
            if name == "logging":
                # An explicit choice of logging in a program that configured none gets
                # readable lines on stderr; configured logging is left alone.
                options.setdefault("format", "auto")
            _install(_make(name, options), name, dict(options))
        else:
            if options:
                raise BackendError(
                    f"options {sorted(options)} only apply to a backend chosen by name; "
                    f"configure {backend!r} before passing it"
                )
            if not _looks_like_backend(backend):
                raise BackendError(
                    f"{backend!r} is not a penstock backend: it needs the hooks on_start, "
                    "on_enter, on_exit and on_end (subclass penstock.backends.BaseBackend)"
                )
            _install(backend, backend, {})


def reset() -> None:
    """Forget the configuration and everything recorded in this process (for tests)."""
    global _warned_fallback
    with _lock:
        _install(None, None, {})
        _warned_fallback = False
    _runtime.reset_state()


def available_backends() -> list[str]:
    """Names ``configure()`` accepts: the built-in ones and registered entry points."""
    return sorted({"auto", *BUILTIN, *_entry_points()})


def resolve() -> Active:
    """Decide the backend at the first run (called by the runtime when none is active)."""
    with _lock:
        active = _runtime.ACTIVE
        if active is not None:
            return active
        choice = _choice
        options = _options
        if choice is None:
            choice = _from_environment()
        if not isinstance(choice, str):
            return _activate(choice)
        if choice == "auto":
            name = "otel" if _sdk_provider_installed(import_otel=False) else "logging"
            return _activate(_make(name, {}))
        if choice == "otel":
            if options.get("tracer_provider") is not None or _sdk_provider_installed(True):
                return _activate(_make("otel", options))
            _warn_fallback()
            active = _activate(_make("logging", {}))
            _runtime.RECHECK = _recheck_otel
            return active
        return _activate(_make(choice, options))


def _recheck_otel() -> Active:
    """While "otel" falls back to logging: switch as soon as an SDK provider is installed."""
    if _sdk_provider_installed(True):
        with _lock:
            if _runtime.RECHECK is _recheck_otel:
                _runtime.RECHECK = None
                _activate(_make("otel", _options))
    active = _runtime.ACTIVE
    assert active is not None
    return active


def _install(backend: Any, choice: str | Backend | None, options: dict[str, Any]) -> None:
    global _choice, _options
    for old in _owned:
        if old is not backend:
            _close(old)
    _owned.clear()
    _choice = choice
    _options = options
    _runtime.RECHECK = None
    if backend is None:
        _runtime.ACTIVE = None
    else:
        _activate(backend)


def _activate(backend: Any) -> Active:
    active = Active(backend)
    if backend not in _owned:
        _owned.append(backend)
    _runtime.ACTIVE = active
    return active


def _close(backend: Any) -> None:
    close = getattr(backend, "close", None)
    if close is not None:
        try:
            close()
        except Exception as exc:
            _runtime.hook_failed(backend, "close", exc)


def _make(name: str, options: dict[str, Any]) -> Any:
    factory = _backend_class(name)
    if not isinstance(factory, type) and not callable(factory):
        if options:
            raise BackendError(f"backend {name!r} is an object and takes no options")
        return factory
    try:
        return factory(**options)
    except TypeError as exc:
        raise BackendError(
            f"backend {name!r} rejected the options {sorted(options)}: {exc}"
        ) from exc


def _check_options(name: str, options: dict[str, Any]) -> None:
    import inspect

    params = inspect.signature(_backend_class(name)).parameters
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise BackendError(
            f"backend {name!r} has no option {unknown[0]!r}; its options are "
            f"{', '.join(sorted(params)) or 'none'}"
        )


def _backend_class(name: str) -> Any:
    if name in BUILTIN:
        import importlib

        module, attr = BUILTIN[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise BackendError(
                f"backend {name!r} cannot be loaded: {exc}; install what it needs "
                "(the otel backend needs opentelemetry-api: pip install 'penstock[otel]')"
            ) from exc
    eps = _entry_points()
    if name in eps:
        try:
            return eps[name].load()
        except Exception as exc:
            raise BackendError(
                f"backend {name!r} (entry point {eps[name].value!r} in group "
                f"{ENTRY_POINT_GROUP!r}) cannot be loaded: {exc}"
            ) from exc
    from penstock._suggest import did_you_mean

    known = available_backends()
    raise BackendError(
        f"unknown penstock backend {name!r}{did_you_mean(name, known)} "
        f"Available backends: {', '.join(known)}."
    )


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _looks_like_backend(obj: object) -> bool:
    return all(
        callable(getattr(obj, h, None)) for h in ("on_start", "on_enter", "on_exit", "on_end")
    )


def _from_environment() -> str:
    raw = os.environ.get("PENSTOCK_BACKEND", "").strip().lower()
    if not raw:
        return "auto"
    try:
        if raw != "auto":
            _backend_class(raw)
    except BackendError as exc:
        # Raising here would break the application's first step: log, and use "auto".
        import logging

        logging.getLogger("penstock").error("PENSTOCK_BACKEND: %s Using 'auto'.", exc)
        return "auto"
    return raw


def _sdk_provider_installed(import_otel: bool) -> bool:
    """Whether a real (non-proxy, non-no-op) tracer provider is installed globally."""
    if not import_otel and "opentelemetry.sdk.trace" not in sys.modules:
        return False
    trace: Any = sys.modules.get("opentelemetry.trace")
    if trace is None:
        if not import_otel:
            return False
        import opentelemetry.trace

        trace = opentelemetry.trace
    provider = trace.get_tracer_provider()
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def _warn_fallback() -> None:
    global _warned_fallback
    if _warned_fallback:
        return
    _warned_fallback = True
    import logging

    logging.getLogger("penstock").warning(
        "penstock backend 'otel' was chosen but no OpenTelemetry SDK tracer provider is "
        "installed: recording through the 'logging' backend until one is "
        "(call opentelemetry.trace.set_tracer_provider(TracerProvider(...)), or pass "
        "configure(backend='otel', tracer_provider=...))"
    )
