"""Body fingerprints: the same body under another name matches; anything else does not."""

from __future__ import annotations

from typing import Any

from penstock._graph.bodies import body_fingerprint


def approve_refund(order: dict[str, Any]) -> int:
    doubled = order.get("amount", 0) * 2
    return doubled + 1


def accept_refund(order: dict[str, Any]) -> int:
    doubled = order.get("amount", 0) * 2
    return doubled + 1


def refuse_refund(order: dict[str, Any]) -> int:
    doubled = order.get("amount", 0) * 3
    return doubled + 1


def fax(order: dict[str, Any]) -> None:
    pass


def email(order: dict[str, Any]) -> None:
    pass


def test_same_body_under_another_name_and_line_matches() -> None:
    assert body_fingerprint(approve_refund) == body_fingerprint(accept_refund)
    assert body_fingerprint(approve_refund) is not None
    assert len(body_fingerprint(approve_refund) or "") == 16


def test_another_constant_is_another_body() -> None:
    assert body_fingerprint(approve_refund) != body_fingerprint(refuse_refund)


def test_stubs_have_no_fingerprint() -> None:
    """`pass` replaced by `pass` at the same place is no evidence of a rename."""
    assert body_fingerprint(fax) is None
    assert body_fingerprint(email) is None
    assert body_fingerprint(len) is None  # no Python code at all


def test_decorated_steps_are_fingerprinted_through_the_wrapper() -> None:
    import functools

    @functools.wraps(approve_refund)
    def wrapper(*args: Any) -> Any:
        return approve_refund(*args)

    assert body_fingerprint(wrapper) == body_fingerprint(accept_refund)
