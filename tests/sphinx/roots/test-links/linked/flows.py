"""Orders hand each order over to shipping through a Kafka topic; audit follows shipping."""

from penstock import FlowStep, entrypoint, flow, step
from penstock.contrib.kafka import message_entrypoint, produces


@flow("orders")
@entrypoint
def receive(): ...


@flow("orders")
@produces("order-events")
@step(after=receive)
def publish(): ...


@flow("shipping")
@message_entrypoint(topic="order-events")
def on_order(msg): ...


@flow("shipping")
@step(after=on_order, when="in stock")
def ship(): ...


@flow("audit", after=FlowStep("shipping", "ship"))
@entrypoint
def record(): ...
