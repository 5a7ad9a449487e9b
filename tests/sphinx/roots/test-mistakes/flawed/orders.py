"""A correct flow, for the pages to misspell."""

from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def take_order():
    """Accept an order."""


@flow("orders")
@step(after=take_order)
def ship():
    """Send the parcel."""
