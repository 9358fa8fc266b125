"""What a Dask worker runs on a partition: its rows as a batch (with their --by segments),
summarised alone or beside the other dataset's rows of the same numbers, and merged.

Apart from engines/dask.py, which plans the partitions, so that each module stays one job.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from lossdoctor.io import Batch, from_columns
from lossdoctor.io.arrow import arrow_columns, arrow_errors, validated
from lossdoctor.io.fingerprint import changed
from lossdoctor.io.segments import FILE, Coded
from lossdoctor.io.sources import reading

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
FORMAT = "parquet dataset"  # what a batch reports, as the local engine's batches do


class Piece(NamedTuple):
    """What a partition holds: rows of one file, and where they start in the dataset."""

    file: str
    first_row: int
    n_rows: int


def summarize_partition(
    frame: pd.DataFrame,
    piece: Piece,
    columns: tuple[tuple[str, ...], tuple[str, ...], str],
    source: str,
    summarize: Callable[[Batch], T],
    segments: tuple[dict[str, str], bool] = ({}, False),
    root: str = "",
) -> T:
    _check_rows(frame, piece)
    return summarize(_batch(frame, piece.file, piece.first_row, columns, source, segments, root))


def summarize_pair(
    mine: tuple[pd.DataFrame, Piece, tuple, str],
    theirs: tuple[list[pd.DataFrame], list[Piece]],
    their_columns: tuple[tuple, str],
    summarize: Callable[[Batch, Batch], T],
) -> T:
    """A partition and the other dataset's rows of the same numbers, summarised as a pair."""
    import pandas as pd

    frame, piece, columns, source = mine
    _check_rows(frame, piece)
    start, stop = piece.first_row, piece.first_row + piece.n_rows
    parts = []
    for other, other_piece in zip(*theirs, strict=True):
        _check_rows(other, other_piece)
        low = max(start - other_piece.first_row, 0)
        parts.append(other.iloc[low : min(stop - other_piece.first_row, other_piece.n_rows)])
    rows = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    if len(rows) != piece.n_rows:
        raise RuntimeError(f"{len(rows)} rows paired with the {piece.n_rows} of {piece.file}")
    their_columns, their_source = their_columns
    return summarize(
        _batch(frame, piece.file, start, columns, source),
        _batch(rows, theirs[1][0].file, start, their_columns, their_source),
    )


def _check_rows(frame: pd.DataFrame, piece: Piece) -> None:
    if len(frame) != piece.n_rows:
        raise changed(piece.file, f"{len(frame)} rows where its footer said {piece.n_rows}")


def _batch(
    frame: pd.DataFrame,
    file: str,
    first_row: int,
    columns: tuple[tuple[str, ...], tuple[str, ...], str],
    source: str,
    segments: tuple[dict[str, str], bool] = ({}, False),
    root: str = "",
) -> Batch:
    """A partition's rows as a batch, with their --by segments (its columns, and its file)."""
    import numpy as np
    import pyarrow as pa

    with reading(file, "parquet", arrow_errors()):
        table = validated(pa.Table.from_pandas(frame, preserve_index=False))
    arrays = arrow_columns(table, source)
    labels, preds, weight = columns
    predictions = from_columns(
        arrays,
        source=source,
        format=FORMAT,
        label_cols=labels,
        pred_cols=preds,
        weight_col=weight or None,
    )
    by_columns, by_file = segments
    found: dict = {name: np.asarray(arrays[column]) for name, column in by_columns.items()}
    if by_file:  # a partition holds rows of one file
        name = os.path.relpath(file, root) if root else file
        found[FILE] = Coded(np.zeros(len(frame), dtype=np.int32), (name,))
    if found:
        predictions = replace(predictions, segments=found)
    return Batch(predictions, first_row)


def merge_all(merge: Callable[[T, T], T], *summaries: T) -> T:
    return functools.reduce(merge, summaries)
