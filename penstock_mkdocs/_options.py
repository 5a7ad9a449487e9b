"""The options of the MkDocs plugin and the Markdown extension, declared once.

Both the plugin's `PenstockPluginConfig` (``mkdocs.yml`` ``plugins:``) and the extension's
``config`` (``markdown_extensions:``, Zensical, plain Python-Markdown) are built from `OPTIONS`:
a name, its type, its default and what it means live here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OPTIONS", "Option", "extension_config", "plugin_option"]


@dataclass(frozen=True)
class Option:
    """One option.

    Attributes:
        name: as written in the configuration.
        kind: ``bool``, ``str`` or ``list`` (of strings).
        default: the value when unset; ``None`` for "unset" text options.
        doc: what it means, shown in option listings and error messages.
        plugin: whether the MkDocs plugin has it.
        extension: whether the Markdown extension has it.
    """

    name: str
    kind: type
    default: Any
    doc: str
    plugin: bool = True
    extension: bool = True

    def mkdocs(self) -> Any:
        """The MkDocs config option (``mkdocs.config.config_options``)."""
        from mkdocs.config import config_options as opt

        if self.kind is list:
            return opt.ListOfItems(opt.Type(str), default=list(self.default or []))
        if self.kind is bool:
            return opt.Type(bool, default=bool(self.default))
        if self.default is None:
            return opt.Optional(opt.Type(str))
        return opt.Type(str, default=self.default)

    def markdown(self) -> list[Any]:
        """The ``[default, description]`` pair Python-Markdown extensions declare."""
        default = self.default
        if default is None:
            # Python-Markdown reads a None default as a boolean: text options default to "".
            default = ""
        elif isinstance(default, list):
            default = list(default)
        return [default, self.doc]


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option(
            "modules",
            list,
            [],
            "Dotted names of the modules that declare flows, imported at the start of every "
            "build (a package imports its submodules). Default: modules of [tool.penstock] in "
            "the nearest pyproject.toml.",
        ),
        Option(
            "paths",
            list,
            [],
            "Folders put on sys.path first, relative to mkdocs.yml (the extension: base_dir). "
            "Default: paths of [tool.penstock], else the folder of pyproject.toml (and src/).",
        ),
        Option(
            "base_dir",
            str,
            None,
            "Folder relative paths are resolved from (default: the project folder, or the cwd).",
            plugin=False,
        ),
        Option("direction", str, "TD", "Default direction: TD, TB, BT, LR or RL."),
        Option("title", str, None, "Default title drawn above every diagram (empty: none)."),
        Option("show_docs", bool, False, "Show each step's docstring summary under its name."),
        Option(
            "link_source", bool, False, "Make each node a link to its source (needs source_url)."
        ),
        Option(
            "source_url",
            str,
            None,
            "URL template of a step's source: {path} (relative to mkdocs.yml's folder), {line}, "
            "{module}, {qualname}. The plugin's default comes from repo_url and edit_uri.",
        ),
        Option(
            "source_root",
            str,
            None,
            "Folder {path} is relative to (default: base_dir).",
            plugin=False,
        ),
        Option(
            "strict",
            bool,
            False,
            "Abort the build on the first diagram that cannot be drawn, even without --strict.",
        ),
        Option(
            "observed",
            str,
            None,
            "Recorded runs (JSON log lines or OTLP JSON; a path or glob relative to mkdocs.yml) "
            "drawn over every diagram; a directive's observed: overrides it.",
        ),
        Option(
            "legend",
            bool,
            True,
            "Draw a legend under diagrams that use more than plain boxes and arrows "
            "(entrypoints, steps in other processes, conditions, linked flows); legend: false "
            "on a directive turns it off there.",
        ),
        Option(
            "drift",
            str,
            "warn",
            "What a transition seen in recorded runs but not declared does: 'warn' (a build "
            "warning; fails --strict) or 'ignore' (only marked on the diagram); drift: on a "
            "directive overrides it.",
        ),
        Option(
            "zoom",
            bool,
            False,
            "Zoom, pan and full screen on every diagram (zoom: true on one directive otherwise), "
            "by a small script served from the site itself (needs the plugin).",
        ),
        Option(
            "mermaid_js",
            str,
            None,
            "Which Mermaid the site loads: unset or 'bundled' (shipped with penstock, copied "
            "into the site), 'cdn', a URL, or a file relative to mkdocs.yml.",
            extension=False,
        ),
    )
}


def plugin_option(name: str) -> Any:
    """The MkDocs config option of plugin option ``name``."""
    option = OPTIONS[name]
    assert option.plugin, name
    return option.mkdocs()


def extension_config() -> dict[str, list[Any]]:
    """The extension's ``config`` mapping: ``{name: [default, description]}``."""
    return {name: o.markdown() for name, o in OPTIONS.items() if o.extension}
