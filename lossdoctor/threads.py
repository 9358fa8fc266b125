"""Two pieces of independent work on the two cores a laptop or a CI runner has at least."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")


def at_once(first: Callable[[], S], second: Callable[[], T], together: bool = True) -> tuple[S, T]:
    """first() and second(); `together`, on two threads: numpy and pyarrow let go of the
    interpreter while they read, sort and count, so both run at once. Each result is what it
    would be alone: nothing is shared but what both only read."""
    if not together:
        return first(), second()
    from concurrent.futures import ThreadPoolExecutor  # not for a small file's start-up

    with ThreadPoolExecutor(1, thread_name_prefix="lossdoctor") as pool:
        later = pool.submit(second)
        return first(), later.result()


def ordered_map(work: Callable[[S], T], items: Iterable[S], together: bool = True) -> Iterator[T]:
    """work(item) of each item, in the items' order; `together` and more than one, two at a
    time on two threads (the results are those of a loop)."""
    if not together:
        return map(work, items)
    items = list(items)
    if len(items) < 2:
        return map(work, items)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2, thread_name_prefix="lossdoctor") as pool:
        started = [pool.submit(work, item) for item in items]
        del items  # an item, and what it holds, is let go once its work is done
        return iter([future.result() for future in started])


def begun(work: Callable[..., T], *args: Any) -> Callable[[], T]:
    """work(*args) begun on a thread of its own, beside what the caller does next; the function
    returned waits for its result."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="lossdoctor")
    started = pool.submit(work, *args)
    pool.shutdown(wait=False)  # the thread ends with its work
    return started.result
