"""A flow whose description is longer than Mermaid will draw."""

from penstock import entrypoint, flow, step


@flow("huge")
@entrypoint
def begin():
    """Begin."""


@flow("huge")
@step(after=begin, description="many words " * 5000)
def verbose():
    pass
