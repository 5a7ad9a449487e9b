"""The app the coverage tests measure, written into each pytester folder.

Flow ``checkout`` (7 steps, 7 edges, 4 branches, 4 paths) and flow ``newsletter`` (2 steps),
which no test imports: it is found through ``[tool.penstock] modules``. The inner tests
deliberately leave out the step ``refund``, the edge ``decline -> receipt`` (a declined order
sends no receipt, although the flow says it does) and the branch ``receipt -> refund``.
"""

from __future__ import annotations

SHOP_INIT = ""

CHECKOUT = """
from penstock import entrypoint, flow, step


@flow("checkout")
@entrypoint
def place_order(amount):
    validate(amount)
    if amount > 0:
        charge(amount)
        receipt(amount)
        return "paid"
    decline(amount)
    return "declined"


@flow("checkout")
@step(after="place_order")
def validate(amount):
    return amount


@flow("checkout")
@step(after="validate", when="card accepted")
def charge(amount):
    return amount


@flow("checkout")
@step(after="validate", when="card declined")
def decline(amount):
    return amount


@flow("checkout")
@step(after=["charge", "decline"])
def receipt(amount):
    archive(amount)
    return amount


@flow("checkout")
@step(after="receipt")
def archive(amount):
    return amount


@flow("checkout")
@step(after="receipt")
def refund(amount):
    return amount
"""

NEWSLETTER = """
from penstock import entrypoint, flow, step


@flow("newsletter")
@entrypoint
def subscribe(email):
    confirm(email)


@flow("newsletter")
@step(after="subscribe")
def confirm(email):
    return email
"""

TESTS_ACCEPTED = """
import logging

from shop.checkout import place_order


def test_accepted_card_is_charged(penstock_recorder):
    assert place_order(10) == "paid"
    # The plugin composes with the recorder: the test still sees exactly its own calls.
    penstock_recorder.assert_ran(
        "place_order", "validate", "charge", "receipt", "archive", flow="checkout"
    )


def test_accepted_again_with_the_default_backend(caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        assert place_order(5) == "paid"
    # Whatever penstock logs is the backend's step records: coverage adds no line.
    assert all(r.name == "penstock" and getattr(r, "step", None) for r in caplog.records)
    assert len(caplog.records) == 15  # 3 runs of 5 steps, recorded by the logging backend
"""

TESTS_DECLINED = """
import penstock

from shop.checkout import place_order


def test_declined_card(penstock_recorder):
    assert place_order(-5) == "declined"
    penstock_recorder.assert_ran("place_order", "validate", "decline", flow="checkout")


def test_declined_with_noop_backend():
    penstock.configure(backend="noop")
    try:
        assert place_order(-1) == "declined"
    finally:
        penstock.reset()
"""

PYPROJECT = """
[tool.penstock]
modules = ["shop"]

[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"
"""


def write_app(pytester) -> None:  # type: ignore[no-untyped-def]
    """The app, its tests and its pyproject.toml in ``pytester``'s folder."""
    pytester.makepyfile(
        **{
            "shop/__init__": SHOP_INIT,
            "shop/checkout": CHECKOUT,
            "shop/newsletter": NEWSLETTER,
            "tests/test_accepted": TESTS_ACCEPTED,
            "tests/test_declined": TESTS_DECLINED,
        }
    )
    pytester.makefile(".toml", pyproject=PYPROJECT)
