"""A flow whose names and docstrings are full of markup and Mermaid syntax."""

from penstock import entrypoint, flow, step


@flow("hostile")
@entrypoint(name="end")
def start():
    """<img src=x onerror="alert(1)"> & </pre><script>alert(2)</script>"""


@flow("hostile")
@step(after="end", name='x["y"] --> z')
def weird():
    """A ]] `backtick` #35; 50% {curly} |pipe|."""
