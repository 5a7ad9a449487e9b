"""The Python-Markdown extension on its own: ``markdown.markdown(..., extensions=[...])``."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import markdown
import pytest

import penstock
from penstock import docs
from penstock.docs import OptionError
from penstock_mkdocs import DiagramFailure, PageContext, PenstockExtension, front_matter_offset
from tests.mkdocs.conftest import PIPE, write_modules
from tests.support.system import ROOT

CONFIG = {"modules": ["bom_sync.consumer", "bom_sync.sync"], "paths": [str(ROOT / "examples")]}
LOGGER = "mkdocs.plugins.penstock_mkdocs"


def convert(text: str, **config: object) -> str:
    """Convert through the extension registered under the `markdown.extensions` entry point."""
    return markdown.markdown(
        text,
        extensions=["penstock_mkdocs", "fenced_code"],
        extension_configs={"penstock_mkdocs": {**CONFIG, **config}},
    )


def diagrams(page: str) -> list[str]:
    return [html.unescape(m) for m in PIPE.findall(page)]


def test_entry_point_name_loads_the_extension() -> None:
    """`penstock_mkdocs` resolves through the entry point; it runs after fences, before HTML."""
    md = markdown.Markdown(
        extensions=["penstock_mkdocs", "fenced_code"],
        extension_configs={"penstock_mkdocs": CONFIG},
    )
    assert any(isinstance(e, PenstockExtension) for e in md.registeredExtensions)
    order = [
        md.preprocessors.get_index_for_name(n)
        for n in ("fenced_code_block", "penstock_flow", "html_block")
    ]
    assert order == sorted(order)


def test_directive_with_options_becomes_pre_mermaid() -> None:
    """Indented YAML options apply; the pre holds penstock's Mermaid text, escaped."""
    page = convert(
        "Intro.\n\n::: penstock-flow bom_sync\n    direction: LR\n    show_docs: yes\nAfter.\n"
    )
    want = docs.flow_diagram(
        "bom_sync", docs.DiagramOptions(direction="LR", show_docs=True)
    ).mermaid
    assert diagrams(page) == [want]
    assert "<p>Intro.</p>" in page
    assert "<p>After.</p>" in page
    assert "--&gt;" in page


def test_config_defaults_apply_and_directive_overrides() -> None:
    """Extension-level defaults apply to every directive; a directive's own option wins."""
    page = convert(
        "::: penstock-flow bom_sync\n\n::: penstock-flow bom_sync\n    direction: TD\n",
        direction="RL",
        title="BOM",
    )
    first, second = diagrams(page)
    assert (
        first
        == docs.flow_diagram("bom_sync", docs.DiagramOptions(direction="RL", title="BOM")).mermaid
    )
    assert second.startswith(
        '---\nconfig: {"flowchart": {"useMaxWidth": false}}\ntitle: "BOM"\n---\ngraph TD\n'
    )


def test_page_without_directive_is_untouched() -> None:
    """A page with no directive converts exactly as without the extension."""
    text = "# Title\n\n::: other.thing\n\nSome `penstock-flow` text.\n"
    assert convert(text) == markdown.markdown(text, extensions=["fenced_code"])


def test_fenced_directive_stays_literal() -> None:
    """A directive inside a fenced code block is left as code."""
    page = convert("```\n::: penstock-flow bom_sync\n```\n")
    assert diagrams(page) == []
    assert "<code>::: penstock-flow bom_sync\n</code>" in page


def test_warning_line_counts_lines_collapsed_by_fences(caplog: pytest.LogCaptureFixture) -> None:
    """The page:line of a failed directive is its line in the source, past earlier fences."""
    text = "# T\n\n```\none\ntwo\nthree\n```\n\n::: penstock-flow nope\n"
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        page = convert(text)
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.getMessage().startswith("<markdown>:9: penstock-flow 'nope': unknown flow 'nope'")
    assert 'class="admonition failure penstock-error"' in page


def test_host_page_context_names_page_and_offsets_front_matter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A host-set PageContext names the page and adds the stripped front matter's lines."""
    ext = PenstockExtension(**CONFIG)
    ext.page = PageContext("guide/flows.md", offset=4)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        markdown.markdown("x\n\n::: penstock-flow bom_synk\n", extensions=[ext])
    assert ext.failures[0].page == "guide/flows.md"
    assert ext.failures[0].line == 7
    assert ext.failures[0].flow == "bom_synk"
    assert "guide/flows.md:7: penstock-flow 'bom_synk': unknown flow 'bom_synk'" in caplog.text
    assert "did you mean 'bom_sync'?" in caplog.text


def test_front_matter_offset() -> None:
    """The offset is the number of source lines before the Markdown body."""
    source = "---\ntitle: A\n---\n\n# A\n\ntext\n"
    assert front_matter_offset(source, "# A\n\ntext\n") == 4
    assert front_matter_offset("# A\n", "# A\n") == 0
    assert front_matter_offset("# A\n", "something else") == 0


def test_strict_raises_a_located_failure() -> None:
    """With strict, the first failed directive raises DiagramFailure carrying page, line, flow."""
    with pytest.raises(DiagramFailure) as info:
        convert("\n\n::: penstock-flow bom_snyc\n", strict=True)
    assert (info.value.page, info.value.line, info.value.flow) == ("<markdown>", 3, "bom_snyc")
    assert "did you mean 'bom_sync'" in str(info.value)
    assert isinstance(info.value.__cause__, docs.UnknownFlowError)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("    direction: [LR", "options are not valid YAML"),
        ("    just text", "must be indented 'key: value' lines"),
        ("    direction: XY", "direction 'XY' is not one of"),
        ("    show_docs: maybe", "'show_docs' must be true or false"),
        ("    colour: red", "unknown penstock-flow option 'colour'"),
    ],
)
def test_bad_options_are_named(options: str, message: str) -> None:
    """Bad option text is reported with page:line and what is wrong with it."""
    with pytest.raises(DiagramFailure, match=message) as info:
        convert(f"::: penstock-flow bom_sync\n{options}\n", strict=True)
    assert str(info.value).startswith("<markdown>:1: ")


def test_missing_flow_name() -> None:
    """A directive without a name says how to write one."""
    with pytest.raises(DiagramFailure, match="needs a flow name"):
        convert("::: penstock-flow\n", strict=True)


def test_bad_configuration_fails_at_once() -> None:
    """A wrong extension-level default is an OptionError when the extension is created."""
    with pytest.raises(OptionError, match="direction 'LX' is not one of TD, TB"):
        PenstockExtension(**CONFIG, direction="LX")
    with pytest.raises(OptionError, match="'modules' must be a list of strings"):
        PenstockExtension(modules=[1])
    with pytest.raises(OptionError, match="no option 'modles'; did you mean 'modules'?"):
        PenstockExtension(modles=["x"])
    with pytest.raises(OptionError, match="'strict' must be true or false, got 'sometimes'"):
        PenstockExtension(strict="sometimes")


RELOAD = '''
from penstock import entrypoint, flow, step


@flow("reload")
@entrypoint
def first():
    """First."""


@flow("reload")
@step(after="first")
def {name}():
    """Then."""
'''


def test_edited_module_is_reimported_on_next_conversion(
    tmp_path: Path, clean_imports: list[Path]
) -> None:
    """Without a host plugin (Zensical), a changed source file is re-imported before drawing."""
    src = tmp_path / "src"
    write_modules(src, {"reloadpkg/flows.py": RELOAD.format(name="prior_step")})
    clean_imports.append(src)
    config = {"modules": ["reloadpkg.flows"], "paths": [str(src)]}
    text = "::: penstock-flow reload\n"

    def draw() -> str:
        page = markdown.markdown(text, extensions=[PenstockExtension(**config)])
        (diagram,) = diagrams(page)
        return diagram

    assert "first --> prior_step" in draw()
    (src / "reloadpkg" / "flows.py").write_text(RELOAD.format(name="brand_new_step"))
    diagram = draw()
    assert "first --> brand_new_step" in diagram
    assert "prior_step" not in diagram
    assert [s.name for s in penstock.get_flow("reload").steps] == ["first", "brand_new_step"]


def test_diagram_over_mermaid_text_limit_warns_with_guidance(
    tmp_path: Path, clean_imports: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A diagram over 50,000 characters is refused at build time with what to do instead."""
    doc = "word " * 120
    body = ["from penstock import entrypoint, flow, step", ""]
    body += ['@flow("wordy")', "@entrypoint", "def s0():", f'    """{doc}"""', ""]
    for i in range(1, 100):
        body += ['@flow("wordy")', '@step(after="s0")', f"def s{i}():", f'    """{doc}"""', ""]
    src = tmp_path / "src"
    write_modules(src, {"wordypkg/flows.py": "\n".join(body)})
    clean_imports.append(src)
    ext = PenstockExtension(modules=["wordypkg.flows"], paths=[str(src)])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        small = markdown.markdown("::: penstock-flow wordy\n", extensions=[ext])
        large = markdown.markdown(
            "::: penstock-flow wordy\n    show_docs: true\n",
            extensions=[PenstockExtension(modules=["wordypkg.flows"], paths=[str(src)])],
        )
    assert len(diagrams(small)) == 1
    assert diagrams(large) == []
    assert "Maximum text size in diagram exceeded" in caplog.text
    assert "Turn off show_docs/link_source, split the flow" in caplog.text
    assert "penstock-error" in large
