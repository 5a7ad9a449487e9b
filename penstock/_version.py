"""The version of penstock that is running: the git tag it was built from.

The build backend (hatch-vcs) writes ``_build_version.py`` from the tag when the package is
built or installed, editable installs included. Importing it costs nothing, unlike
``importlib.metadata``, which would make every ``import penstock`` scan the installed
distributions. A checkout put on ``sys.path`` without any install has no such file.
"""

try:
    from penstock._build_version import __version__
except ImportError:  # a source tree that was never built or installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
