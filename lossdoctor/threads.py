"""Two pieces of independent work on the two cores a laptop or a CI runner has at least."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

S = TypeVar("S")
T = TypeVar("T")


def at_once(first: Callable[[], S], second: Callable[[], T], together: bool = True) -> tuple[S, T]:
    """first() and second(); `together`, on two threads: numpy and pyarrow let go of the
    interpreter while they read, sort and count, so both run at once. Each result is what it
    would be alone: nothing is shared but what both only read."""
    if not together:
        return first(), second()
    from concurrent.futures import ThreadPoolExecutor  # not for a small file's start-up

    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(second)
        return first(), later.result()
