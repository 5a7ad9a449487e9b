"""A small flow recorded by the observed tests: branches, a failure, a dead edge, drift.

``declare()`` declares it (inside a test's registry snapshot) and returns ``run(order)``.
"""

from __future__ import annotations

import logging
from typing import Any

from penstock import entrypoint, flow, step

FLOW = "shop"
app_log = logging.getLogger("shop.app")


class PaymentDeclined(Exception):
    """A card was declined."""


def declare(foreign_tracer: Any = None) -> Any:
    """Declare the ``shop`` flow; ``foreign_tracer`` wraps the fraud check in a foreign span."""

    @flow(FLOW)
    @entrypoint
    def checkout(order: dict[str, Any]) -> str:
        """Take an order."""
        app_log.info("checkout of %s", order["id"])
        validate(order)
        if order.get("pay", True):
            try:
                charge(order)
            except PaymentDeclined:
                return "declined"
        ship(order)  # without payment: an undeclared validate -> ship
        return "shipped"

    @flow(FLOW)
    @step(after="checkout")
    def validate(order: dict[str, Any]) -> None:
        """Check the order."""

    @flow(FLOW)
    @step(after="validate")
    def charge(order: dict[str, Any]) -> None:
        """Charge the card."""
        if foreign_tracer is not None:
            with foreign_tracer.start_as_current_span("POST /fraud-api"):
                fraud_check(order)
        else:
            fraud_check(order)
        if order.get("declined"):
            raise PaymentDeclined(order["id"])

    @flow(FLOW)
    @step(after="charge")
    def fraud_check(order: dict[str, Any]) -> None:
        """Ask the fraud service."""

    @flow(FLOW)
    @step(after="charge")
    def ship(order: dict[str, Any]) -> None:
        """Hand the parcel over."""

    @flow(FLOW)
    @step(after="charge")
    def refund(order: dict[str, Any]) -> None:
        """Never called by these tests: a dead path."""

    return checkout


#: The orders every recording runs, and what the counts must be.
ORDERS: list[dict[str, Any]] = [
    *({"id": f"A{i}"} for i in range(6)),
    {"id": "D1", "declined": True},
    {"id": "D2", "declined": True},
    {"id": "N1", "pay": False},
]
EXPECTED_EDGES = {
    ("checkout", "validate", True): 9,
    ("validate", "charge", True): 8,
    ("charge", "fraud_check", True): 8,
    ("charge", "ship", True): 6,
    ("charge", "refund", True): 0,
    ("validate", "ship", False): 1,
}
EXPECTED_CALLS = {
    "checkout": (9, 0),
    "validate": (9, 0),
    "charge": (8, 2),
    "fraud_check": (8, 0),
    "ship": (7, 0),
    "refund": (0, 0),
}
