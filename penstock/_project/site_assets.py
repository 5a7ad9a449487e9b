"""The browser files penstock ships, so docs sites draw diagrams without a CDN or npm.

``_static/penstock/`` holds a pinned Mermaid build (``mermaid.min.js``, MIT, licence in
``mermaid.LICENSE.txt``), d3 for sphinxcontrib-mermaid's ``:zoom:`` (``d3.min.js``, ISC, licence
in ``d3.LICENSE.txt``), an ES module wrapper for hosts that import Mermaid as a module, and a
small script that draws ``pre.mermaid`` blocks on themes that do not, a script that fits each
diagram to its text column, and a stylesheet with the diagrams' light and dark colours.
``make vendor-js`` refreshes them from the npm packages under ``tools/`` (a development-time
step only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ASSETS", "D3_VERSION", "MERMAID_VERSION", "SiteAssets"]

#: The versions of the shipped builds (kept in step by ``make vendor-js``).
MERMAID_VERSION = "11.17.2"
D3_VERSION = "7.9.2"


@dataclass(frozen=True)
class SiteAssets:
    """Where the shipped browser files are: one folder, and paths relative to it.

    The relative paths stay valid once a host copies `folder` into its site's static folder
    (everything below it is under ``penstock/``), so a host links ``folder / mermaid_js`` at
    build time and ``mermaid_js`` on the page.

    Attributes:
        folder: a folder to serve as is.
        mermaid_js: the pinned Mermaid build (a classic script defining ``mermaid``).
        mermaid_esm: an ES module wrapper, for hosts that import Mermaid as a module.
        mermaid_init: draws ``pre.mermaid`` blocks on themes that do not draw them.
        diagrams_js: fits each diagram to its column and hands penstock's colours to Mermaid.
        diagram_css: the diagrams' light and dark colours, and their fit to the column.
        d3_js: d3, for sphinxcontrib-mermaid's ``:zoom:``.
        licenses: the licences of the shipped third-party builds (Mermaid: MIT, d3: ISC).
    """

    folder: Path
    mermaid_js: str = "penstock/mermaid.min.js"
    mermaid_esm: str = "penstock/penstock-mermaid.mjs"
    mermaid_init: str = "penstock/penstock-mermaid-init.js"
    diagrams_js: str = "penstock/penstock-diagrams.js"
    diagram_css: str = "penstock/penstock.css"
    d3_js: str = "penstock/d3.min.js"
    licenses: tuple[str, ...] = ("penstock/mermaid.LICENSE.txt", "penstock/d3.LICENSE.txt")


#: The files this installation of penstock ships.
ASSETS = SiteAssets(Path(__file__).resolve().parent.parent / "_static")
