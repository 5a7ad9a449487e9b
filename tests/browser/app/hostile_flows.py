"""Flows whose names and docstrings try to break Mermaid and the page around the diagram.

Imported by the docs sites the browser tests build (never by the test process itself): every
label must show verbatim, and nothing here may become live HTML or a link.
"""

from __future__ import annotations

from penstock import entrypoint, flow, step

# The expected labels live in hostile_names.py, which the tests read without importing this
# module (that would register these flows in the test process).


@flow("end")
@entrypoint(name="graph")
def start() -> None:
    """Starts with <b>bold</b> & <img src=x onerror="alert('doc')">."""


@flow("end")
@step(after="graph", name="end")
def finish() -> None:
    """Ends <script>alert('doc')</script> here."""


@flow("end")
@step(after="end", name="style")
def styled() -> None:
    """A #35; hash, #quot; and &amp; entity-looking text."""


@flow("end")
@step(after="style", name="click")
def clicked() -> None:
    """click graph href "javascript:alert('doc')\""""


@flow("end")
@step(after="click", name="subgraph")
def grouped() -> None:
    """[brackets] (parens) {braces} |pipes|"""


@flow("end")
@step(after="subgraph", name="ops")
def ops() -> None:
    """Starts with o after an arrow."""


@flow("end")
@step(after="subgraph", name="xray")
def xray() -> None:
    """Starts with x after an arrow."""


@flow("end")
@step(after=["ops", "xray"], name='say "hi" it\'s [a] (b) {c} |d|')
def quoted() -> None: ...


@flow("end")
@step(after=quoted, name="<b>bold</b>")
def bold() -> None: ...


@flow("end")
@step(after=bold, name='<img src=x onerror="alert(1)">')
def image() -> None: ...


@flow("end")
@step(after=image, name="#35; not a hash")
def hashed() -> None: ...


@flow("end")
@step(after=hashed, name="a --> b")
def arrow() -> None: ...


@flow("end")
@step(after=arrow, name="javascript:alert(1)")
def scheme() -> None: ...


@flow("end")
@step(after=scheme, name="class")
def klass() -> None: ...


@flow("end")
@step(after=klass, name="%%{init: {'theme': 'dark'}}%%")
def directive() -> None: ...


@flow("style")
@entrypoint(name="x")
def cross() -> None: ...


@flow("style")
@step(after="x", name="o")
def circle() -> None: ...


@flow("style")
@step(after="o", name="linkStyle")
def link_style() -> None: ...
