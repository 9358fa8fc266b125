"""NumPy files: an .npy array, or an .npz archive whose arrays are read like columns.

Always with allow_pickle=False: unpickling a file can run code. An array's header is checked
against the bytes that are there before numpy allocates what the header declares."""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import memory
from lossdoctor.io.sources import _NPY_MAGIC, _Loader, _Src, head_bytes, open_regular, reading

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with files, an empty archive
# zipfile: NotImplementedError for an unknown compression, RuntimeError for an encrypted member
_NUMPY_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError)
_ZIP_ERRORS = (*_NUMPY_ERRORS, RuntimeError)


def _load_npy(src: _Src, source: str) -> np.ndarray:
    _expect_magic(src, source, "npy", [_NPY_MAGIC])
    with reading(source, "npy", _NUMPY_ERRORS), _opened(src) as f:
        _check_header(f, _size(f), source)
        array = np.load(f, allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise InputError(f"{source} is an .npz archive, not .npy; rename it to .npz")
    return array


def _npz_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Arrays of an .npz archive, keyed like columns (y_true/y_pred, labels/predictions, ...)."""
    _expect_magic(src, source, "npz", _ZIP_MAGIC)
    with reading(source, "npz", _ZIP_ERRORS), _opened(src) as f, zipfile.ZipFile(f) as z:
        names = [n.removesuffix(".npy") for n in z.namelist()]

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with reading(source, "npz", _ZIP_ERRORS), _opened(src) as f, zipfile.ZipFile(f) as z:
            members = {c: _member(z, c) for c in cols}
            _check_members(members, source)
            arrays = {}
            for column, member in members.items():
                with z.open(member) as stream:
                    arrays[column] = _member_array(stream, member, source)
            return arrays

    return names, load


def _opened(src: _Src) -> BinaryIO:
    return io.BytesIO(src) if isinstance(src, bytes) else open_regular(src)


def _size(f: BinaryIO) -> int:
    size = f.seek(0, io.SEEK_END)
    f.seek(0)
    return size


def _member(z: zipfile.ZipFile, column: str) -> zipfile.ZipInfo:
    """The archive entry of a column: `name.npy`, as np.savez writes, or `name` itself."""
    names = set(z.namelist())
    return z.getinfo(f"{column}.npy" if f"{column}.npy" in names else column)


def _check_members(members: dict[str, zipfile.ZipInfo], source: str) -> None:
    """An entry never inflates past the size the archive's directory gives it (zipfile stops
    there), so the sizes bound what reading them takes; more than memory holds is refused."""
    inflated = sum(member.file_size for member in members.values())
    available = memory.available()
    if available is not None and inflated > available:
        raise InputError(
            f"the arrays of {source} inflate to {memory.shown(inflated)}, more than the "
            f"{memory.shown(available)} of memory available; save fewer or smaller arrays"
        )


def _member_array(stream: BinaryIO, member: zipfile.ZipInfo, source: str) -> np.ndarray:
    """A member's array, its header checked against the member's size; a member that is not
    an .npy array is refused (np.load would return its raw bytes)."""
    where = f"{member.filename!r} in {source}"
    if stream.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
        raise InputError(f"{where} is not an .npy array; save the arrays with np.savez")
    stream.seek(0)
    _check_header(stream, member.file_size, where)
    return np.lib.format.read_array(stream, allow_pickle=False)


def _check_header(f: BinaryIO, size: int, where: str) -> None:
    """The array the header declares fits in the `size` bytes of the file (and in memory),
    before numpy allocates it; the stream is left where it was."""
    start = f.tell()
    version = np.lib.format.read_magic(f)
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read_header(f)
    header = f.tell() - start
    f.seek(start)
    if dtype.hasobject:  # np.load refuses it, and says why
        return
    declared = math.prod(shape) * dtype.itemsize
    if declared > size - header:
        raise InputError(
            f"{where} declares an array of shape {shape} ({dtype}, {declared:,} bytes) but "
            f"holds {max(size - header, 0):,} bytes; the file is truncated or damaged"
        )
    available = memory.available()
    if available is not None and declared > available:
        raise InputError(
            f"{where} holds {memory.shown(declared)}, more than the {memory.shown(available)} "
            "of memory available; save fewer rows"
        )


def _expect_magic(src: _Src, source: str, fmt: str, magics: Sequence[bytes]) -> None:
    """NumPy unpickles anything that is neither .npy nor .npz; allow_pickle=False stops it but
    says "pickled data", which misnames random bytes. Checking the magic first says what it is."""
    head = src[:8] if isinstance(src, bytes) else head_bytes(src)
    if not head:
        raise InputError(f"{source} is empty; save the arrays with np.save or np.savez")
    if not any(head.startswith(magic) for magic in magics):
        raise InputError(
            f"{source} is not an .{fmt} file (its first bytes are not the {fmt.upper()} "
            "header); check the file, or name its format with --input-format"
        )
