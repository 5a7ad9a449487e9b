"""Loading built docs sites in real headless Chromium and reading what Mermaid drew.

Debian's ``chromium`` is driven by Playwright for Python with ``executable_path`` set (browsers are
never downloaded). A site folder is served by a small HTTP server on 127.0.0.1; every request to
another host is blocked and recorded, so a site that would fetch Mermaid or fonts from a CDN
fails its checks instead of silently rendering from the network.

Material for MkDocs draws each diagram into a *closed* shadow root; an init script forces
``attachShadow`` to open mode so the SVG can be inspected. A finished diagram is an ``svg`` with
``aria-roledescription`` (Mermaid's temporary layout SVG has none); a failed one is an SVG whose
role is ``error`` ("Syntax error in text"): inside the ``pre`` with sphinxcontrib-mermaid, in a
stray ``div`` at the end of ``body`` with Material.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.system import require_executable

__all__ = [
    "CHROMIUM_ARGS",
    "Browser",
    "DiagramReport",
    "PageReport",
    "StaticSite",
    "browser",
]

#: Flags that keep Chromium quiet on a machine without network access.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
)

# Runs before any page script: Material's closed shadow roots become inspectable.
_OPEN_SHADOW_ROOTS = """
(() => {
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    return attach.call(this, Object.assign({}, init, { mode: "open" }));
  };
})();
"""

# Shared by the wait and the read: the outermost `.mermaid` elements, and where each one's
# drawing lives (its shadow root when Material drew it, else the element itself).
_HELPERS = """
const containers = () => [...document.querySelectorAll(".mermaid")].filter(
  (el) => !el.parentElement || !el.parentElement.closest(".mermaid"));
const rootOf = (el) => el.shadowRoot || el;
const finalSvg = (el) => rootOf(el).querySelector("svg[aria-roledescription]");
const errorSvgs = () => {
  const found = [...document.querySelectorAll('svg[aria-roledescription="error"]')];
  for (const el of containers()) {
    if (el.shadowRoot) {
      found.push(...el.shadowRoot.querySelectorAll('svg[aria-roledescription="error"]'));
    }
  }
  return found;
};
const textOf = (node) => {
  const copy = node.cloneNode(true);
  copy.querySelectorAll("style").forEach((s) => s.remove());
  copy.querySelectorAll("br").forEach((br) => br.replaceWith("\\n"));
  return copy.textContent.replace(/[ \\t]+/g, " ").trim();
};
"""

_ALL_SETTLED = (
    "() => {"
    + _HELPERS
    + """
  const all = containers();
  const drawn = all.filter((el) => {
    const svg = finalSvg(el);
    return svg && svg.getAttribute("aria-roledescription") !== "error";
  }).length;
  return drawn + errorSvgs().length >= all.length;
}"""
)

_READ = (
    "() => {"
    + _HELPERS
    + """
  const diagrams = containers().map((el) => {
    const svg = finalSvg(el);
    const role = svg ? svg.getAttribute("aria-roledescription") : null;
    const out = {
      rendered: Boolean(svg) && role !== "error",
      kind: role,
      labels: [],
      edge_labels: [],
      markup: [],
      hrefs: [],
      title: null,
      error: role === "error" ? textOf(svg) : null,
      source: el.getAttribute("data-original-code") || (svg ? null : el.textContent),
      legend: [],
    };
    const box = el.closest(".penstock-diagram");
    if (box) {
      out.legend = [...box.querySelectorAll(".penstock-legend li")].map((li) => textOf(li));
    }
    if (svg && role !== "error") {
      out.labels = [...svg.querySelectorAll("g.node")].map((node) => {
        const label = node.querySelector(".nodeLabel") || node.querySelector(".label") || node;
        return textOf(label);
      });
      // Mermaid nests a span.edgeLabel inside each g.edgeLabel: read the outer ones only.
      out.edge_labels = [...svg.querySelectorAll(".edgeLabel")]
        .filter((e) => !e.parentElement.closest(".edgeLabel"))
        .map((e) => textOf(e)).filter((t) => t);
      const title = svg.querySelector(".flowchartTitleText");
      out.title = title ? textOf(title) : null;
      // Elements inside label HTML: anything beyond Mermaid's own wrappers came from text.
      for (const fo of svg.querySelectorAll("foreignObject")) {
        for (const child of fo.querySelectorAll("*")) {
          out.markup.push(child.localName);
        }
      }
      for (const node of svg.querySelectorAll("script, iframe, object, embed, img, image")) {
        out.markup.push(node.localName);
      }
      for (const a of svg.querySelectorAll("[href], [*|href]")) {
        out.hrefs.push(a.getAttribute("href") || a.getAttribute("xlink:href") || "");
      }
      for (const a of svg.querySelectorAll("a")) {
        const h = a.getAttribute("href") || a.getAttribute("xlink:href");
        if (h !== null && !out.hrefs.includes(h)) out.hrefs.push(h);
      }
    }
    return out;
  });
  return { diagrams, errors: errorSvgs().map(textOf) };
}"""
)


@dataclass(frozen=True)
class DiagramReport:
    """What one ``.mermaid`` container on a page holds after Mermaid ran.

    Attributes:
        rendered: a final (non-error) SVG is there.
        kind: the SVG's ``aria-roledescription`` (``flowchart-v2``, ``error``) or None.
        labels: each node's label text, in document order (``<br>`` becomes a newline).
        edge_labels: the non-empty edge label texts.
        markup: tag names of every element inside label HTML (``foreignObject``) and of any
            script/iframe/object/embed/img/image element in the SVG.
        hrefs: every link target in the SVG.
        title: the diagram title text, if any.
        error: the error SVG's text, if this container holds one.
        source: the Mermaid text when the diagram was not drawn (for messages).
        legend: the lines of the legend penstock shows below the diagram (HTML, not drawn).
    """

    rendered: bool
    kind: str | None
    labels: tuple[str, ...]
    edge_labels: tuple[str, ...]
    markup: tuple[str, ...]
    hrefs: tuple[str, ...]
    title: str | None
    error: str | None
    source: str | None
    legend: tuple[str, ...] = ()


@dataclass
class PageReport:
    """Everything one page load showed: its diagrams and what went wrong around them.

    Attributes:
        url: the page loaded.
        diagrams: one report per outermost ``.mermaid`` element, in document order.
        errors: the text of every Mermaid error SVG on the page (including Material's stray ones).
        console_errors: console messages of type error, and uncaught page exceptions.
        failed_requests: ``"URL (reason)"`` of requests that failed or got a 4xx/5xx answer.
        outside_requests: requests to any host other than 127.0.0.1 (all are blocked).
        dialogs: messages of alert/confirm/prompt dialogs a page opened (injected script).
        timed_out: the diagrams had not all settled when the wait ended.
    """

    url: str
    diagrams: list[DiagramReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    timed_out: bool = False
    #: What the ``extra`` script given to `Browser.check_page` returned, if any.
    extra: Any = None

    def problems(self) -> list[str]:
        """Human-readable reasons this page is not a clean, fully rendered, offline page."""
        out: list[str] = []
        if self.timed_out:
            out.append("timed out waiting for the diagrams")
        for i, d in enumerate(self.diagrams):
            if not d.rendered:
                out.append(f"diagram {i} not rendered ({d.kind}): {d.error or d.source!r}")
        out += [f"Mermaid error: {e[:300]}" for e in self.errors]
        out += [f"console error: {e}" for e in self.console_errors]
        out += [f"failed request: {r}" for r in self.failed_requests]
        out += [f"request outside 127.0.0.1: {r}" for r in self.outside_requests]
        out += [f"dialog opened: {m}" for m in self.dialogs]
        return out

    def assert_clean(self, expected_diagrams: int | None = None) -> None:
        """Fail unless every diagram rendered and nothing went wrong on the page."""
        found = self.problems()
        if expected_diagrams is not None and len(self.diagrams) != expected_diagrams:
            found.insert(0, f"{len(self.diagrams)} diagram(s), expected {expected_diagrams}")
        assert not found, f"{self.url}:\n  " + "\n  ".join(found)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output is for failures, not access logs


class StaticSite:
    """A built site folder served over HTTP on 127.0.0.1 (a free port, a daemon thread).

    Use as a context manager; :meth:`url` gives a page's address.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        handler = functools.partial(_QuietHandler, directory=str(self.folder))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.port = int(self._server.server_address[1])

    def url(self, page: str = "") -> str:
        """The address of ``page`` (a path relative to the site folder)."""
        return f"http://127.0.0.1:{self.port}/{page.lstrip('/')}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StaticSite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Browser:
    """One headless Chromium for a test package; the checks take turns in one reused tab.

    A new tab costs Chromium a renderer process (about 0.6 s of CPU each here, more than most
    pages cost to load), so the checks navigate one tab from page to page instead. Between
    checks nothing is carried over: the page's storage and cookies are cleared, every event is
    reported to the check that is loading, and after any failure the tab is closed and the
    next check opens a new one.
    """

    def __init__(self, executable: str) -> None:
        from playwright.sync_api import sync_playwright

        self._manager = sync_playwright()
        self._playwright = self._manager.start()
        self._browser = self._playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS)
        )
        self._context: Any = None
        self._page: Any = None
        #: The report of the check under way (``None`` between checks and for `interact`).
        self._report: PageReport | None = None
        #: The check each request was made for: a request of the page before (its favicon,
        #: aborted by the next navigation) is not reported against the next one.
        self._made_for: dict[Any, PageReport] = {}

    def close(self) -> None:
        self._browser.close()
        self._manager.__exit__(None, None, None)

    def _tab(self, viewport: tuple[int, int] | None, url: str) -> Any:
        """The reused tab, at ``viewport`` (Playwright's 1280x720 by default), ready for ``url``."""
        if self._page is None:
            context = self._browser.new_context()
            context.add_init_script(_OPEN_SHADOW_ROOTS)
            context.route("**/*", self._on_route)
            page = context.new_page()
            page.on("console", self._on_console)
            page.on("pageerror", self._on_page_error)
            page.on("request", self._on_request)
            page.on("requestfailed", self._on_failed)
            page.on("response", self._on_response)
            page.on("dialog", self._on_dialog)
            self._context, self._page = context, page
        page = self._page
        width, height = viewport or (1280, 720)
        if page.viewport_size != {"width": width, "height": height}:
            page.set_viewport_size({"width": width, "height": height})
        if page.url != "about:blank" and page.url.split("#")[0] == url.split("#")[0]:
            # Only the fragment would change: that is no new load. Leave the page first.
            page.goto("about:blank")
        return page

    def _done(self, ok: bool) -> None:
        """End a check: the next page finds no storage or cookie of this one."""
        self._report = None
        self._made_for.clear()
        if ok:
            try:
                self._page.evaluate(_FORGET)
                self._context.clear_cookies()
                return
            except Exception:  # the page is gone or hung: start the next check afresh
                pass
        context, self._context, self._page = self._context, None, None
        if context is not None:
            with contextlib.suppress(Exception):  # already closed with the browser
                context.close()

    def check_page(
        self,
        url: str,
        *,
        timeout_s: float = 20.0,
        extra: str | None = None,
        screenshot: Path | None = None,
        viewport: tuple[int, int] | None = None,
    ) -> PageReport:
        """Load ``url``, wait until every diagram is drawn or an error is shown, and report.

        ``extra`` is a JavaScript function run last; its result lands in ``report.extra``.
        With ``screenshot``, a full-page PNG is saved there for a reviewer to look at.
        ``viewport`` is the window's ``(width, height)`` (Playwright's 1280x720 by default).
        """
        report = PageReport(url=url)
        ok = False
        try:
            page = self._tab(viewport, url)
            self._report = report
            page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            try:
                page.wait_for_function(_ALL_SETTLED, timeout=timeout_s * 1000, polling=100)
            except Exception as exc:  # Playwright's TimeoutError: report it, do not raise
                if type(exc).__name__ != "TimeoutError":
                    raise
                report.timed_out = True
            # Material renders diagrams one after another: let a trailing stray error land.
            page.wait_for_timeout(150)
            data = page.evaluate(_READ)
            if extra is not None:
                report.extra = page.evaluate(extra)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
            ok = not report.timed_out
        finally:
            self._done(ok)
        report.errors = list(data["errors"])
        report.diagrams = [
            DiagramReport(
                rendered=bool(d["rendered"]),
                kind=d["kind"],
                labels=tuple(d["labels"]),
                edge_labels=tuple(d["edge_labels"]),
                markup=tuple(d["markup"]),
                hrefs=tuple(d["hrefs"]),
                title=d["title"],
                error=d["error"],
                source=d["source"],
                legend=tuple(d["legend"]),
            )
            for d in data["diagrams"]
        ]
        return report

    def interact(
        self,
        url: str,
        script: str,
        *,
        timeout_s: float = 20.0,
        screenshot: Path | None = None,
    ) -> Any:
        """Load ``url``, wait for the diagrams, run ``script`` (a JS function body taking no
        argument, may be async) and return its result; then save a screenshot if asked."""
        ok = False
        try:
            page = self._tab(None, url)
            page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            page.wait_for_function(_ALL_SETTLED, timeout=timeout_s * 1000, polling=100)
            result = page.evaluate(f"async () => {{ {script} }}")
            page.wait_for_timeout(100)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
            ok = True
            return result
        finally:
            self._done(ok)

    # Events go to the check under way; between checks (a page unloading) they are dropped.
    def _on_route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname != "127.0.0.1":
            if self._report is not None:
                self._report.outside_requests.append(url)
            route.abort("blockedbyclient")
            return
        route.continue_()

    def _on_console(self, message: Any) -> None:
        if self._report is not None and message.type == "error":
            self._report.console_errors.append(message.text)

    def _on_page_error(self, error: Any) -> None:
        if self._report is not None:
            self._report.console_errors.append(f"uncaught: {error}")

    def _on_request(self, request: Any) -> None:
        if self._report is not None:
            self._made_for[request] = self._report

    def _on_failed(self, request: Any) -> None:
        host = urlsplit(request.url).hostname
        report = self._made_for.get(request)
        # Blocked outside requests are already reported as such.
        if report is not None and host == "127.0.0.1":
            report.failed_requests.append(f"{request.url} ({request.failure})")

    def _on_response(self, response: Any) -> None:
        report = self._made_for.get(response.request)
        if report is not None and response.status >= 400:
            report.failed_requests.append(f"{response.url} (HTTP {response.status})")

    def _on_dialog(self, dialog: Any) -> None:
        if self._report is not None:
            self._report.dialogs.append(dialog.message)
        dialog.dismiss()


#: What a page may leave for the next one on its origin.
_FORGET = "() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) {} }"


# Package scope, not session: Playwright's sync API keeps an event loop marked as running in the
# main thread while it is open, which breaks every asyncio test that runs after it.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium for one test package (skips, or fails under CI, without it)."""
    executable = require_executable("chromium", "install it, e.g. apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        from tests.support.system import missing

        missing("Playwright for Python", "pip install -e '.[dev]'")
    instance = Browser(executable)
    yield instance
    instance.close()
