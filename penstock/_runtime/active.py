"""The resolved backend (`Active`): which of its hooks the hot path calls, and hook failures."""

from __future__ import annotations

from penstock._runtime.backend import BaseBackend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["IDLE", "SHAPED", "Active", "hook_failed", "reset_failures"]

#: Whether the runtime keeps run shapes (`penstock._runtime.lifecycle.keep_shapes`): then no
#: `Active` is bare, since the bare path keeps none. False in an application.
SHAPED = False


class Active:
    """The resolved backend and which of its hooks to call (hooks left as no-ops are skipped).

    Looked up once when the backend is installed, so a step call tests one attribute per hook
    instead of asking the backend.
    """

    __slots__ = (
        "adopt_otel",
        "attach_remote",
        "backend",
        "bare",
        "detach_remote",
        "enabled",
        "idle",
        "on_end",
        "on_enter",
        "on_exit",
        "on_start",
        "provides_ids",
        "timed",
    )

    def __init__(self, backend: Any) -> None:
        self.backend = backend

        def hook(name: str) -> Any:
            # A hook counts when it is not BaseBackend's no-op: a method of a subclass, or any
            # callable set on the instance (a C-level partial costs no Python frame per call).
            # A backend that does not subclass BaseBackend and lacks a hook doesn't override it.
            found = getattr(backend, name, None)
            if found is None or getattr(found, "__func__", None) is getattr(BaseBackend, name):
                return None
            return found

        self.on_start = hook("on_start")
        self.on_enter = hook("on_enter")
        self.on_exit = hook("on_exit")
        self.on_end = hook("on_end")
        own_hooks = any((self.on_start, self.on_enter, self.on_exit, self.on_end))
        self.attach_remote: Callable[..., Any] | None = hook("attach_remote")
        self.detach_remote: Callable[..., Any] | None = hook("detach_remote")
        self.provides_ids = bool(getattr(backend, "provides_ids", False))
        self.adopt_otel = bool(getattr(backend, "adopt_otel_trace", True)) and not self.provides_ids
        # A backend with no step hooks at all records nothing: skip the clock too.
        self.timed = bool(getattr(backend, "timed", True)) and own_hooks
        #: When it says no (a disabled logger), the call is tracked (ids, current step) but
        #: not recorded: the hot path then uses `idle`, this Active with every hook off.
        self.enabled: Callable[[], bool] | None = hook("enabled")
        self.idle: Active = self
        if self.enabled is not None:
            self.idle = _idle(backend)
        #: Nothing to call or time on a step call (the noop backend): the wrappers take a
        #: shorter path that only keeps the current step and what the edge rule reads.
        self.bare = not (
            self.on_start or self.on_enter or self.on_exit or self.on_end or self.enabled
        ) and not (self.timed or self.adopt_otel or SHAPED)

    def __repr__(self) -> str:
        return f"<Active {self.backend!r}>"


def _idle(backend: Any) -> Active:
    idle = Active.__new__(Active)
    for slot in Active.__slots__:
        setattr(idle, slot, None)
    idle.backend = backend
    idle.provides_ids = idle.adopt_otel = idle.timed = False
    idle.bare = True
    idle.idle = idle
    return idle


#: An Active with no backend and every hook off: what a remote parent carries.
IDLE = _idle(None)

_failed_hooks: set[tuple[int, str]] = set()


def hook_failed(backend: object, hook: str, exc: BaseException) -> None:
    """Log a backend's failure once per (backend, hook), with its traceback; never raise."""
    key = (id(backend), hook)
    if key in _failed_hooks:
        return
    _failed_hooks.add(key)
    try:
        import logging

        logging.getLogger("penstock").error(
            "penstock backend %r failed in %s; the step ran normally, this is logged once",
            backend,
            hook,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    except Exception:  # pragma: no cover - logging itself broken
        pass


def reset_failures() -> None:
    """Forget which hooks failed, so they are logged again (for tests)."""
    _failed_hooks.clear()
