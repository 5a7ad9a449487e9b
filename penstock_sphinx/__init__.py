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

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError
from sphinx.util import logging

from penstock import PenstockError, __version__
from penstock.docs import (
    D3_JS,
    DIAGRAM_CSS,
    MERMAID_ESM,
    STATIC_DIR,
    DiagramOptions,
    ModuleImportError,
    OptionError,
    load_modules,
    module_sources,
)
from penstock_sphinx._directive import Drawn, PenstockFlow, drawn_on, outcome
from penstock_sphinx._map import PenstockMap, map_outcome
from penstock_sphinx._offline import swap_for_builder
from penstock_sphinx._xref import (
    PenstockDomain,
    linked_flows,
    moved_flows,
    resolve_diagram_links,
)

__all__ = ["setup"]

logger = logging.getLogger(__name__)

#: Bump when the shape of what the extension keeps on the environment changes, so Sphinx
#: re-reads everything instead of unpickling stale data.
ENV_VERSION = 2
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
    app.env.penstock_import_failures = [f.module for f in failures]  # type: ignore[attr-defined]
    app.env.penstock_module_names = list(sources.modules)  # type: ignore[attr-defined]
    app.env.penstock_sources = sources  # type: ignore[attr-defined]
    app.env.penstock_page_root = str(page_root.resolve())  # type: ignore[attr-defined]
    root = config.penstock_source_root
    try:
        defaults = DiagramOptions(
            direction=config.penstock_direction,
            show_docs=config.penstock_show_docs,
            link_source=config.penstock_link_source,
            source_url=config.penstock_source_url,
            source_root=None if root is None else str((confdir / root).resolve()),
            allow_problems=config.penstock_allow_problems,
            observed=config.penstock_observed,
            observed_base=str(confdir),
            legend=config.penstock_legend,
            # For `:since: REV`: the revision is loaded with conf.py's modules and paths, else
            # with its own [tool.penstock].
            since_modules=tuple(config.penstock_modules),
            since_paths=tuple(str(confdir / p) for p in config.penstock_paths),
            since_root=str(confdir),
        ).validated("conf.py (penstock_* settings)")
    except OptionError as exc:
        raise ConfigError(str(exc)) from None
    app.env.penstock_defaults = defaults  # type: ignore[attr-defined]
    drawn_on(app.env)


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
    # The stylesheet keeping diagrams at their natural size is served either way.
    config.html_static_path = [*config.html_static_path, str(STATIC_DIR)]
    app.add_css_file(DIAGRAM_CSS)
    if choice == "cdn":
        return
    if not config.mermaid_use_local:
        config.mermaid_use_local = MERMAID_ESM
    if not config.d3_use_local:
        # sphinxcontrib-mermaid adds this one with add_js_file: relative to _static already.
        config.d3_use_local = D3_JS


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
        for docname, drawn in drawn_on(env).items()
        if docname not in skip and any(links_moving(d) or differs(d) for d in drawn)
    ]


def purge_page(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget what a page drew before it is re-read or removed (``env-purge-doc``)."""
    drawn_on(env).pop(docname, None)


def merge_pages(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    """Take over what a parallel reader's pages drew (``env-merge-info``)."""
    ours: dict[str, list[Drawn]] = drawn_on(env)
    theirs = drawn_on(other)
    for docname in docnames:
        if docname in theirs:
            ours[docname] = theirs[docname]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``penstock-flow`` directive, its settings and its build events."""
    app.setup_extension("sphinxcontrib.mermaid")
    # Non-HTML builders (LaTeX, EPUB, texinfo) get penstock's DOT drawn by Graphviz.
    app.setup_extension("sphinx.ext.graphviz")

    # Which code declares the flows; a change re-reads every page ("env").
    app.add_config_value("penstock_modules", [], "env", types=(list, tuple))
    app.add_config_value("penstock_paths", [], "env", types=(list, tuple))
    # Site-wide defaults of the directive's options.
    app.add_config_value("penstock_direction", "TD", "env", types=(str,))
    app.add_config_value("penstock_show_docs", False, "env", types=(bool,))
    app.add_config_value("penstock_link_source", False, "env", types=(bool,))
    app.add_config_value("penstock_source_url", None, "env", types=(str, type(None)))
    app.add_config_value("penstock_source_root", "..", "env", types=(str, type(None)))
    app.add_config_value("penstock_allow_problems", False, "env", types=(bool,))
    app.add_config_value("penstock_observed", None, "env", types=(str, type(None)))
    # Where Mermaid comes from: "bundled" (shipped with penstock, served with the site) or
    # "cdn" (sphinxcontrib-mermaid's own settings).
    app.add_config_value("penstock_mermaid_js", "bundled", "html", types=(str,))
    app.add_config_value("penstock_legend", True, "env", types=(bool,))

    app.add_directive("penstock-flow", PenstockFlow)
    app.add_directive("penstock-map", PenstockMap)
    app.add_domain(PenstockDomain)

    app.connect("config-inited", serve_bundled_js)
    app.connect("builder-inited", load_flows)
    app.connect("env-get-outdated", stale_pages)
    app.connect("env-purge-doc", purge_page)
    app.connect("env-merge-info", merge_pages)
    app.connect("doctree-resolved", resolve_diagram_links)
    app.connect("doctree-resolved", swap_for_builder)

    return {
        "version": __version__,
        "env_version": _ENV_STAMP,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
