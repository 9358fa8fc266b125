"""Freed memory kept for reuse: a large file's temporaries come from the heap, not fresh pages.

glibc hands out every allocation above 32 MB as a new mapping and returns it on free, so each
temporary of a table in memory (tens of millions of rows) is faulted in page by page again:
on 10 M rows that is about 100,000 page faults, a second of system time, more than most of
the arithmetic. Told to keep freed memory (no mappings of their own for large blocks, one
arena for every thread, no trimming), the next temporary takes the pages the last one left.
Elsewhere than glibc nothing changes.

pyarrow allocates from a heap of its own (mimalloc or jemalloc), so the buffers it frees once a
file is decoded would never serve numpy's arrays: the file's columns then come from the same
glibc heap (pyarrow's system pool), and what the reader frees the summaries reuse.
"""

from __future__ import annotations

import os

# A file read whole from this size on keeps its freed memory: below it the faults cost little.
LARGE_FILE_BYTES = 32 << 20
# mallopt's parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_KEPT_TOP_BYTES = 1 << 31  # freed memory at the heap's top returned past this only


def keep_freed_memory(path: str) -> None:
    """Before a large file is read whole, or a large dataset streamed (a directory or a glob,
    whose batches would otherwise spread over an arena per thread, each keeping what its own
    thread freed): its temporaries reuse the memory of earlier ones."""
    from lossdoctor.errors import InputError

    try:
        if _bytes_up_to(path, LARGE_FILE_BYTES) < LARGE_FILE_BYTES:
            return
    except (OSError, InputError):  # stdin, or what the reader reports better
        return
    import ctypes

    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return
    for parameter, value in (
        (_M_MMAP_MAX, 0),
        (_M_ARENA_MAX, 1),
        (_M_TRIM_THRESHOLD, _KEPT_TOP_BYTES),
    ):
        mallopt(parameter, value)
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def _bytes_up_to(path: str, enough: int) -> int:
    """The size of a file, or of a dataset's files (a directory or a glob, found as the
    dataset finds them: each directory once, through any symlink loop), counted until
    `enough`."""
    from lossdoctor.io.dataset import find_files, is_dataset

    if not is_dataset(path):
        return os.path.getsize(path)
    total = 0
    for name, _ in find_files(path)[0]:
        total += os.path.getsize(name)
        if total >= enough:
            break
    return total
