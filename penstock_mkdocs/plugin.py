"""The MkDocs plugin ``penstock``: configures `PenstockExtension` from ``mkdocs.yml``.

It is glue: it adds the extension in ``on_config`` (as mkdocstrings does), re-imports the flow
modules before every build, tells the extension which page it is converting, watches the
modules' sources under ``mkdocs serve``, and turns penstock's errors into MkDocs' own.
Works the same under ProperDocs, which loads ``mkdocs.plugins`` entry points.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from penstock import DocsError
from penstock_mkdocs._extension import PageContext, PenstockExtension, front_matter_offset

__all__ = ["PenstockPlugin", "PenstockPluginConfig"]

log = get_plugin_logger(__name__)

#: Where a ``mermaid_js`` file is copied inside the site.
MERMAID_DIR = "assets/javascripts/penstock"


# MkDocs' Config.__init_subclass__ is unannotated, hence the ignore on both classes.
class PenstockPluginConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the ``penstock`` plugin in ``mkdocs.yml``."""

    modules = opt.ListOfItems(opt.Type(str), default=[])
    """Dotted names of the modules that declare flows, imported at the start of every build."""
    paths = opt.ListOfItems(opt.Type(str), default=[])
    """Folders added to ``sys.path`` first, relative to ``mkdocs.yml``."""
    direction = opt.Type(str, default="TD")
    """Default direction of every diagram: ``TD``, ``TB``, ``BT``, ``LR`` or ``RL``."""
    title = opt.Optional(opt.Type(str))
    """Default title drawn above every diagram."""
    show_docs = opt.Type(bool, default=False)
    """Show each step's docstring summary under its name."""
    link_source = opt.Type(bool, default=False)
    """Make each node a link to its source code (see ``source_url``)."""
    source_url = opt.Optional(opt.Type(str))
    """URL template of a step's source: ``{path}`` (relative to ``mkdocs.yml``'s folder),
    ``{line}``, ``{module}``, ``{qualname}``. Default: from ``repo_url`` and ``edit_uri``."""
    strict = opt.Type(bool, default=False)
    """Abort the build on the first diagram that cannot be drawn, even without ``--strict``."""
    observed = opt.Optional(opt.Type(str))
    """Recorded runs (JSON log lines or OTLP JSON; a path or glob relative to ``mkdocs.yml``)
    drawn over every diagram; a directive's ``observed:`` overrides it."""
    mermaid_js = opt.Optional(opt.Type(str))
    """A local Mermaid file (``mermaid.min.js``), copied into the site and loaded on every page,
    so diagrams render without a CDN."""


class PenstockPlugin(BasePlugin[PenstockPluginConfig]):  # type: ignore[no-untyped-call]
    """Draws ``::: penstock-flow`` directives; see the module docstring."""

    def __init__(self) -> None:
        self.extension: PenstockExtension | None = None
        self._mermaid_js: Path | None = None
        self._server: LiveReloadServer | None = None
        self._watched: set[str] = set()

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        """Defined so that ``mkdocs serve`` keeps this plugin object across rebuilds."""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Add the extension, configured from the plugin's options."""
        root = Path(config.config_file_path or ".").resolve().parent
        source_url = self.config.source_url or _source_url(config, root)
        try:
            self.extension = PenstockExtension(
                modules=list(self.config.modules),
                paths=list(self.config.paths),
                base_dir=str(root),
                direction=self.config.direction,
                title=self.config.title or "",
                show_docs=self.config.show_docs,
                link_source=self.config.link_source,
                source_url=source_url or "",
                source_root=str(root),
                observed=self.config.observed or "",
            )
        except DocsError as exc:
            raise PluginError(f"penstock plugin: {exc}") from exc
        self.extension.logger = log
        config.markdown_extensions.append(self.extension)  # type: ignore[arg-type]
        self._mermaid_js = None
        if self.config.mermaid_js:
            path = (root / self.config.mermaid_js).resolve()
            if not path.is_file():
                raise PluginError(
                    f"penstock plugin: mermaid_js file {self.config.mermaid_js!r} does not exist "
                    f"(looked for {path.name!r} relative to mkdocs.yml)"
                )
            self._mermaid_js = path
            config.extra_javascript.append(f"{MERMAID_DIR}/{path.name}")
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Import the flow modules afresh, so a rebuild under ``serve`` sees edited code."""
        ext = self._ext()
        ext.loader.load(fresh=True)
        try:
            ext.report_import_failures()
        except DocsError as exc:
            raise PluginError(f"penstock plugin: {exc}") from exc
        self._watch_sources()

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        """Tell the extension which page comes next, and where its Markdown starts."""
        ext = self._ext()
        source = page.file.content_string if page.file.abs_src_path else markdown
        ext.page = PageContext(page.file.src_uri, front_matter_offset(source, markdown))
        ext.failures.clear()
        return markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Abort on a failed diagram when the plugin's ``strict`` option is on."""
        ext = self._ext()
        ext.page = None
        if ext.failures and self.config.strict:
            first = ext.failures[0]
            raise PluginError(f"penstock plugin: {first}") from first
        return html

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Copy the ``mermaid_js`` file into the site; watch the recorded runs drawn."""
        self._watch_sources()
        if self._mermaid_js is not None:
            target = Path(config.site_dir, MERMAID_DIR, self._mermaid_js.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._mermaid_js, target)

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer:
        """Watch the flow modules' source files: an edit triggers a rebuild."""
        self._server = server
        self._watched.clear()
        self._watch_sources()
        return server

    def _watch_sources(self) -> None:
        if self._server is None:
            return
        ext = self._ext()
        for file in [*ext.loader.files, *sorted(ext.data_files)]:
            if file not in self._watched:
                self._watched.add(file)
                self._server.watch(file)

    def _ext(self) -> PenstockExtension:
        if self.extension is None:  # pragma: no cover - MkDocs always calls on_config first
            raise PluginError("penstock plugin: on_config did not run")
        return self.extension


def _source_url(config: MkDocsConfig, root: Path) -> str | None:
    """``repo_url`` + ``edit_uri`` turned from "edit this page" into "view this file"."""
    repo = config.repo_url
    if not repo:
        return None
    edit = (config.edit_uri or "").strip("/")
    docs = Path(config.docs_dir).resolve()
    try:
        docs_rel = docs.relative_to(root).as_posix()
    except ValueError:
        docs_rel = ""
    if docs_rel and (edit == docs_rel or edit.endswith("/" + docs_rel)):
        edit = edit[: len(edit) - len(docs_rel)].rstrip("/")
    parts = ["blob" if p == "edit" else p for p in edit.split("/") if p]
    if not parts:
        parts = ["blob", "main"]
    return f"{repo.rstrip('/')}/{'/'.join(parts)}/{{path}}#L{{line}}"
