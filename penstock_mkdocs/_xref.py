"""Where each flow is drawn on the site, so stubs and map boxes can link to its diagram."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from penstock.docs import OptionError, flow_anchor, map_diagram
from penstock_mkdocs._directive import Directive, find_directives

__all__ = ["draw_map", "flow_pages", "linker"]

_MAP_OPTIONS = ("prefix", "direction")


def flow_pages(pages: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The URL of the first page drawing each flow, from ``(page url, Markdown)`` pairs.

    Directives inside fenced code blocks are examples, not diagrams, and are skipped.
    """
    found: dict[str, str] = {}
    for url, markdown in pages:
        lines = _outside_fences(markdown.splitlines())
        for directive in find_directives(lines):
            if directive.kind == "flow" and directive.flow:
                found.setdefault(directive.flow, url)
    return found


def linker(pages: Mapping[str, str], current_url: str) -> Callable[[str], str | None]:
    """``flow -> URL`` of that flow's diagram, relative to the page at ``current_url``."""

    def url(flow: str) -> str | None:
        target = pages.get(flow)
        if target is None:
            return None
        return f"{relative_url(target, current_url)}#{flow_anchor(flow)}"

    return url


def relative_url(target: str, page: str) -> str:
    """``target`` (a URL inside the site) as a link from the page at URL ``page``.

    MkDocs' page URLs are folders (``guide/``, ``""`` for the home page) or files
    (``guide.html`` without directory URLs). Written here rather than imported from MkDocs:
    the extension also runs without MkDocs installed (Zensical, plain Python-Markdown).
    """
    last = page.rsplit("/", 1)[-1]
    folder = posixpath.dirname(page) if "." in last else page.rstrip("/")
    relative = posixpath.relpath(target.rstrip("/") or ".", folder or ".")
    if target.endswith("/"):
        return "./" if relative == "." else relative + "/"
    return relative


def draw_map(
    directive: Directive, options: Mapping[str, Any], flow_url: Callable[[str], str | None]
) -> str:
    """Mermaid text of ``::: penstock-map`` with its options (``prefix``, ``direction``).

    Raises:
        OptionError: an unknown option or a wrong value.
    """
    unknown = [k for k in options if k not in _MAP_OPTIONS]
    if unknown:
        raise OptionError(
            f"unknown penstock-map option {unknown[0]!r} (options: {', '.join(_MAP_OPTIONS)})"
        )
    prefix = options.get("prefix") or directive.flow or None
    if prefix is not None and not (
        isinstance(prefix, str)
        or (isinstance(prefix, list) and all(isinstance(p, str) for p in prefix))
    ):
        raise OptionError(f"penstock-map option 'prefix' must be a module name, got {prefix!r}")
    try:
        return map_diagram(prefix, str(options.get("direction", "LR")), flow_url)
    except ValueError as exc:  # RenderError: an unknown direction
        raise OptionError(str(exc)) from None


def _outside_fences(lines: list[str]) -> list[str]:
    out: list[str] = []
    fence = ""
    for line in lines:
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            out.append("")
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            out.append("")
            continue
        out.append(line)
    return out
