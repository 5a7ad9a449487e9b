"""The options of one diagram, declared once: `DiagramOptions`.

Each per-diagram option is a field declared with `_option`: its name, type (from the
default), default and meaning live here only. The MkDocs extension and plugin, and the Sphinx
directive and ``conf.py`` settings, build their option parsing from `DiagramOptions.options`;
`DiagramOptions.merged` validates what a page wrote. Adding an option is one field here (and its
use where the diagram is drawn); see docs/architecture.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from penstock._graph.model import StepNode
from penstock._render.mermaid import DIRECTIONS
from penstock._suggest import did_you_mean
from penstock.docs._failures import OptionError

__all__ = ["DRIFT_CHOICES", "DiagramOption", "DiagramOptions"]

#: Values of the ``drift`` option.
DRIFT_CHOICES = ("warn", "ignore")

_META = "penstock"


def _option(default: Any, doc: str, *, site: bool = False, required: bool = False) -> Any:
    """A per-diagram option: a field a page author may set on one directive.

    Args:
        default: its value when unset (its type is the option's: ``bool`` or text).
        doc: what it does, one sentence; hosts show it in their option listings.
        site: a site may set its default too (plugin option; ``penstock_NAME`` in conf.py).
        required: a text option that cannot be left empty when written.
    """
    meta = {_META: (doc, site, required)}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DiagramOption:
    """One per-diagram option, as the docs hosts read it.

    Attributes:
        name: the Python spelling (``show_docs``); reStructuredText writes ``show-docs``.
        kind: ``bool`` (a flag) or ``str`` (text).
        default: its value when neither the page nor the site sets it.
        doc: what it does.
        site: whether a site may set its default.
        required: a text option that cannot be left empty when written.
    """

    name: str
    kind: type
    default: Any
    doc: str
    site: bool
    required: bool

    @property
    def rst_name(self) -> str:
        """The spelling of a reStructuredText directive option (``show-docs``)."""
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class DiagramOptions:
    """How one diagram is drawn; each per-diagram option can be set per directive.

    The fields declared with a meaning (`options` lists them) are what a page author writes
    on a directive; the others are set by the host from its own configuration.

    Attributes:
        source_url: a URL template with ``{path}`` (file relative to ``source_root``), ``{line}``,
            ``{module}`` and ``{qualname}``, e.g. ``https://git.example/app/blob/main/{path}#L{line}``.
        source_root: the folder ``{path}`` is relative to (default: the current directory).
        allow_problems: draw the flow even when `penstock.check` reports problems.
        observed_base: the folder ``observed`` and ``coverage`` are relative to (the site's
            config folder).
        since_modules: the modules to load at the ``since`` revision (set by the docs
            extensions from their own configuration).
        since_paths: their folders (absolute, or relative to ``since_root``).
        since_root: the folder in the git checkout the revision is read from (default: the
            current directory).
    """

    direction: str = _option("TD", "Layout direction: TD (or TB), BT, LR or RL.", site=True)
    title: str | None = _option(None, "A title drawn above the diagram.", site=True)
    show_docs: bool = _option(
        False, "Show each step's docstring summary under its name.", site=True
    )
    link_source: bool = _option(
        False, "Make each node a link to its source (needs a source URL template).", site=True
    )
    observed: str | None = _option(
        None,
        "Recorded runs drawn over the flow: a file or glob of JSON log lines or OTLP JSON, "
        "relative to the site's configuration file; or a trace store asked for the counts: "
        "clickhouse://USER@HOST:PORT/DATABASE (password from $PENSTOCK_CLICKHOUSE_PASSWORD) "
        "or chdb:PATH.",
        site=True,
    )
    run: str | None = _option(
        None,
        "With observed: draw only this run's path (a correlation ID or a unique prefix).",
        required=True,
    )
    links: bool = _option(
        True,
        "Draw the flows this one hands work to or receives work from as small stubs, linked "
        "to their diagrams when the site draws them.",
    )
    legend: bool = _option(
        True,
        "Add a legend of the shapes used (entrypoints, steps in other processes, decision "
        "points, linked flows).",
        site=True,
    )
    collapse: bool = _option(
        False, "Draw each module's steps as one box (for flows too big to read or to draw)."
    )
    link_api: bool = _option(
        False,
        "Make each node a link to the step's entry in the API reference (steps not documented "
        "link to their source).",
    )
    since: str | None = _option(
        None,
        "A git revision (or a penstock dump file): mark what changed in the flow since then "
        "(with observed: the recorded calls on what was removed).",
        required=True,
    )
    since_timeout: str | None = _option(
        None,
        "Seconds the since revision may take to load (check out, import, dump) before the "
        "diagram is drawn without highlights and a warning (default 300; 0: no limit).",
        site=True,
    )
    coverage: str | None = _option(
        None,
        "A flow coverage report (JSON, from --penstock-cov-report=json:PATH or penstock "
        "coverage -f json), relative to the site's configuration file: uncovered steps and "
        "edges highlighted, the percentages in the caption.",
        required=True,
    )
    svg: bool = _option(
        False, "Draw the diagram at build time with Graphviz: an inline SVG, no JavaScript."
    )
    zoom: bool = _option(False, "Zoom, pan and full screen on the diagram (HTML pages).", site=True)
    drift: str = _option(
        "warn",
        "With observed: what a transition seen in the runs but not declared does: warn (a build "
        "warning; fails a strict build) or ignore (only marked on the diagram).",
        site=True,
    )

    source_url: str | None = None
    source_root: str | None = None
    allow_problems: bool = False
    observed_base: str | None = None
    since_modules: tuple[str, ...] = ()
    since_paths: tuple[str, ...] = ()
    since_root: str | None = None
    #: ``(module, summary)`` of each module that failed to import at the last load (set by the
    #: host): a flow with steps in one of them is incomplete and is not drawn.
    failed_imports: tuple[tuple[str, str], ...] = ()

    @classmethod
    def options(cls) -> tuple[DiagramOption, ...]:
        """The per-diagram options, in declaration order."""
        found = []
        for f in fields(cls):
            if _META in f.metadata:
                doc, site, required = f.metadata[_META]
                kind = bool if isinstance(f.default, bool) else str
                found.append(DiagramOption(f.name, kind, f.default, doc, site, required))
        return tuple(found)

    def merged(
        self,
        values: Mapping[str, Any],
        *,
        where: str = "",
        host_options: Sequence[str] = (),
        rst: bool = False,
    ) -> DiagramOptions:
        """A copy with per-directive ``values`` applied, validated.

        Args:
            values: what the directive sets, by option name (``show_docs``; ``show-docs``
                too unless ``rst``).
            where: the directive's location, prefixed to messages.
            host_options: options the host handles itself (listed in the unknown-option error).
            rst: names are spelled as in reStructuredText (``show-docs``), and only so.

        Raises:
            OptionError: unknown option (with a did-you-mean) or a value of the wrong type.
        """
        fields_by_name = {o.rst_name if rst else o.name: o.name for o in self.options()}
        changes: dict[str, Any] = {}
        prefix = f"{where}: " if where else ""
        for key, value in values.items():
            name = str(key) if rst else str(key).replace("-", "_")
            if name not in fields_by_name:
                known = (*fields_by_name, *host_options)
                raise OptionError(
                    f"{prefix}unknown penstock-flow option {key!r}{did_you_mean(name, known)} "
                    f"(options: {', '.join(known)})"
                )
            changes[fields_by_name[name]] = value
        return replace(self, **changes).validated(where)

    def validated(self, where: str = "") -> DiagramOptions:
        """Check types and values; normalise the direction to upper case."""
        prefix = f"{where}: " if where else ""
        direction = str(self.direction).upper()
        if direction not in DIRECTIONS:
            hint = did_you_mean(direction, DIRECTIONS)
            raise OptionError(
                f"{prefix}direction {self.direction!r} is not one of {', '.join(DIRECTIONS)}{hint}"
            )
        flags = [o.name for o in self.options() if o.kind is bool] + ["allow_problems"]
        for flag in flags:
            if not isinstance(getattr(self, flag), bool):
                raise OptionError(
                    f"{prefix}option {flag!r} must be true or false, got {getattr(self, flag)!r}"
                )
        if self.title is not None and not isinstance(self.title, (str, int, float)):
            raise OptionError(f"{prefix}option 'title' must be text, got {self.title!r}")
        if self.link_source and not self.source_url:
            raise OptionError(
                f"{prefix}link_source needs a source_url template, e.g. "
                "'https://github.com/ORG/REPO/blob/main/{path}#L{line}'"
            )
        title = None if self.title is None else str(self.title)
        if self.since is not None and (not isinstance(self.since, str) or not self.since.strip()):
            raise OptionError(
                f"{prefix}option 'since' must be a git revision written as text (quote "
                f'numbers, e.g. since: "v1.10"), got {self.since!r}'
            )
        if self.since is not None and self.observed and self.run is not None:
            raise OptionError(
                f"{prefix}option 'run' draws one recorded run, 'since' what changed; with "
                "'since', 'observed' puts the recorded traffic on the changes instead"
            )
        observed, run = _observed_options(self.observed, self.run, prefix)
        drift = str(self.drift).strip().lower()
        if drift not in DRIFT_CHOICES:
            hint = did_you_mean(drift, DRIFT_CHOICES)
            raise OptionError(
                f"{prefix}option 'drift' is one of {', '.join(DRIFT_CHOICES)}, "
                f"got {self.drift!r}{hint}"
            )
        if self.since_timeout is not None:
            _seconds(self.since_timeout, prefix)
        coverage = None if self.coverage in (None, False, "") else self.coverage
        if coverage is not None and not isinstance(coverage, str):
            raise OptionError(
                f"{prefix}option 'coverage' must be the path of a coverage report (JSON), "
                f"got {coverage!r}"
            )
        if coverage is not None and (observed or self.since is not None):
            other = "observed" if observed else "since"
            raise OptionError(
                f"{prefix}options 'coverage' and {other!r} draw different marks; "
                "use one per diagram"
            )
        return replace(
            self,
            direction=direction,
            title=title,
            observed=observed,
            run=run,
            coverage=coverage,
            drift=drift,
        )

    @property
    def since_seconds(self) -> float | None:
        """``since_timeout`` in seconds (``None``: no limit); the default when unset."""
        from penstock._versions.revisions import DEFAULT_TIMEOUT

        if self.since_timeout is None:
            return DEFAULT_TIMEOUT
        return _seconds(self.since_timeout, "") or None

    def source_linker(self) -> Callable[[StepNode], str | None] | None:
        """The source link of a step under these options (``None`` without a ``source_url``).

        Hosts use it as the fallback of ``link_api`` for steps the API reference does not list.
        """
        return _source_linker(self) if self.source_url else None


def _seconds(value: Any, prefix: str) -> float:
    # YAML and conf.py give numbers; reStructuredText gives text.
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not seconds >= 0:
        raise OptionError(
            f"{prefix}option 'since_timeout' must be a number of seconds (0: no limit), "
            f"got {value!r}"
        )
    return seconds


def _observed_options(observed: Any, run: Any, prefix: str) -> tuple[str | None, str | None]:
    # YAML reads `observed: false` as False and a numeric-looking run ID as a number.
    if observed is False or observed == "":
        observed = None
    if observed is not None and not isinstance(observed, str):
        raise OptionError(f"{prefix}option 'observed' must be a path or glob, got {observed!r}")
    if run is not None and not isinstance(run, (str, int)):
        raise OptionError(f"{prefix}option 'run' must be a correlation ID, got {run!r}")
    if run is not None and observed is None:
        raise OptionError(f"{prefix}option 'run' needs 'observed' (the files to find it in)")
    return observed, None if run is None else str(run)


def _source_linker(opts: DiagramOptions) -> Callable[[StepNode], str | None]:
    template = opts.source_url or ""
    root = Path(opts.source_root or os.getcwd()).resolve()

    def link(node: StepNode) -> str | None:
        if not node.file:  # a step only recorded runs name: no source to link to
            return None
        try:
            path = Path(node.file).resolve().relative_to(root).as_posix()
        except ValueError:
            path = Path(node.file).name
        try:
            return template.format(
                path=path, line=node.line, module=node.module, qualname=node.qualname
            )
        except (KeyError, IndexError, ValueError) as exc:
            raise OptionError(
                f"source_url {template!r} is not a valid template ({exc}); "
                "use the fields {path}, {line}, {module} and {qualname}"
            ) from None

    return link
