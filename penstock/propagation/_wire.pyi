# The compiled reading of a call's metadata (_wire.c), built with the wheel where a C
# compiler is at hand.
from typing import Any

AGAIN: object

def read_metadata(metadata: Any, link: bool, hop: tuple[str, Any], /) -> Any:
    """The entry of the run a call's metadata carries, ``None``, or `AGAIN`."""

def setup(checked: list[Any], propagators: Any, unnamed: Any, /) -> None:
    """Give the reader what it compares and returns."""
