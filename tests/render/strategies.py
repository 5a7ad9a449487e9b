"""Hypothesis strategies for names that try to break the renderers."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.render.conftest import FlowShape

#: Words and fragments with a meaning in Mermaid or DOT, markup, and entity-looking text.
TRICKY = (
    "end", "END", "End", "graph", "flowchart", "subgraph", "style", "linkStyle", "classDef",
    "class", "click", "call", "href", "direction", "default", "TD", "LR", "v", "node", "edge",
    "digraph", "strict", "o", "x", "ops", "xray", "o--x", "dev---ops", "A---xray", "endpoint",
    "end_step", "graph2", "n0", "n1", "_", "__proto__", "constructor", "a-->b", "a -.-> b",
    "a==>b", '"', "'", "[", "]", "(", ")", "{", "}", "|", "#", ";", ":::", "&", "&amp;",
    "&lt;", "#35;", "#quot;", "#59;", "<b>bold</b>", "<script>alert(1)</script>", "<br/>",
    "`code`", "**md**", "%%", "%%{init: {'theme': 'dark'}}%%", '"]\nclick A call alert()',
    "\\", "\\N", "\\l", "\\n", "é", "中文", "Ω≈ç√", "😀", "\u200b", "\xa0", "  ", " lead",
    "trail ", "a  b", "@{ shape: circle }", "A@{", "-->", "---", "-.-", "==>", "~~~", "--o",
    "--x", "<-->", "1", "0x1", "-1", "1.5", "true", "null", "style A fill:#f00;",
    "classDef c fill:#0f0;", "restyle:#1", "mystyle", "classDefault", "ratio:50%;", "a:b#c;d",
)  # fmt: skip

# The decorators refuse control characters and line breaks in names, so generated text
# leaves them out (the renderers are tested on them separately).
_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))


def _ok(name: str) -> bool:
    return bool(name.strip()) and all(ch not in name for ch in "\r\n\x85\u2028\u2029")


names = st.one_of(
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=4).map("".join),
    st.tuples(st.sampled_from(TRICKY), st.text(_CHARS, max_size=6)).map("".join),
    st.text(_CHARS, min_size=1, max_size=16),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
).filter(_ok)

transports = st.sampled_from(["celery", "kafka", "grpc", 'a "b" |c|', "x.-> y", "#35;", "<i>"])
docs = st.one_of(
    st.text(_CHARS, min_size=1, max_size=30),
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=3).map(" ".join),
).filter(_ok)


@st.composite
def flow_shapes(draw: st.DrawFn, max_steps: int = 7) -> FlowShape:
    """A flow of 1..max_steps uniquely named steps, a DAG of edges, extras on some steps."""
    step_names = draw(st.lists(names, min_size=1, max_size=max_steps, unique=True))
    n = len(step_names)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=10)) if pairs else []
    entry = draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=2))
    transport = draw(st.dictionaries(st.integers(0, n - 1), transports, max_size=2))
    doc = draw(st.dictionaries(st.integers(0, n - 1), docs, max_size=3))
    # Conditions are user text like names: the same hostile alphabet.
    condition = draw(st.dictionaries(st.integers(0, n - 1), names, max_size=3))
    return FlowShape(
        flow=draw(names),
        names=tuple(step_names),
        edges=tuple(sorted(edges)),
        entrypoints=frozenset(entry),
        transports=transport,
        docs=doc,
        conditions=condition,
    )
