"""Flow coverage: which declared steps, edges, branches and paths runs exercised.

One computation (`compute`) over what runs did (`hits`), fed by the running process (`tap`,
for the pytest plugin) or by recorded runs (`recorded`, for ``penstock coverage``), and written
in the shapes pytest-cov users know (`text`, `markdown`, `drawing`; the JSON `model`).
"""
