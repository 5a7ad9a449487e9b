"""Exception classes, one per phase, all under `PenstockError`."""

from __future__ import annotations

from penstock._source import source_location
from penstock._suggest import close_matches, suggestion

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = [
    "BackendError",
    "CoverageError",
    "DefinitionError",
    "DiffError",
    "DocsError",
    "DumpError",
    "FlowNotFoundError",
    "GraphError",
    "PenstockError",
    "ProjectConfigError",
    "RenderError",
    "RevisionError",
]


class PenstockError(Exception):
    """Base class of every error penstock raises."""


class DefinitionError(PenstockError, TypeError):
    """A decorator was used wrongly; raised at decoration (import) time.

    The message names the function and its ``file:line``.
    """

    @classmethod
    def at(
        cls,
        func: Callable[..., Any],
        message: str,
        *,
        unknown: str | None = None,
        known: Iterable[str] = (),
    ) -> DefinitionError:
        """An error located at ``func``'s definition: ``"file:line: message"``.

        For an integration's own decorators, so their errors read like penstock's.

        Args:
            func: the decorated function the error is about.
            message: what is wrong and how to fix it.
            unknown: a name the user gave that matches nothing; the message then ends with
                a did-you-mean among ``known``.
            known: the names ``unknown`` could have meant.
        """
        file, line = source_location(func)
        hint = suggestion(close_matches(unknown, known)) if unknown is not None else ""
        return cls(f"{file}:{line}: {message}{hint}")


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
        # One sentence, ended by the did-you-mean's "?" or by a full stop, then what is known.
        msg = f"unknown flow {flow!r}{suggestion(suggestions) or '.'}"
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


class CoverageError(PenstockError):
    """Flow coverage cannot be measured or reported.

    A report file that cannot be read, a bad option of the pytest plugin or of
    ``penstock coverage``.
    """


class ProjectConfigError(PenstockError):
    """The ``[tool.penstock]`` table of ``pyproject.toml`` is invalid (named in the message)."""


class DiffError(PenstockError):
    """Two versions of the flows cannot be compared.

    A dump file cannot be read, or a git revision cannot be checked out or loaded.
    """


class DumpError(DiffError):
    """A dump file is not a valid penstock dump; the message names the place in the document."""


class RevisionError(DiffError):
    """A git revision cannot be loaded: it does not exist, or its modules fail to import.

    Attributes:
        revision: the revision as the user wrote it.
        module: the module that failed to import, when that is the reason.
        location: ``file:line`` (relative to the repository) of the failing line, when known.
    """

    def __init__(
        self,
        revision: str,
        message: str,
        *,
        module: str | None = None,
        location: str | None = None,
    ) -> None:
        self.revision = revision
        self.module = module
        self.location = location
        super().__init__(message)
