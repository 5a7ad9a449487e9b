"""``mkdocs build`` with Material and the ``penstock`` plugin, for real, in a temporary folder."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.mkdocs.conftest import ORDERS, Build, expected, run, write_site
from tests.support.mermaid import MermaidOracle

INDEX = """
---
title: Orders
---
# Orders

::: penstock-flow orders
    direction: LR
    title: Orders & <more>

```mermaid
graph TD
    a --> b
```

Write this in a page:

```md
::: penstock-flow orders
```

!!! note "Inside an admonition"

    ::: penstock-flow "orders"
"""

DOCS = """
# With docstrings

::: penstock-flow orders
    show_docs: true
"""


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = write_site(tmp_path_factory.mktemp("good"), {"index.md": INDEX, "docs.md": DOCS})
    return run("mkdocs", root, "--strict")


def test_strict_build_passes(good: Build) -> None:
    """A site whose directives are all valid builds under --strict without warnings."""
    assert good.returncode == 0, good.output
    assert "WARNING" not in good.output


def test_directive_becomes_the_flow_mermaid(good: Build) -> None:
    """The directive's pre.mermaid holds exactly penstock's Mermaid text, with its options."""
    want = expected(
        ["shop.orders"], good.site / "src", "orders", direction="LR", title="Orders & <more>"
    )
    assert good.diagrams()[0] == want


def test_html_is_escaped_like_superfences(good: Build) -> None:
    """The Mermaid text sits HTML-escaped (& < >, quotes kept) in <pre class="mermaid"><code>."""
    want = expected(
        ["shop.orders"], good.site / "src", "orders", direction="LR", title="Orders & <more>"
    )
    assert "-->" in want
    escaped = html.escape(want, quote=False)
    assert f'<pre class="mermaid"><code>{escaped}</code></pre>' in good.page()


def test_hand_written_mermaid_fence_untouched(good: Build) -> None:
    """A hand-written mermaid fence on the same page still renders through superfences."""
    assert "graph TD\n    a --> b" in good.diagrams()


def test_directive_in_fenced_code_stays_literal(good: Build) -> None:
    """A directive inside a fenced code block is shown as text, not expanded."""
    page = good.page()
    assert "<code>::: penstock-flow orders\n</code>" in page


def test_directive_inside_admonition_is_drawn(good: Build) -> None:
    """An indented directive (inside an admonition) becomes a diagram; quotes around the name go."""
    page = good.page()
    note = page[page.index('class="admonition note"') :]
    assert note.index('<pre class="mermaid">') < note.index("</div>")
    want = expected(["shop.orders"], good.site / "src", "orders")
    assert good.diagrams()[-1] == want


def test_show_docs_never_lets_markup_through(good: Build) -> None:
    """Docstrings with HTML are drawn verbatim: no live tag reaches the page."""
    (diagram,) = good.diagrams("docs")
    assert diagram == expected(["shop.orders"], good.site / "src", "orders", show_docs=True)
    page = good.page("docs")
    assert "<script>alert" not in page
    assert "<b>now</b>" not in page


def test_every_drawn_diagram_parses_in_mermaid_11_and_12(
    good: Build, mermaid_oracle: MermaidOracle
) -> None:
    """What the pages carry, read back as a browser would, is valid Mermaid with the step names."""
    texts = [t for t in good.diagrams() + good.diagrams("docs") if "receive_order" in t]
    assert len(texts) == 3
    for version, results in mermaid_oracle.parse(texts).items():
        for text, parsed in zip(texts, results, strict=True):
            assert parsed.ok, (version, parsed.error, text)
            labels = {v["text"] for v in parsed.vertices.values()}
            assert any(label.startswith("receive_order") for label in labels), labels
            assert any(label.startswith("end") for label in labels), labels
        # The docstring's markup is shown as text (Mermaid drops only penstock's own <br/>).
        assert 'receive_orderTake an order <b>now</b> & "then".' in {
            v["text"] for v in results[-1].vertices.values()
        }


ERRORS = """
---
title: Errors
tags: [a, b]
---
# Errors

::: penstock-flow ordrs

::: penstock-flow orders
    directon: LR

::: penstock-flow dangling
"""

DANGLING = '''
from penstock import entrypoint, flow, step


@flow("dangling")
@entrypoint
def start():
    """Start."""


@flow("dangling")
@step(after="strat")
def finish():
    """Finish."""
'''


def _error_site(root: Path) -> Path:
    return write_site(
        root,
        {"index.md": ERRORS},
        plugin={"modules": ["shop.orders", "shop.dangling"]},
        modules={"shop/orders.py": ORDERS, "shop/dangling.py": DANGLING},
    )


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return run("mkdocs", _error_site(tmp_path_factory.mktemp("lenient")))


def test_errors_are_warnings_with_page_line_and_did_you_mean(lenient: Build) -> None:
    """Each bad directive warns with page:line (front matter counted), flow and a suggestion."""
    assert lenient.returncode == 0, lenient.output
    warnings = [line for line in lenient.output.splitlines() if line.startswith("WARNING")]
    assert any(
        "index.md:7: penstock-flow 'ordrs': unknown flow 'ordrs'; did you mean 'orders'?" in w
        for w in warnings
    ), warnings
    assert any(
        "index.md:9: unknown penstock-flow option 'directon'; did you mean 'direction'?" in w
        for w in warnings
    ), warnings
    assert any("index.md:12: penstock-flow 'dangling'" in w for w in warnings), warnings
    assert "'strat'" in lenient.output
    assert "did you mean 'start'" in lenient.output
    assert all("penstock_mkdocs:" in w for w in warnings)


def test_errors_show_an_admonition_instead_of_the_diagram(lenient: Build) -> None:
    """Without --strict, each failed directive becomes a visible failure admonition."""
    page = lenient.page()
    boxes = re.findall(r'<div class="admonition failure penstock-error">(.*?)</div>', page, re.S)
    assert len(boxes) == 3
    assert "did you mean &#x27;orders&#x27;" in boxes[0]
    assert html.escape("cannot draw flow 'dangling'") in html.escape(html.unescape(boxes[2]))
    assert lenient.diagrams() == []


def test_strict_build_fails_on_errors(tmp_path: Path) -> None:
    """`mkdocs build --strict` exits non-zero on a bad directive."""
    build = run("mkdocs", _error_site(tmp_path), "--strict")
    assert build.returncode == 1
    assert "index.md:7: penstock-flow 'ordrs'" in build.output
    assert "Aborted with 3 warnings in strict mode" in build.output


def test_plugin_strict_option_aborts_without_cli_strict(tmp_path: Path) -> None:
    """The plugin's strict option stops the build at the first failed diagram."""
    root = write_site(
        tmp_path,
        {"index.md": ERRORS},
        plugin={"modules": ["shop.orders", "shop.dangling"], "strict": True},
        modules={"shop/orders.py": ORDERS, "shop/dangling.py": DANGLING},
    )
    build = run("mkdocs", root)
    assert build.returncode == 1
    assert "ERROR   -  penstock plugin: index.md:7: penstock-flow 'ordrs'" in build.output
    assert "Aborted with a BuildError!" in build.output
    assert "Traceback" not in build.output


BOOM = """
from penstock import entrypoint, flow

RATE = 1 / 0
"""


def test_import_failure_is_reported_once_and_other_flows_still_draw(tmp_path: Path) -> None:
    """A module that fails to import: one warning at the raising line, with its traceback; the
    healthy modules' flows are drawn; a flow missing because of it shows a box, no 2nd warning."""
    root = write_site(
        tmp_path,
        {
            "index.md": "# Orders\n\n::: penstock-flow orders\n",
            "gone.md": "# Gone\n\n::: penstock-flow declared_by_boom\n",
        },
        plugin={"modules": ["shop.orders", "shop.boom"]},
        modules={"shop/orders.py": ORDERS, "shop/boom.py": BOOM},
    )
    build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    assert build.output.count("could not import module 'shop.boom'") == 1, build.output
    assert re.search(r"could not import module 'shop.boom' \(.*boom\.py:4\)", build.output)
    assert "ZeroDivisionError: division by zero" in build.output
    assert build.output.count("WARNING") == 1, build.output
    page = build.page()
    assert '<pre class="mermaid">' in page
    assert "penstock-error" not in page
    gone = build.page("gone")
    assert "penstock-error" in gone
    assert "failed to import" in gone
    strict = run("mkdocs", root, "--strict")
    assert strict.returncode != 0


def _big_flow(n: int) -> str:
    lines = ["from penstock import entrypoint, flow, step", ""]
    lines += ['@flow("big")', "@entrypoint", "def s0():", "    pass", ""]
    for i in range(1, n + 1):
        lines += ['@flow("big")', '@step(after="s0")', f"def s{i}():", "    pass", ""]
    return "\n".join(lines)


def test_oversized_flow_warns_with_guidance(tmp_path: Path) -> None:
    """A flow over Mermaid's 500-edge limit warns at build time and says how to fix it."""
    root = write_site(
        tmp_path,
        {"index.md": "# Big\n\n::: penstock-flow big\n"},
        plugin={"modules": ["shop.big"]},
        modules={"shop/big.py": _big_flow(501)},
    )
    build = run("mkdocs", root)
    assert build.returncode == 0
    assert "index.md:3: penstock-flow 'big': flow 'big' has 501 edges" in build.output
    assert "Split it into smaller flows" in build.output
    assert "penstock-error" in build.page()


def test_links_to_source_from_repo_url_and_local_mermaid(tmp_path: Path) -> None:
    """link_source uses repo_url/edit_uri; mermaid_js is copied into the site and loaded."""
    (tmp_path / "vendor").mkdir(parents=True)
    (tmp_path / "vendor" / "mermaid.min.js").write_text("window.mermaid = {};\n")
    root = write_site(
        tmp_path,
        {"index.md": "# Links\n\n::: penstock-flow orders\n    link_source: true\n"},
        plugin={"mermaid_js": "vendor/mermaid.min.js"},
        extra={"repo_url": "https://github.com/acme/shop", "edit_uri": "edit/trunk/docs/"},
    )
    build = run("mkdocs", root, "--strict")
    assert build.returncode == 0, build.output
    (diagram,) = build.diagrams()
    assert (
        'click check_stock href "https://github.com/acme/shop/blob/trunk/src/shop/orders.py#L12"'
        in diagram
    )
    copied = root / "site" / "assets" / "javascripts" / "penstock" / "mermaid.min.js"
    assert copied.read_text() == "window.mermaid = {};\n"
    assert 'src="assets/javascripts/penstock/mermaid.min.js"' in build.page()


def test_missing_mermaid_js_is_a_config_error(tmp_path: Path) -> None:
    """A mermaid_js path that does not exist aborts with a message naming the option."""
    root = write_site(tmp_path, {"index.md": "# x\n"}, plugin={"mermaid_js": "nope/mermaid.js"})
    build = run("mkdocs", root)
    assert build.returncode == 1
    assert "mermaid_js file 'nope/mermaid.js' does not exist" in build.output


def test_coexists_with_mkdocstrings(tmp_path: Path) -> None:
    """mkdocstrings documents a module on the same page; its ::: never sees penstock-flow."""
    root = write_site(
        tmp_path,
        {"index.md": "# API\n\n::: shop.orders\n\n::: penstock-flow orders\n"},
        more_plugins=[{"mkdocstrings": {"handlers": {"python": {"paths": ["src"]}}}}],
    )
    build = run("mkdocs", root, "--strict")
    assert build.returncode == 0, build.output
    page = build.page()
    assert "doc doc-object" in page
    assert "receive_order" in page
    assert build.diagrams() == [expected(["shop.orders"], root / "src", "orders")]


HALF = """
from penstock import entrypoint, flow, step


@flow("half")
@entrypoint
def start(): ...


@flow("half")
@step(after=start)
def middle(): ...


@flow("half")
@step(after=no_such_step)
def last(): ...
"""


def test_half_imported_flow_is_an_error_box_not_a_truncated_diagram(tmp_path: Path) -> None:
    """A module that raises part-way: its flow is not drawn as if whole, even without
    --strict; the page says which module failed, with what and where; recorded runs over it
    add no drift warnings."""
    (tmp_path / "runs.log").write_text("")
    root = write_site(
        tmp_path,
        {
            "index.md": "# Half\n\n::: penstock-flow half\n",
            "runs.md": "# Runs\n\n::: penstock-flow half\n    observed: ../runs.log\n",
        },
        plugin={"modules": ["shop.half"]},
        modules={"shop/half.py": HALF},
    )
    build = run("mkdocs", root)
    assert build.returncode == 0, build.output
    assert build.output.count("WARNING") == 1, build.output  # the import failure, once
    for name in ("index", "runs"):
        page = build.page(name)
        assert '<pre class="mermaid">' not in page
        assert "penstock-error" in page
        assert "flow &#x27;half&#x27; is incomplete" in page or "flow 'half' is incomplete" in page
        assert "module &#x27;shop.half&#x27;" in page or "module 'shop.half'" in page
        assert "NameError: name" in page
        box = page[page.index("penstock-error") :][:1500]
        assert "half.py:16" in box, box
        assert str(tmp_path) not in page
