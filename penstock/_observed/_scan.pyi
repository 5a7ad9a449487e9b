# The compiled scanner (_scan.c), built with the wheel where a C compiler is at hand.
def scan(
    block: bytes,
    pos: int,
    flow: bytes,
    since: int,
    latest: int,
    seen: set[int],
    runs: set[str],
    groups: dict[tuple[str, str | None, str], list[object]],
    other: dict[str, int],
    /,
) -> tuple[int, int, int, int]:
    """Count the plain step records of ``block`` (whole lines) from byte ``pos`` on."""
