"""penstock diagrams in Sphinx: flows drawn from the code on every build.

In ``conf.py``::

    extensions = ["penstock_sphinx"]
    penstock_modules = ["bom_sync.consumer", "bom_sync.sync"]
    penstock_paths = ["../examples"]  # put on sys.path, relative to conf.py

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
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError
from sphinx.util import logging

from penstock import __version__
from penstock.docs import DiagramOptions, ModuleImportError, OptionError, load_modules
from penstock_sphinx._directive import Drawn, PenstockFlow, drawn_on, outcome

__all__ = ["setup"]

logger = logging.getLogger(__name__)

#: Bump when the shape of what the extension keeps on the environment changes, so Sphinx
#: re-reads everything instead of unpickling stale data.
ENV_VERSION = 1
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
    modules = list(config.penstock_modules)
    paths = [confdir / p for p in config.penstock_paths]
    failures: list[ModuleImportError] = []
    if modules or paths:
        load_modules(modules, paths, fresh=bool(modules), failures=failures)
    for exc in failures:
        logger.warning(
            "penstock: %s", exc, location=exc.location, type="penstock", subtype="import-error"
        )
    app.env.penstock_import_failures = [e.module for e in failures]  # type: ignore[attr-defined]
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
        ).validated("conf.py (penstock_* settings)")
    except OptionError as exc:
        raise ConfigError(str(exc)) from None
    app.env.penstock_defaults = defaults  # type: ignore[attr-defined]
    drawn_on(app.env)


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
        key = (drawn.flow, drawn.options)
        if key not in redrawn:
            redrawn[key] = outcome(drawn.flow, drawn.options)
        return redrawn[key] != drawn.result

    return [
        docname
        for docname, drawn in drawn_on(env).items()
        if docname not in skip and any(differs(d) for d in drawn)
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

    app.add_directive("penstock-flow", PenstockFlow)

    app.connect("builder-inited", load_flows)
    app.connect("env-get-outdated", stale_pages)
    app.connect("env-purge-doc", purge_page)
    app.connect("env-merge-info", merge_pages)

    return {
        "version": __version__,
        "env_version": _ENV_STAMP,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
