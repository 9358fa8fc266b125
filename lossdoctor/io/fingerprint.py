"""What a dataset's file was when it was opened, so that a file rewritten between two passes
over the rows (or while one is read) is noticed instead of mixed into one report."""

from __future__ import annotations

import os
from typing import BinaryIO, NamedTuple

from lossdoctor.errors import InputError
from lossdoctor.io.sources import open_regular

# The last bytes of a file say how long its footer is: Parquet ends with a 4-byte footer
# length and PAR1, Arrow IPC with a 4-byte footer length and ARROW1.
_TRAILERS = ((b"PAR1", 8), (b"ARROW1", 10))


class Fingerprint(NamedTuple):
    size: int
    mtime_ns: int
    footer: bytes  # a digest of the footer (schema, row groups, statistics), b"" if none


def fingerprint(path: str) -> Fingerprint:
    """Size, modification time and footer digest: a rewrite of the same size within the
    file system's time resolution still changes the footer's statistics and offsets."""
    with open_regular(path) as f:
        status = os.fstat(f.fileno())
        return Fingerprint(status.st_size, status.st_mtime_ns, _footer_digest(f, status.st_size))


def _footer_digest(f: BinaryIO, size: int) -> bytes:
    import hashlib  # only for datasets: a small file starts without loading OpenSSL

    f.seek(max(size - 10, 0))
    tail = f.read(10)
    for magic, trailer in _TRAILERS:
        if tail.endswith(magic) and len(tail) >= trailer:
            length = int.from_bytes(tail[-trailer : -trailer + 4], "little")
            if 0 <= length <= size - trailer:
                f.seek(size - trailer - length)
                return hashlib.blake2b(f.read(length + trailer), digest_size=16).digest()
    return b""


def changed(path: str, detail: str) -> InputError:
    """The error for a file that changed while the dataset was read, with what changed."""
    return InputError(
        f"{path} changed while it was read ({detail}): the report would mix two versions of "
        "it; run again once the files are written"
    )


def check_unchanged(path: str, before: Fingerprint) -> None:
    """An InputError if the file is no longer what `before` saw."""
    try:
        now = fingerprint(path)
    except (OSError, InputError):
        raise changed(path, "it is gone, or no longer a regular file") from None
    if now.size != before.size:
        raise changed(path, f"{before.size:,} bytes, then {now.size:,}")
    if now != before:
        raise changed(path, "rewritten in place")
