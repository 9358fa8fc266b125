"""The columns rows are segmented by (--by): a column of the file, a hive partition key, or
`file` (each file of a dataset is a segment). Pure: it sees names and arrays, never a file.

A reader hands each batch's segment columns to the pipeline in `Predictions.segments`, keyed by
the --by name; `file` comes as codes into the dataset's file list (`Coded`), so a row costs
four bytes, not its file's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io.columns import _key, listing

FILE = "file"  # --by file: each file of a dataset is a segment
# The ids of the findings about segments (lossdoctor.segments), for --severity and the config.
SEGMENT_CHECKS = ("inconsistent-segments", "weak-segment")
_SPEC = re.compile(r"(?P<column>.+?)(?::(?P<bins>\d+))?")
MAX_BINS = 100  # quantile bins of a numeric column
# Segments computed; past this many a column is an id, and --by COLUMN:BINS cuts it.
MAX_SEGMENTS = 10_000
SMALL_RANGE = 1 << 20  # integer values this close together are counted, not sorted
BLOCK_ROWS = 1 << 20  # rows coded at a time
# A --by name and its column -> the column's distinct values and each row's index (distinct)
Coding = Callable[[str, Any], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class BySpec:
    """One --by: a column (or `file`) and, for a numeric column cut into quantiles, the bins."""

    column: str
    bins: int = 0  # 0: every distinct value is a segment

    def __str__(self) -> str:
        return f"{self.column}:{self.bins}" if self.bins else self.column


def parse_by(text: str) -> BySpec:
    """`country`, `file`, or `age:5` (five quantile bins of a numeric column)."""
    match = _SPEC.fullmatch(text.strip())
    if match is None or not match["column"].strip():
        raise InputError(f"cannot read --by {text!r}; write a column name, file, or COLUMN:BINS")
    bins = int(match["bins"] or 0)
    if match["bins"] is not None and not 2 <= bins <= MAX_BINS:
        raise InputError(f"--by {text!r}: the bins of a column are 2 to {MAX_BINS}, not {bins}")
    if bins and match["column"].strip() == FILE:
        raise InputError("--by file takes no bins: each file is one segment")
    return BySpec(match["column"].strip(), bins)


@dataclass(frozen=True)
class Coded:
    """A segment column given as codes into a list of names (the files of a dataset)."""

    codes: np.ndarray  # int32, one per row
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows) -> Coded:
        return Coded(self.codes[rows], self.names)


def segment_columns(
    names: Sequence[str], by: Sequence[str], taken: Sequence[str], source: str
) -> dict[str, str]:
    """--by name -> the column it reads, each checked: it exists (case-insensitive) and holds
    neither the labels, the predictions nor the weights (`taken`). `file` reads no column."""
    found: dict[str, str] = {}
    roles = {_key(n) for n in taken}
    for text in by:
        spec = parse_by(text)
        if spec.column == FILE:
            continue
        hits = [n for n in names if n == spec.column] or [
            n for n in names if _key(n) == _key(spec.column)
        ]
        if not hits:
            raise InputError(
                f"--by {spec.column!r} matches no column in {source} (columns: "
                f"{listing(names)}); name a column, a hive partition key, or file"
            )
        if _key(hits[0]) in roles:
            raise InputError(
                f"--by {spec.column!r} is a label, prediction or weight column of {source}; "
                "segment by another column (a country, a device, a day) or by file"
            )
        found[spec.column] = hits[0]
    return found


def whole_file(by: Sequence[str], rows: int, source: str) -> dict[str, Coded]:
    """`file` of a file read whole: every row is in the one segment."""
    if not any(parse_by(text).column == FILE for text in by):
        return {}
    return {FILE: Coded(np.zeros(rows, dtype=np.int32), (source,))}


def distinct(column: np.ndarray | Coded) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a segment column, ascending, and each row's index into them
    (an integer array, int16 for integer columns of few values: widen it before arithmetic).
    Missing values (NaN, None) are one segment, shown as 'null'."""
    if isinstance(column, Coded):
        present, inverse = _counted(column.codes, 0, len(column.names) - 1)
        return np.asarray(column.names, dtype=str)[present], inverse
    values = np.asarray(column)
    if values.dtype == object:
        values = np.array(["null" if v is None else str(v) for v in values.tolist()])
    if values.dtype.kind in "SU":
        values = values.astype(str)
    if values.dtype.kind == "f" and np.isnan(values).any():
        values = np.where(np.isnan(values), np.inf, values)  # one segment, after the others
    if values.ndim != 1:
        raise InputError("a --by column holds one value per row; lists cannot segment rows")
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < SMALL_RANGE:  # a count of each value, not a sort
            present, inverse = _counted(values, low, high)
            return (present + low).astype(values.dtype), inverse
    return np.unique(values, return_inverse=True)


def _counted(values: np.ndarray, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """The offsets from `low` of the integers present, and each row's index into them: int16
    while the values present fit (a fifth of the memory a row's intp index takes), counted and
    looked up a block of rows at a time (small temporaries, reused)."""
    if not len(values):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int16)
    if low == high or values.min() == values.max():
        return np.array([int(values[0]) - low]), np.zeros(len(values), dtype=np.int16)
    counts = np.zeros(high - low + 1, dtype=np.intp)
    for start in range(0, len(values), BLOCK_ROWS):
        counts += np.bincount(
            _offsets(values[start : start + BLOCK_ROWS], low), minlength=len(counts)
        )
    present = np.flatnonzero(counts)
    index = np.zeros(len(counts), dtype=np.int16 if len(present) <= 1 << 15 else np.intp)
    index[present] = np.arange(len(present))
    codes = np.empty(len(values), dtype=index.dtype)
    for start in range(0, len(values), BLOCK_ROWS):
        block = slice(start, start + BLOCK_ROWS)
        np.take(index, _offsets(values[block], low), out=codes[block])
    return present, codes


def _offsets(values: np.ndarray, low: int) -> np.ndarray:
    """values - low as intp: in the values' dtype, the difference could wrap around."""
    offsets = values.astype(np.intp)
    offsets -= low
    return offsets
