"""The order flow: taking an order and reserving stock."""

from penstock import entrypoint, flow, step


@flow("orders")
@entrypoint
def take_order():
    """Accept an order from the web shop."""


@flow("orders")
@step(after=take_order)
def reserve_stock():
    """Hold the items in the warehouse."""
