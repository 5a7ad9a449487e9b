"""A flow whose step waits for a step that does not exist."""

from penstock import entrypoint, flow, step


@flow("looping")
@entrypoint
def start():
    """Begin."""


@flow("looping")
@step(after="finsh")
def finish():
    """End, after a misspelt predecessor."""
