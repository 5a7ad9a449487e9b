"""A flow that starts where another one ends: a link between flows."""

from penstock import FlowStep, entrypoint, flow, step


@flow("returns", after=FlowStep("checkout", "ship"))
@entrypoint
def request_return(order):
    """The customer asks to send a shipped order back."""


@flow("returns")
@step(after=request_return)
def refund(order):
    """Pay the money back once the parcel is in."""
