"""Exception classes, one per phase, all under `PenstockError`."""

from __future__ import annotations

from penstock._suggest import suggestion

__all__ = [
    "BackendError",
    "DefinitionError",
    "DocsError",
    "FlowNotFoundError",
    "GraphError",
    "PenstockError",
    "RenderError",
]


class PenstockError(Exception):
    """Base class of every error penstock raises."""


class DefinitionError(PenstockError, TypeError):
    """A decorator was used wrongly; raised at decoration (import) time.

    The message names the function and its ``file:line``.
    """


class GraphError(PenstockError):
    """A flow graph cannot be built or queried as asked."""


class FlowNotFoundError(GraphError, LookupError):
    """No flow of that name is registered.

    Attributes:
        flow: the name that was asked for.
        known: the names of the registered flows, sorted.
        suggestions: close matches among ``known``.
    """

    def __init__(self, flow: str, known: list[str], suggestions: list[str]) -> None:
        self.flow = flow
        self.known = known
        self.suggestions = suggestions
        msg = f"unknown flow {flow!r}{suggestion(suggestions)}"
        if known:
            msg += f" Known flows: {', '.join(known)}."
        else:
            msg += " No flows are registered: were the modules that declare them imported?"
        super().__init__(msg)


class RenderError(PenstockError, ValueError):
    """A diagram cannot be rendered with the options given (unknown format or direction)."""


class BackendError(PenstockError):
    """A recording backend cannot be selected or configured."""


class DocsError(PenstockError):
    """A documentation build cannot draw a flow (raised by the docs extensions)."""


class ObservedError(PenstockError):
    """Recorded runs cannot be read (a file or glob that matches nothing, a bad option)."""
