"""penstock diagrams in Sphinx: flows drawn from the code on every build.

In ``conf.py``::

    extensions = ["penstock_sphinx"]
    penstock_modules = ["bom_sync.consumer", "bom_sync.sync"]
    penstock_paths = ["../examples"]  # put on sys.path, relative to conf.py

or, with neither setting, the ``modules`` and ``paths`` of ``[tool.penstock]`` in the nearest
``pyproject.toml`` at or above ``conf.py``'s folder.

and in any reStructuredText page::

    .. penstock-flow:: bom_sync
       :direction: LR
       :caption: How a BOM change travels

The modules are imported afresh when each build starts. Every page that draws a flow depends on
the files its steps live in, and a page is also re-read when its diagram would come out
different, so incremental builds (and ``sphinx-autobuild``) re-read exactly the pages whose
diagrams changed.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError
from sphinx.util import logging

from penstock import PenstockError, __version__
from penstock.docs import (
    ASSETS,
    DiagramOptions,
    ModuleImportError,
    OptionError,
    load_modules,
    module_sources,
)
from penstock_sphinx._directive import PenstockFlow, outcome
from penstock_sphinx._domain import BuildInfo, Drawn, PenstockDomain, domain_of
from penstock_sphinx._map import PenstockMap, map_outcome
from penstock_sphinx._offline import swap_for_builder
from penstock_sphinx._xref import linked_flows, moved_flows, resolve_diagram_links

__all__ = ["setup"]

logger = logging.getLogger(__name__)

#: Bump when the shape of what the extension keeps on the environment (the domain's data)
#: changes, so Sphinx re-reads everything instead of unpickling stale data.
ENV_VERSION = 3
#: What Sphinx compares: the data shape, and penstock's own version too, since a new penstock
#: may draw the same flow differently and cached doctrees would keep the old diagrams.
_ENV_STAMP = ENV_VERSION * 2**32 + zlib.crc32(__version__.encode())


def load_flows(app: Sphinx) -> None:
    """Import the configured modules afresh and validate the site-wide diagram defaults.

    Runs at ``builder-inited``, before any page is read. Modules are dropped from
    ``sys.modules`` first, so a build in a long-lived process (``sphinx-autobuild``) sees edits.

    A module that fails to import is a warning (``penstock.import-error``) located at the
    line that raised, with the original traceback; the other modules are imported all the same,
    so the rest of the site is still drawn.

    Raises:
        ConfigError: a ``penstock_*`` default has a wrong value.
    """
    config = app.config
    confdir = Path(app.confdir)
    try:
        sources = module_sources(
            list(config.penstock_modules),
            list(config.penstock_paths),
            start=confdir,
            settings=("penstock_modules in conf.py", "penstock_paths in conf.py"),
        )
    except PenstockError as exc:  # an invalid [tool.penstock]
        raise ConfigError(str(exc)) from None
    failures: list[ModuleImportError] = []
    if sources.modules or config.penstock_paths:
        load_modules(
            sources.modules,
            sources.folders,
            fresh=bool(sources.modules),
            failures=failures,
            paths_setting=sources.paths_setting,
            exclude=sources.exclude,
        )
    # Paths on pages are shown relative to the project (or to conf.py's parent folder).
    page_root = sources.project.root if sources.project is not None else confdir.parent
    for failure in failures:
        logger.warning(
            "penstock: %s",
            failure,
            location=failure.location,
            type="penstock",
            subtype="import-error",
        )
    root = config.penstock_source_root
    try:
        defaults = DiagramOptions(
            # The site-wide default of each per-diagram option declared with site=True.
            **{
                o.name: getattr(config, f"penstock_{o.name}")
                for o in DiagramOptions.options()
                if o.site
            },
            source_url=config.penstock_source_url,
            source_root=None if root is None else str((confdir / root).resolve()),
            allow_problems=config.penstock_allow_problems,
            observed_base=str(confdir),
            # For `:since: REV`: the revision is loaded with conf.py's modules and paths, else
            # with its own [tool.penstock].
            since_modules=tuple(config.penstock_modules),
            since_paths=tuple(str(confdir / p) for p in config.penstock_paths),
            since_root=str(confdir),
            # A flow whose module failed part-way is shown as an error, never half-drawn.
            failed_imports=tuple((f.module, f.summary) for f in failures),
        ).validated("conf.py (penstock_* settings)")
    except OptionError as exc:
        raise ConfigError(str(exc)) from None
    domain_of(app.env).build = BuildInfo(
        defaults=defaults,
        sources=sources,
        failed=[f.module for f in failures],
        page_root=str(page_root.resolve()),
    )


def serve_bundled_js(app: Sphinx, config: Config) -> None:
    """Serve the Mermaid (and the d3 for ``:zoom:``) shipped with penstock (``config-inited``).

    With ``penstock_mermaid_js = "bundled"`` (the default), penstock's files are added to
    ``html_static_path`` and named in ``mermaid_use_local`` and ``d3_use_local``, unless
    the site set those itself; ``"cdn"`` leaves sphinxcontrib-mermaid's settings alone.

    Raises:
        ConfigError: ``penstock_mermaid_js`` is neither ``bundled`` nor ``cdn``.
    """
    choice = str(config.penstock_mermaid_js).strip().lower()
    if choice not in ("bundled", "cdn"):
        raise ConfigError(
            f"penstock_mermaid_js must be 'bundled' or 'cdn', not {config.penstock_mermaid_js!r}"
        )
    # penstock's stylesheet and fitting script are served either way (and linked only from
    # the pages that draw a diagram: see `page_assets`).
    config.html_static_path = [*config.html_static_path, str(ASSETS.folder)]
    if choice == "cdn":
        return
    if not config.mermaid_use_local:
        config.mermaid_use_local = ASSETS.mermaid_esm
    if not config.d3_use_local:
        # sphinxcontrib-mermaid adds this one with add_js_file: relative to _static already.
        config.d3_use_local = ASSETS.d3_js


def page_assets(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    """Link penstock's stylesheet and script from a page only when it draws a diagram.

    The script fits each diagram to the text column and hands penstock's colours to Mermaid;
    it must run before Mermaid's module does (a classic script runs first).
    """
    if doctree is None:
        return
    if any("penstock-diagram" in box["classes"] for box in doctree.findall(nodes.container)):
        app.add_css_file(ASSETS.diagram_css)
        app.add_js_file(ASSETS.diagrams_js)


def stale_pages(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages whose diagrams would now come out different (``env-get-outdated``).

    File dependencies miss some changes: a step added to a flow from a module the page did not
    depend on yet, or a flow that did not exist when the page was read. Redrawing each
    remembered diagram is cheap and catches them all.
    """
    skip = added | changed | removed
    redrawn: dict[tuple[str, DiagramOptions], str] = {}

    def differs(drawn: Drawn) -> bool:
        if drawn.map_prefix is not None:
            return map_outcome(drawn.map_prefix, drawn.options.direction) != drawn.result
        key = (drawn.flow, drawn.options)
        if key not in redrawn:
            redrawn[key] = outcome(drawn.flow, drawn.options)
        return redrawn[key] != drawn.result

    # A stub links to the page drawing the other flow: when that page is re-read, the flow may
    # move, so the pages linking to it are written again with the new link.
    moving = moved_flows(env, changed | removed)

    def links_moving(drawn: Drawn) -> bool:
        return bool(moving) and bool(linked_flows(drawn.result) & moving)

    return [
        docname
        for docname, drawn in domain_of(env).drawn.items()
        if docname not in skip and any(links_moving(d) or differs(d) for d in drawn)
    ]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``penstock-flow`` directive, its settings and its build events."""
    app.setup_extension("sphinxcontrib.mermaid")
    # Non-HTML builders (LaTeX, EPUB, texinfo) get penstock's DOT drawn by Graphviz.
    app.setup_extension("sphinx.ext.graphviz")

    # Which code declares the flows; a change re-reads every page ("env").
    app.add_config_value("penstock_modules", [], "env", types=(list, tuple))
    app.add_config_value("penstock_paths", [], "env", types=(list, tuple))
    # Site-wide defaults of the directive's options.
    # Site-wide defaults of the per-diagram options declared with site=True in
    # penstock.docs.DiagramOptions: penstock_direction, penstock_show_docs, ...
    for option in DiagramOptions.options():
        if option.site:
            types = (bool,) if option.kind is bool else (str, type(None))
            app.add_config_value(f"penstock_{option.name}", option.default, "env", types=types)
    app.add_config_value("penstock_source_url", None, "env", types=(str, type(None)))
    app.add_config_value("penstock_source_root", "..", "env", types=(str, type(None)))
    app.add_config_value("penstock_allow_problems", False, "env", types=(bool,))
    # Where Mermaid comes from: "bundled" (shipped with penstock, served with the site) or
    # "cdn" (sphinxcontrib-mermaid's own settings).
    app.add_config_value("penstock_mermaid_js", "bundled", "html", types=(str,))

    app.add_directive("penstock-flow", PenstockFlow)
    app.add_directive("penstock-map", PenstockMap)
    # Keeps the extension's state, purged and merged by Sphinx (clear_doc, merge_domaindata).
    app.add_domain(PenstockDomain)

    app.connect("config-inited", serve_bundled_js)
    app.connect("builder-inited", load_flows)
    app.connect("env-get-outdated", stale_pages)
    app.connect("doctree-resolved", resolve_diagram_links)
    app.connect("doctree-resolved", swap_for_builder)
    app.connect("html-page-context", page_assets)

    return {
        "version": __version__,
        "env_version": _ENV_STAMP,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
