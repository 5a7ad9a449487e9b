"""What a step's function does, as a short fingerprint that ignores its name and its place.

`penstock diff` pairs a removed and an added step as a *probable rename* only when their
functions have the same fingerprint (and the same edges): a step replaced by another one at the
same place (a ``fax`` step that became ``email``) is a replacement, not a rename, and must stay
one, or a removal that still carries traffic would hide behind it.

The fingerprint hashes the bytecode, constants and names the body uses (never the function's
own name, file or line), with the interpreter's cache tag: dumps made by another Python version
never match, which only means no probable renames are suggested between them. A body of a few
instructions (``pass``, ``return order``) gets none: a stub replaced by another stub at the same
place says nothing about a rename.
"""

from __future__ import annotations

import dis
import hashlib
import inspect
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

from penstock._declared.registry import REGISTRY

__all__ = ["MIN_INSTRUCTIONS", "body_fingerprint", "step_bodies"]

#: Fewer instructions than this and a body is too small to recognise (``pass`` has 3).
MIN_INSTRUCTIONS = 6


def body_fingerprint(func: Callable[..., Any]) -> str | None:
    """A 16-hex-digit fingerprint of ``func``'s body, or ``None`` when it has no Python code."""
    code = getattr(inspect.unwrap(func), "__code__", None)
    if not isinstance(code, CodeType):
        return None
    if sum(1 for _ in dis.get_instructions(code)) < MIN_INSTRUCTIONS:
        return None
    digest = hashlib.sha256(str(sys.implementation.cache_tag).encode())
    _feed(digest, code)
    return digest.hexdigest()[:16]


def step_bodies() -> dict[str, str]:
    """``module.qualname`` -> fingerprint of every registered step function (sorted)."""
    out: dict[str, str] = {}
    for spec in REGISTRY.all():
        found = body_fingerprint(spec.func)
        if found is not None:
            out[f"{spec.module}.{spec.qualname}"] = found
    return dict(sorted(out.items()))


def _feed(digest: Any, code: CodeType) -> None:
    digest.update(code.co_code)
    digest.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _feed(digest, const)  # nested functions and comprehensions, without their names
        else:
            digest.update(repr(const).encode())
