"""Where a function is defined: the ``file:line`` every definition error names."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["source_location"]


def source_location(func: Callable[..., Any]) -> tuple[str, int]:
    """Return ``(file, line)`` of a callable, as cheaply as possible."""
    target: Any = func
    for _ in range(100):  # follow __wrapped__ like inspect.unwrap, without importing inspect
        inner = getattr(target, "__wrapped__", None)
        if inner is None:
            break
        target = inner
    code = getattr(target, "__code__", None)
    if code is not None:
        return code.co_filename, code.co_firstlineno
    import inspect

    try:
        file = inspect.getsourcefile(target) or inspect.getfile(target)
        _, line = inspect.getsourcelines(target)
    except (TypeError, OSError):
        return "<unknown>", 0
    return file, line
