"""The MkDocs plugin ``penstock``: configures `PenstockExtension` from ``mkdocs.yml``.

It is glue: it adds the extension in ``on_config`` (as mkdocstrings does), re-imports the flow
modules before every build, tells the extension which page it is converting, watches the
modules' sources under ``mkdocs serve``, and turns penstock's errors into MkDocs' own.
Works the same under ProperDocs, which loads ``mkdocs.plugins`` entry points.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Literal

from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from penstock import DocsError, PenstockError
from penstock.docs import ASSETS
from penstock_mkdocs._apilinks import PREFIX, resolve
from penstock_mkdocs._directive import MARKER
from penstock_mkdocs._disabled import DisabledExtension
from penstock_mkdocs._extension import (
    BuildState,
    PageContext,
    PenstockExtension,
    front_matter_offset,
)
from penstock_mkdocs._loader import ModuleLoader, loader_for, sources_for
from penstock_mkdocs._options import SITE_DEFAULTS, plugin_option
from penstock_mkdocs._xref import flow_pages

TYPE_CHECKING = False
if TYPE_CHECKING:
    # For ``on_serve``'s signature only: importing it loads the live-reload server (watchdog,
    # wsgiref) into every build.
    from mkdocs.livereload import LiveReloadServer

__all__ = ["PenstockPlugin", "PenstockPluginConfig"]

log = get_plugin_logger(__name__)

#: Where a ``mermaid_js`` file is copied inside the site.
MERMAID_DIR = "assets/javascripts/penstock"
#: Zoom, pan and full screen for ``zoom: true`` diagrams; copied next to it.
ZOOM_JS = Path(__file__).parent / "assets" / "penstock-zoom.js"
#: A page that needs penstock's files: one of its diagrams, or any Mermaid block (which the
#: Mermaid penstock ships draws offline). Class names as penstock and superfences write them.
_NEEDS_ASSETS = re.compile(
    r'<(?:pre|div)\b[^>]*\bclass="(?:[^"]*\s)?(?:mermaid|penstock-diagram)[\s"]'
)


# MkDocs' Config.__init_subclass__ is unannotated, hence the ignore on both classes.
class PenstockPluginConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the ``penstock`` plugin in ``mkdocs.yml``; see `penstock_mkdocs._options`."""

    enabled = plugin_option("enabled")
    modules = plugin_option("modules")
    paths = plugin_option("paths")
    source_url = plugin_option("source_url")
    strict = plugin_option("strict")
    mermaid_js = plugin_option("mermaid_js")
    # The site-wide default of every diagram option declared with site=True in
    # penstock.docs.DiagramOptions (direction, title, show_docs, ...): a new one appears here
    # by itself. MkDocs collects the options from the class namespace, hence the loop in it.
    for _name in SITE_DEFAULTS:
        locals()[_name] = plugin_option(_name)
    del _name


class PenstockPlugin(BasePlugin[PenstockPluginConfig]):  # type: ignore[no-untyped-call]
    """Draws ``::: penstock-flow`` directives; see the module docstring."""

    def __init__(self) -> None:
        self.extension: PenstockExtension | None = None
        #: What the plugin shares with its extension: made here, handed over at construction.
        self.state = BuildState()
        self.loader: ModuleLoader | None = None
        #: Files copied into the site after the build: (source, path inside the site).
        self._assets: list[tuple[Path, str]] = []
        #: The stylesheets and scripts a page with a diagram links (site paths or URLs).
        self._css: list[str] = []
        self._scripts: list[str] = []
        #: Whether they are linked from every page (``extra_css``/``extra_javascript``) rather
        #: than from the pages that need them: under Material's instant navigation.
        self._site_wide = False
        #: The pages (source paths) whose HTML holds a diagram, this build.
        self._pages: set[str] = set()
        self._server: LiveReloadServer | None = None
        self._watched: set[str] = set()
        #: The source of each page that names a directive, read once per build (by on_files).
        self._sources: dict[str, str] = {}

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        """Defined so that ``mkdocs serve`` keeps this plugin object across rebuilds."""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Add the extension, configured from the plugin's options.

        With ``enabled: false`` the plugin does nothing else than put a short note where each
        diagram would be (see `penstock_mkdocs._disabled`): no module is imported, no script
        added.
        """
        if not self.config.enabled:
            self.extension = None
            config.markdown_extensions.append(DisabledExtension())  # type: ignore[arg-type]
            return config
        root = Path(config.config_file_path or ".").resolve().parent
        source_url = self.config.source_url or _source_url(config, root)
        settings = (
            "modules of the penstock plugin in mkdocs.yml",
            "paths of the penstock plugin in mkdocs.yml",
        )
        self.state = BuildState()
        try:
            # Reads [tool.penstock] now, to fail early.
            self.loader = loader_for(
                sources_for(list(self.config.modules), list(self.config.paths), str(root), settings)
            )
            self.extension = PenstockExtension(
                loader=self.loader,
                state=self.state,
                logger=log,
                settings=settings,
                modules=list(self.config.modules),
                paths=list(self.config.paths),
                base_dir=str(root),
                source_url=source_url or "",
                source_root=str(root),
                strict=False,
                **{name: _markdown_value(self.config[name]) for name in SITE_DEFAULTS},
            )
        except PenstockError as exc:
            raise PluginError(f"penstock plugin: {exc}") from exc
        config.markdown_extensions.append(self.extension)  # type: ignore[arg-type]
        self._assets = []
        self._css = []
        self._scripts = []
        self._site_wide = _instant_navigation(config)
        # Zoom, pan and full screen for ``zoom`` diagrams: a script served from the site.
        self._add_script(ZOOM_JS)
        css = f"assets/stylesheets/penstock/{Path(ASSETS.diagram_css).name}"
        self._assets.append((ASSETS.folder / ASSETS.diagram_css, css))
        self._css.append(css)
        choice = (self.config.mermaid_js or "bundled").strip()
        if choice == "cdn" or (not self.config.mermaid_js and _loads_mermaid(config)):
            # Told to use the CDN, or the site loads its own Mermaid in extra_javascript.
            self._add_script(ASSETS.folder / ASSETS.diagrams_js)
        else:
            if choice == "bundled":
                self._add_script(ASSETS.folder / ASSETS.mermaid_js)
                for licence in ASSETS.licenses:
                    if "mermaid" in licence:
                        self._assets.append(
                            (ASSETS.folder / licence, f"{MERMAID_DIR}/{Path(licence).name}")
                        )
            elif choice.startswith(("http://", "https://", "//")):
                self._scripts.append(choice)
            else:
                path = (root / choice).resolve()
                if not path.is_file():
                    raise PluginError(
                        f"penstock plugin: mermaid_js file {choice!r} does not exist "
                        f"(looked for {path.name!r} relative to mkdocs.yml); leave mermaid_js "
                        "out to use the Mermaid shipped with penstock"
                    )
                self._add_script(path)
            # After Mermaid (it hands penstock's colour rules to it), before the starter below.
            self._add_script(ASSETS.folder / ASSETS.diagrams_js)
            if config.theme.name != "material":
                # Material draws pre.mermaid itself; other themes need a starter.
                self._add_script(ASSETS.folder / ASSETS.mermaid_init)
        if self._site_wide:
            # Material's instant navigation swaps the page's content without loading the new
            # page's own stylesheets and scripts: a reader who starts on a page without a
            # diagram would reach one with neither. Every page links them instead.
            config.extra_css.extend(self._css)
            config.extra_javascript.extend(self._scripts)
        return config

    def _add_script(self, source: Path) -> None:
        target = f"{MERMAID_DIR}/{source.name}"
        self._assets.append((source, target))
        self._scripts.append(target)

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Import the flow modules afresh, so a rebuild under ``serve`` sees edited code."""
        if self.extension is None:
            return
        ext = self._ext()
        self._loader().load(fresh=True)
        self.state.drawn.clear()
        self._pages.clear()
        try:
            ext.report_import_failures()
        except DocsError as exc:
            raise PluginError(f"penstock plugin: {exc}") from exc
        self._watch_sources()

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """Find which page draws each flow, for links from other diagrams and the map."""
        if self.extension is None:
            return files
        sources = {}
        urls = {}
        for file in files.documentation_pages():
            if file.abs_src_path:
                source = file.content_string
                if MARKER in source:
                    sources[file.src_uri] = source
                    urls[file.src_uri] = file.url
        self._sources = sources
        self.state.flow_pages = flow_pages((urls[uri], text) for uri, text in sources.items())
        return files

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        """Tell the extension which page comes next, and where its Markdown starts."""
        if self.extension is None:
            return markdown
        # Line numbers in messages count from the file: front matter included. A page with
        # no directive in its file (most pages; or one another plugin added) needs none.
        source = self._sources.get(page.file.src_uri, markdown)
        self.state.page = PageContext(
            page.file.src_uri, front_matter_offset(source, markdown), url=page.url
        )
        self.state.failures.clear()
        return markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Abort on a failed diagram when the plugin's ``strict`` option is on."""
        self.state.page = None
        if self.state.failures and self.config.strict:
            first = self.state.failures[0]
            raise PluginError(f"penstock plugin: {first}") from first
        if _NEEDS_ASSETS.search(html):
            self._pages.add(page.file.src_uri)
        else:
            self._pages.discard(page.file.src_uri)
        return html

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        """Link penstock's stylesheet and scripts from this page if it holds a diagram.

        As Sphinx does: a page without a diagram loads none of them (Mermaid alone is
        about 3 MB). They go where MkDocs puts ``extra_css`` and ``extra_javascript``: the
        stylesheet at the end of ``<head>``, the scripts at the end of ``<body>``, after the
        theme's own (Material's draws the diagrams with the Mermaid loaded here).
        """
        if self.extension is None or self._site_wide or page.file.src_uri not in self._pages:
            return output
        links = "".join(f'<link rel="stylesheet" href="{_href(css, page)}">' for css in self._css)
        scripts = "".join(f'<script src="{_href(js, page)}"></script>' for js in self._scripts)
        return _before_last(_before_last(output, "</head>", links), "</body>", scripts)

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Copy the Mermaid files (and Mermaid's licence) into the site; watch the recorded runs."""
        if self.extension is None:
            return
        self._watch_sources()
        for source, name in self._assets:
            target = Path(config.site_dir, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def on_env(self, env: Any, /, *, config: MkDocsConfig, files: Files) -> Any:
        """Point ``link: api`` nodes at the API reference (mkdocstrings' autorefs URLs)."""
        fallbacks = self.state.api_fallbacks
        if self.extension is None or not fallbacks:
            return env
        autorefs = config.plugins.get("autorefs")
        for file in files:
            page = file.page
            if page is None or not page.content or PREFIX not in page.content:
                continue

            def url_of(identifier: str, _from: str = page.url) -> str | None:
                if autorefs is None:
                    return None
                try:
                    return str(autorefs.get_item_url(identifier, from_url=_from)[0])
                except KeyError:
                    return None

            def fallback(identifier: str) -> str | None:
                return fallbacks.get(identifier, (None, ""))[0]

            def warn(identifier: str, used: str | None, _src: str = file.src_uri) -> None:
                where = fallbacks.get(identifier, (None, _src))[1]
                instead = "linked to its source instead" if used else "not linked"
                log.warning(
                    f"{where}: link: api: {identifier} is not in the API reference "
                    f"(no mkdocstrings entry); {instead}"
                )

            page.content = resolve(page.content, url_of, fallback, warn)
        return env

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer:
        """Watch the flow modules' source files: an edit triggers a rebuild."""
        self._server = server
        self._watched.clear()
        self._watch_sources()
        return server

    def _watch_sources(self) -> None:
        if self._server is None or self.extension is None:
            return
        for file in [*self._loader().files, *sorted(self.state.data_files)]:
            if file not in self._watched:
                self._watched.add(file)
                self._server.watch(file)

    def _loader(self) -> ModuleLoader:
        if self.loader is None:  # pragma: no cover - MkDocs always calls on_config first
            raise PluginError("penstock plugin: on_config did not run")
        return self.loader

    def _ext(self) -> PenstockExtension:
        if self.extension is None:  # pragma: no cover - MkDocs always calls on_config first
            raise PluginError("penstock plugin: on_config did not run")
        return self.extension


def _markdown_value(value: Any) -> Any:
    # The extension reads unset text options as "" (Python-Markdown's convention).
    return "" if value is None else value


def _instant_navigation(config: MkDocsConfig) -> bool:
    """Whether Material's instant navigation is on (``theme: features: [navigation.instant]``)."""
    if config.theme.name != "material":
        return False
    return "navigation.instant" in (config.theme.get("features") or ())


def _href(target: str, page: Page) -> str:
    """``target`` (a path inside the site, or a URL) as the page links it."""
    if target.startswith(("http://", "https://", "//")):
        return target
    return get_relative_url(target, page.url)


def _before_last(html: str, tag: str, insert: str) -> str:
    """``insert`` put before the last ``tag`` of ``html`` (at the end when there is none)."""
    at = html.rfind(tag)
    return html + insert if at < 0 else html[:at] + insert + html[at:]


def _loads_mermaid(config: MkDocsConfig) -> bool:
    """Whether ``extra_javascript`` already names a Mermaid script (``.../mermaid.min.js``)."""
    for script in config.extra_javascript:
        name = str(script).rsplit("/", 1)[-1].lower()
        if name.startswith("mermaid") and name.endswith((".js", ".mjs")):
            return True
    return False


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
