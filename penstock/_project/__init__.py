"""The user's project as the CLI and the docs extensions see it.

Its ``[tool.penstock]`` settings (`config`), importing its modules with errors that name the fix
(`modules`), hints about modules left out (`hints`), and the browser files penstock serves with
a docs site (`site_assets`). Above the graph layer, below ``penstock.docs`` and ``penstock.cli``.
"""
