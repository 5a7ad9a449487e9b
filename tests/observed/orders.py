"""A flow whose entrypoint runs fan-out siblings one after the other (the happens-before case).

``declare()`` declares it and returns ``place_order``. Also written into docs sites as source.
"""

from __future__ import annotations

from typing import Any

from penstock import entrypoint, flow, step

FLOW = "orders"


def declare() -> Any:
    """Declare the ``orders`` flow."""

    @flow(FLOW)
    @entrypoint
    def place_order(order_id: str) -> None:
        """Take an order."""
        confirm_order(order_id)
        if order_id.startswith("R"):  # a reserved order gives its stock back first
            release_stock(order_id)
        publish_order_placed(order_id)
        notify_customer(order_id)

    @flow(FLOW)
    @step(after="place_order")
    def confirm_order(order_id: str) -> None:
        """Confirm it."""

    @flow(FLOW)
    @step(after="place_order")
    def release_stock(order_id: str) -> None:
        """Release the reserved stock."""

    @flow(FLOW)
    @step(after="confirm_order")
    def publish_order_placed(order_id: str) -> None:
        """Tell the other services."""

    @flow(FLOW)
    @step(after=["confirm_order", "release_stock"])
    def notify_customer(order_id: str) -> None:
        """Mail the customer."""

    return place_order


#: The orders recorded, and the edges their calls take under the happens-before rule.
ORDERS = ("A1", "R1")
EXPECTED_EDGES = {
    ("place_order", "confirm_order"): 2,
    ("place_order", "release_stock"): 1,
    ("confirm_order", "publish_order_placed"): 2,
    ("confirm_order", "notify_customer"): 1,
    ("release_stock", "notify_customer"): 1,
}
