"""Where the bytes come from (a path or stdin), what format they are in, and the door through
which a library's complaint about them leaves as one InputError line."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import memory
from lossdoctor.io.columns import listing

_FORMATS = {"parquet", "csv", "npy", "npz", "feather", "arrow", "jsonl"}
_ALIASES = {"pq": "parquet", "csv.gz": "csv", "ipc": "arrow", "ndjson": "jsonl", "json": "jsonl"}
EXTENSIONS = {f".{alias}": fmt for alias, fmt in _ALIASES.items() if "." not in alias} | {
    ".gz": "csv",
    **{f".{f}": f for f in _FORMATS},
}
_NPY_MAGIC = b"\x93NUMPY"
MAGIC = ((b"PAR1", "parquet"), (_NPY_MAGIC, "npy"), (b"PK", "npz"), (b"ARROW1", "arrow"))
_GZIP = b"\x1f\x8b"
_STDIN_CHUNK = 1 << 20

_Src = str | bytes  # a path, or the bytes read from stdin
_Loader = Callable[[list[str]], dict[str, np.ndarray]]


def _locate(path: str, input_format: str | None) -> tuple[_Src, str]:
    """The bytes or path to read, and its format: given, from the extension, or sniffed."""
    if input_format is not None:
        input_format = _ALIASES.get(input_format.lower(), input_format.lower())
        if input_format not in _FORMATS:
            raise InputError(
                f"unknown input format {input_format!r} for {path}; "
                f"use one of {', '.join(sorted(_FORMATS))}"
            )
    if path == "-":
        data = _read_stdin()
        return data, input_format or _sniff(data[:512], "stdin (-)")
    with reading(path, "a file", (OSError,)):  # a name too long for the file system, say
        if not Path(path).is_file():
            raise InputError(_not_a_file(path))
    fmt = input_format or EXTENSIONS.get(Path(path).suffix.lower())
    return path, fmt or _sniff(head_bytes(path, 512), f"{path} (extension not recognised)")


def _read_stdin() -> bytes:
    """All of stdin, counted as it comes: a pipe does not say how much it holds, and more than
    the memory available is refused before it is all taken in."""
    limit = memory.available()
    data = io.BytesIO()
    while chunk := sys.stdin.buffer.read(_STDIN_CHUNK):
        data.write(chunk)
        if limit is not None and data.tell() > limit:
            raise InputError(
                f"stdin (-) holds more than the {memory.shown(limit)} of memory available; "
                "save the data to a file (Parquet, or a directory of Parquet files, streams)"
            )
    return data.getvalue()


def _not_a_file(path: str) -> str:
    """Why a path cannot be read, and what to pass instead."""
    if not Path(path).is_dir():
        if Path(path).exists():
            return f"{path} is not a regular file; pass a file, or - and the data on stdin"
        return f"{path}: no such file; check the path"
    try:
        found = sorted(f.name for f in Path(path).iterdir() if f.suffix.lower() in EXTENSIONS)
    except OSError:  # unreadable: the advice is the same
        found = []
    if found:
        return f"{path} is a directory; pass one of its prediction files ({listing(found)})"
    known = ", ".join(sorted(EXTENSIONS))
    return f"{path} is a directory with no prediction file in it ({known}); pass a file"


def _sniff(head: bytes, source: str) -> str:
    """The format from the first bytes; text starting with { or [ is JSON Lines (an array is
    refused there, with the command that converts it), other text (or gzip) is CSV. Anything
    else is refused here: parsing random bytes as CSV would only fail later about UTF-8."""
    fmt = next((fmt for magic, fmt in MAGIC if head.startswith(magic)), None)
    if fmt is not None:
        return fmt
    if _is_text(head) and first_byte(head) in (b"{", b"["):
        return "jsonl"
    if head.startswith(_GZIP) or _is_text(head):
        return "csv"
    raise InputError(
        f"cannot tell the format of {source}: its first bytes are not CSV text, JSON Lines, "
        "Parquet, Arrow, NPY or NPZ; check the file, or name its format with --input-format"
    )


# Before the first byte of a JSON text: whitespace, and a UTF-8 byte order mark.
_JSON_WHITESPACE = b" \t\r\n\xef\xbb\xbf"


def first_byte(head: bytes) -> bytes:
    """The first byte of a text after whitespace (b"" when there is none in the head)."""
    return head.lstrip(_JSON_WHITESPACE)[:1]


def _is_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes; a character cut off at the end of the head still counts."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.reason != "unexpected end of data":
            return False
    return b"\0" not in head


def head_bytes(path: str, size: int = 8) -> bytes:
    with reading(path, "a file", (OSError,)), open_regular(path) as f:
        return f.read(size)


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """A regular file, opened to read; a FIFO (whose open would wait for a writer forever), a
    device (/dev/zero never ends) or a directory is an InputError. The open does not block and
    the check is on what was opened, so the path cannot be swapped in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"{path} is not a regular file; pass a file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _stream(src: _Src) -> str | BinaryIO:
    """What a reader opens: the bytes, the path, or, for a file name that is not UTF-8 (which
    pyarrow cannot encode), the file opened here."""
    if isinstance(src, bytes):
        return io.BytesIO(src)
    try:
        src.encode("utf-8")
    except UnicodeEncodeError:
        return open_regular(src)  # the reader owns it; closed when collected
    return src


@contextmanager
def reading(source: str, fmt: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """The door: a library's complaint about the file becomes one InputError line."""
    try:
        yield
    except errors as e:
        if "allow_pickle" in str(e):  # numpy stopped before running any pickled code
            raise InputError(
                f"{source} holds Python objects; refusing to unpickle them (that can "
                "run code); save plain numeric arrays"
            ) from None
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(
            f"cannot read {source} as {fmt} ({detail}); check the file, or its format"
        ) from e
