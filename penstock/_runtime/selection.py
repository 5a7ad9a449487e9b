"""Which backend records runs: the configured choice, and its resolution at the first run.

``"auto"`` (the default) and ``"otel"`` are decided when the first step runs, not at import or
configure time, so "configure penstock, then install the SDK tracer provider" works. Backends
are found by name (the built-in ones and the ``penstock.backends`` entry-point group) and
loaded on first use: nothing here imports a backend module at import time.
"""

from __future__ import annotations

import os
import sys

# _thread, not threading: the standard library documents it ("low-level threading API"),
# and threading would cost `import penstock` about a millisecond (tests/test_import_light.py).
from _thread import RLock

from penstock._errors import BackendError
from penstock._runtime.active import Active, hook_failed
from penstock._runtime.backend import HOOKS, REQUIRED_HOOKS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "OUTPUTS",
    "available_backends",
    "backend_class",
    "check_options",
    "check_output",
    "decide",
    "lock",
    "make",
    "restore",
    "save",
    "set_choice",
    "validate_backend",
]

#: Built-in backend names -> (module, class), loaded like entry points.
BUILTIN: dict[str, tuple[str, str]] = {
    "logging": ("penstock.backends.logging", "LoggingBackend"),
    "noop": ("penstock.backends.noop", "NoopBackend"),
    "otel": ("penstock.backends.otel", "OtelBackend"),
    "recording": ("penstock.testing", "RecordingBackend"),
}
ENTRY_POINT_GROUP = "penstock.backends"
#: What the logging backend prints while the application configured no logging (the values
#: of ``configure(output=...)`` and ``PENSTOCK_OUTPUT``).
OUTPUTS = ("logfmt", "json", "off")

lock = RLock()
#: What configure() asked for: None means "PENSTOCK_BACKEND, else auto".
_choice: Any = None
_options: dict[str, Any] = {}
#: Backend objects made by penstock (closed when replaced).
_owned: list[Any] = []
_warned_fallback = False


def set_choice(choice: Any, options: dict[str, Any], backend: Any = None) -> Active | None:
    """Remember what configure() chose; close the backends it replaces.

    Returns the `Active` for ``backend`` when one is given (installed now), else ``None``
    (decided at the first run).
    """
    global _choice, _options, _warned_fallback
    with lock:
        for old in _owned:
            if old is not backend:
                _close(old)
        _owned.clear()
        _choice = choice
        _options = options
        if choice is None:
            _warned_fallback = False
        return None if backend is None else _own(backend)


def save() -> tuple[Any, ...]:
    """What configure() chose and the backends it owns, for `restore` (nothing is closed)."""
    with lock:
        return (_choice, dict(_options), list(_owned), _warned_fallback)


def restore(saved: tuple[Any, ...]) -> None:
    """Go back to what `save` returned; backends owned since then and not before are closed."""
    global _choice, _options, _warned_fallback
    choice, options, owned, warned = saved
    with lock:
        for backend in _owned:
            if backend not in owned:
                _close(backend)
        _owned[:] = owned
        _choice, _options, _warned_fallback = choice, options, warned


def decide() -> tuple[Active, Callable[[], Active | None] | None]:
    """The backend for the first run, and, while "otel" waits for an SDK provider, a check.

    The check is called at each root step; it returns the otel `Active` once a provider is
    installed (and is then dropped), else ``None``.
    """
    with lock:
        choice = _choice
        options = _options
        if choice is None:
            choice = _from_environment()
        if not isinstance(choice, str):
            return _own(choice), None
        # configure(output=...) is for the logging backend, also when it stands in for otel.
        fallback = {k: v for k, v in options.items() if k == "output"}
        if choice == "auto":
            if _sdk_provider_installed(import_otel=False):
                return _own(make("otel", {})), None
            return _own(make("logging", fallback)), None
        if choice == "otel":
            otel = _without_output(options)
            if otel.get("tracer_provider") is not None or _sdk_provider_installed(True):
                return _own(make("otel", otel)), None
            _warn_fallback()
            return _own(make("logging", fallback)), _otel_when_ready
        return _own(make(choice, options)), None


def _otel_when_ready() -> Active | None:
    if not _sdk_provider_installed(True):
        return None
    with lock:
        return _own(make("otel", _without_output(_options)))


def _without_output(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k != "output"}


def check_output(options: dict[str, Any]) -> None:
    """Raise `BackendError` unless ``options["output"]`` (if given) is logfmt, json or off."""
    if "output" not in options:
        return
    value = options["output"]
    if not isinstance(value, str) or value.strip().lower() not in OUTPUTS:
        raise BackendError(f"output must be one of {', '.join(OUTPUTS)}, not {value!r}")


def _own(backend: Any) -> Active:
    active = Active(backend)
    if backend not in _owned:
        _owned.append(backend)
    return active


def _close(backend: Any) -> None:
    close = getattr(backend, "close", None)
    if close is not None:
        try:
            close()
        except Exception as exc:
            hook_failed(backend, "close", exc)


def make(name: str, options: dict[str, Any]) -> Any:
    """An instance of the backend ``name`` made with ``options``."""
    factory = backend_class(name)
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


def check_options(name: str, options: dict[str, Any]) -> None:
    """Raise `BackendError` for an option the backend's constructor does not take."""
    import inspect

    params = inspect.signature(backend_class(name)).parameters
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise BackendError(
            f"backend {name!r} has no option {unknown[0]!r}; its options are "
            f"{', '.join(sorted(params)) or 'none'}"
        )


def backend_class(name: str) -> Any:
    """The class (or object) registered as ``name``; `BackendError` naming the fix if none."""
    if name in BUILTIN:
        import importlib

        module, attr = BUILTIN[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise BackendError(
                f"backend {name!r} cannot be loaded: {exc}; install what it needs "
                "(the otel backend needs opentelemetry-api: pip install 'penstock-flows[otel]')"
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


def available_backends() -> list[str]:
    """Names ``configure()`` accepts: the built-in ones and registered entry points."""
    return sorted({"auto", *BUILTIN, *_entry_points()})


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def validate_backend(obj: object) -> None:
    """Raise `BackendError` unless ``obj`` has the step hooks, and no misspelt hook."""
    missing = [h for h in REQUIRED_HOOKS if not callable(getattr(obj, h, None))]
    if missing:
        raise BackendError(
            f"{obj!r} is not a penstock backend: it lacks {', '.join(missing)} "
            "(subclass penstock.backends.BaseBackend and override the hooks you need)"
        )
    from penstock._suggest import close_matches

    for attr in dir(type(obj)):
        if attr.startswith(("on_", "attach", "detach")) and attr not in HOOKS:
            near = close_matches(attr, HOOKS)
            if near:
                raise BackendError(
                    f"{type(obj).__name__}.{attr} is not a backend hook; did you mean "
                    f"{near[0]!r}? Hooks: {', '.join(HOOKS)}."
                )


def _from_environment() -> str:
    raw = os.environ.get("PENSTOCK_BACKEND", "").strip().lower()
    if not raw:
        return "auto"
    try:
        if raw != "auto":
            backend_class(raw)
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
