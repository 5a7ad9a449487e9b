"""The billing flow: invoicing and charging."""

from penstock import entrypoint, flow, step


@flow("billing")
@entrypoint
def open_invoice():
    """Start an invoice for a shipped order."""


@flow("billing")
@step(after=open_invoice)
def charge_card():
    """Charge the customer's card."""
