"""The options of the MkDocs plugin and the Markdown extension, declared once.

Both the plugin's `PenstockPluginConfig` (``mkdocs.yml`` ``plugins:``) and the extension's
``config`` (``markdown_extensions:``, Zensical, plain Python-Markdown) are built from `OPTIONS`.
The site-wide defaults of per-diagram options come from `penstock.docs.DiagramOptions` (every
option declared there with ``site=True``); the options only this host has are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from penstock.docs import DiagramOptions

__all__ = ["OPTIONS", "SITE_DEFAULTS", "Option", "extension_config", "plugin_option"]


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


#: Options only this host has (the diagram's own options come from `DiagramOptions`).
_HOST_OPTIONS = (
    Option(
        "enabled",
        bool,
        True,
        "Draw diagrams. false: the plugin does nothing, and each '::: penstock-flow' or "
        "'::: penstock-map' line is left out of the page (e.g. enabled: !ENV [PENSTOCK, true] "
        "for fast local previews).",
        extension=False,
    ),
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
        "mermaid_js",
        str,
        None,
        "Which Mermaid the site loads: unset or 'bundled' (shipped with penstock, copied "
        "into the site), 'cdn', a URL, or a file relative to mkdocs.yml.",
        extension=False,
    ),
)

#: Every option, by name: this host's own, then the site-wide defaults of diagram options.
OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        *_HOST_OPTIONS,
        *(
            Option(d.name, d.kind, d.default, f"Default of every diagram: {d.doc}")
            for d in DiagramOptions.options()
            if d.site
        ),
    )
}

#: The site-wide defaults of diagram options (the extension builds `DiagramOptions` of them).
SITE_DEFAULTS = tuple(d.name for d in DiagramOptions.options() if d.site)


def plugin_option(name: str) -> Any:
    """The MkDocs config option of plugin option ``name``."""
    option = OPTIONS[name]
    assert option.plugin, name
    return option.mkdocs()


def extension_config() -> dict[str, list[Any]]:
    """The extension's ``config`` mapping: ``{name: [default, description]}``."""
    return {name: o.markdown() for name, o in OPTIONS.items() if o.extension}
