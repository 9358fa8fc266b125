"""NumPy files: an .npy array, or an .npz archive whose arrays are read like columns.

Always with allow_pickle=False: unpickling a file can run code."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io.sources import _NPY_MAGIC, _head, _Loader, _reading, _Src, _stream

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with files, an empty archive
_NUMPY_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)


def _load_npy(src: _Src, source: str) -> np.ndarray:
    _expect_magic(src, source, "npy", [_NPY_MAGIC])
    with _reading(source, "npy", _NUMPY_ERRORS):
        array = np.load(_stream(src), allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise InputError(f"{source} is an .npz archive, not .npy; rename it to .npz")
    return array


def _npz_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Arrays of an .npz archive, keyed like columns (y_true/y_pred, labels/predictions, ...)."""
    _expect_magic(src, source, "npz", _ZIP_MAGIC)
    with _reading(source, "npz", _NUMPY_ERRORS), np.load(_stream(src), allow_pickle=False) as z:
        names = list(z.files)

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with _reading(source, "npz", _NUMPY_ERRORS), np.load(_stream(src), allow_pickle=False) as z:
            return {c: z[c] for c in cols}

    return names, load


def _expect_magic(src: _Src, source: str, fmt: str, magics: Sequence[bytes]) -> None:
    """NumPy unpickles anything that is neither .npy nor .npz; allow_pickle=False stops it but
    says "pickled data", which misnames random bytes. Checking the magic first says what it is."""
    head = src[:8] if isinstance(src, bytes) else _head(src)
    if not head:
        raise InputError(f"{source} is empty; save the arrays with np.save or np.savez")
    if not any(head.startswith(magic) for magic in magics):
        raise InputError(
            f"{source} is not an .{fmt} file (its first bytes are not the {fmt.upper()} "
            "header); check the file, or name its format with --input-format"
        )
