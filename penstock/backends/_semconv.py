"""The OpenTelemetry semantic conventions the otel backend follows: code attributes and span kinds.

Attribute names are the conventions' own (the tests compare them with
``opentelemetry-semantic-conventions``, whose deprecated names live only in a private module
penstock does not import): the stable ``code.function.name`` (fully qualified),
``code.file.path`` and ``code.line.number`` by default; the deprecated ``code.function``
(qualified name), ``code.namespace`` (module), ``code.filepath`` and ``code.lineno`` for
dashboards that still read them, or both. The choice: the backend's ``code_attributes``
option, else ``OTEL_SEMCONV_STABILITY_OPT_IN`` (``code``: stable, ``code/dup``: both, as
OpenTelemetry's instrumentations read it), else stable.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from opentelemetry.trace import SpanKind

__all__ = ["CodeAttributes", "code_attributes", "code_mode", "span_kind"]

#: Which code attribute names spans carry.
CodeAttributes = Literal["stable", "deprecated", "both"]
_MODES = ("stable", "deprecated", "both")

#: The span kind of the first step of a run continued from another process, by the hop's kind.
_KINDS = {"consumer": SpanKind.CONSUMER, "server": SpanKind.SERVER}


def code_mode(option: str | None = None) -> CodeAttributes:
    """The code attribute names to emit: ``option`` if given, else from the environment.

    Raises:
        BackendError: ``option`` is not one of ``"stable"``, ``"deprecated"``, ``"both"``.
    """
    if option is not None:
        if option not in _MODES:
            from penstock._errors import BackendError
            from penstock._suggest import did_you_mean

            raise BackendError(
                f"otel backend option code_attributes={option!r}: expected one of "
                f"{', '.join(map(repr, _MODES))}" + did_you_mean(option, _MODES)
            )
        return option  # type: ignore[return-value]
    opt_in = {v.strip() for v in os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "").split(",")}
    return "both" if "code/dup" in opt_in else "stable"


def code_attributes(
    qualname: str, module: str, file: str, line: int, mode: CodeAttributes
) -> dict[str, Any]:
    """The code attributes of a function defined at ``file``:``line``, named per ``mode``."""
    attributes: dict[str, Any] = {}
    if mode != "deprecated":
        attributes["code.function.name"] = f"{module}.{qualname}" if module else qualname
        attributes["code.file.path"] = file
        attributes["code.line.number"] = line
    if mode != "stable":
        attributes["code.function"] = qualname
        attributes["code.namespace"] = module
        attributes["code.filepath"] = file
        attributes["code.lineno"] = line
    return attributes


def span_kind(hop: str | None) -> SpanKind:
    """The span kind of a step that starts a continued run over a hop of kind ``hop``."""
    return _KINDS.get(hop or "", SpanKind.INTERNAL)
