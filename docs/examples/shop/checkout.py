from penstock import entrypoint, flow, step


@flow("checkout")
@entrypoint
def place_order(cart): ...


@flow("checkout")
@step(after=place_order)
def charge_card(order): ...


@flow("checkout")
@step(after=charge_card, when="paid")
def ship(order): ...


@flow("checkout")
@step(after=charge_card, when="declined")
def email_declined(order): ...
