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

from pathlib import Path

__all__ = [
    "D3_JS",
    "D3_VERSION",
    "DIAGRAMS_JS",
    "DIAGRAM_CSS",
    "LICENSES",
    "MERMAID_ESM",
    "MERMAID_INIT",
    "MERMAID_JS",
    "MERMAID_VERSION",
    "STATIC_DIR",
]

#: A folder to serve as is: everything below is under ``penstock/``.
STATIC_DIR = Path(__file__).resolve().parent.parent / "_static"
#: The versions of the shipped builds (kept in step by ``make vendor-js``).
MERMAID_VERSION = "11.17.2"
D3_VERSION = "7.9.2"
#: Paths relative to `STATIC_DIR` (and to a site's static folder once copied).
MERMAID_JS = "penstock/mermaid.min.js"
MERMAID_ESM = "penstock/penstock-mermaid.mjs"
MERMAID_INIT = "penstock/penstock-mermaid-init.js"
#: The stylesheet that lets diagrams keep their natural size and scroll sideways when wide.
DIAGRAM_CSS = "penstock/penstock.css"
D3_JS = "penstock/d3.min.js"
#: The script that fits each diagram to its column and hands penstock's colours to Mermaid.
DIAGRAMS_JS = "penstock/penstock-diagrams.js"
LICENSES = ("penstock/mermaid.LICENSE.txt", "penstock/d3.LICENSE.txt")
