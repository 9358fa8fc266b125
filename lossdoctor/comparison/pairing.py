"""Which row of the candidate is which row of the baseline: by row order, or by an id column.

Paired tests need the same evaluation set in both files. By row order, the labels must agree row
by row (a shuffled file is caught here, not read as a worse model); by --id-col, the rows are
joined on their ids, which must be unique in each file. Datasets streamed in batches are paired
by row order only: their batches are cut again where the two files' batches end apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import NamedTuple, TypeVar

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import Batch, Predictions

T = TypeVar("T")


class PairedBatch(NamedTuple):
    """The same rows of the baseline and of the candidate; first_row is the pair's row number."""

    baseline: Batch
    candidate: Batch


def take_rows(predictions: Predictions, rows: slice | np.ndarray) -> Predictions:
    """Some rows of a table, every per-row array alike."""
    weights = predictions.weights
    return replace(
        predictions,
        y_true=predictions.y_true[rows],
        y_score=predictions.y_score[rows],
        weights=None if weights is None else weights[rows],
    )


def check_lengths(baseline: int, candidate: int, names: tuple[str, str]) -> None:
    if baseline != candidate:
        raise InputError(
            f"not the same evaluation set: {names[0]} has {baseline} rows but {names[1]} has "
            f"{candidate}; compare predictions of the same rows, or join them with --id-col"
        )


def label_differences(baseline: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Whether each row's labels differ between the two files (missing labels alike agree)."""
    a, b = np.asarray(baseline), np.asarray(candidate)
    if (a.dtype.kind in "OUS") != (b.dtype.kind in "OUS"):
        a, b = a.astype(str), b.astype(str)
    differ = a != b
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        differ &= ~(np.isnan(a) & np.isnan(b))
    return differ.reshape(len(a), -1).any(axis=1)


def mismatch_error(count: int, first_row: int) -> InputError:
    return InputError(
        f"not the same evaluation set: {count} rows have different labels, the first at row "
        f"{first_row}; pair the rows by an id column with --id-col NAME"
    )


def join_on_ids(
    baseline: Predictions,
    candidate: Predictions,
    ids: tuple[np.ndarray, np.ndarray],
    column: str,
    unpaired_ok: bool = False,
) -> tuple[Predictions, Predictions, int]:
    """The rows of both files whose ids both hold, in the baseline's order, and how many rows
    were left out; an InputError for duplicate ids, or rows in one file only (unless
    `unpaired_ok`)."""
    first, second = (_id_values(values) for values in ids)
    if (first.dtype.kind in "OUS") != (second.dtype.kind in "OUS"):
        first, second = first.astype(str), second.astype(str)
    for values, predictions in ((first, baseline), (second, candidate)):
        _check_unique(values, predictions.source, column)
    _, in_first, in_second = np.intersect1d(first, second, assume_unique=True, return_indices=True)
    order = np.argsort(in_first, kind="stable")
    in_first, in_second = in_first[order], in_second[order]
    only_first, only_second = first.size - in_first.size, second.size - in_second.size
    if not in_first.size:
        raise InputError(
            f"no id of --id-col {column} is in both {baseline.source} and {candidate.source}"
        )
    if (only_first or only_second) and not unpaired_ok:
        raise InputError(
            f"not the same evaluation set: {only_first} rows of {baseline.source} and "
            f"{only_second} of {candidate.source} have an id the other file lacks "
            f"(--id-col {column}); compare the {in_first.size} rows both hold with --unpaired-ok"
        )
    return (
        take_rows(baseline, in_first),
        take_rows(candidate, in_second),
        only_first + only_second,
    )


def _id_values(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    return values.astype(str) if values.dtype.kind == "O" else values


def _check_unique(values: np.ndarray, source: str, column: str) -> None:
    if values.dtype.kind == "f" and np.isnan(values).any():
        missing = int(np.count_nonzero(np.isnan(values)))
        raise InputError(
            f"{source}: {missing} rows have no id in --id-col {column}; every row needs one"
        )
    distinct, counts = np.unique(values, return_counts=True)
    repeated = distinct[counts > 1]
    if repeated.size:
        raise InputError(
            f"{source}: {repeated.size} ids appear more than once in --id-col {column} "
            f"(the first: {repeated[0]!s}); an id must name one row"
        )


def lockstep(first: Iterable[Batch], second: Iterable[Batch]) -> Iterator[PairedBatch]:
    """The batches of two streams of the same rows, cut again where either's batch ends, so
    that each pair holds the same rows of both."""
    streams = (iter(first), iter(second))
    pending: list[tuple[Predictions, int] | None] = [None, None]  # a batch and its row number
    while True:
        for side, stream in enumerate(streams):
            if pending[side] is None:
                batch = next(stream, None)
                if batch is not None:
                    pending[side] = (batch.predictions, batch.first_row)
        if pending[0] is None or pending[1] is None:
            if pending[0] is not None or pending[1] is not None:
                raise InputError("not the same evaluation set: one dataset has more rows")
            return
        (a, row), (b, _) = pending
        n = min(len(a.y_score), len(b.y_score))
        yield PairedBatch(Batch(take_rows(a, slice(n)), row), Batch(take_rows(b, slice(n)), row))
        for side, (table, start) in enumerate((pending[0], pending[1])):
            rest = len(table.y_score) - n
            pending[side] = (take_rows(table, slice(n, None)), start + n) if rest else None


class PairedEngine:
    """map_reduce over the paired batches of two files: one pair in memory, or two streams.

    `progress(done_rows, all_rows, pass_name)` is told after each pair, as a streaming
    engine tells it after each batch; a pass is named by its summary function's `label`.
    """

    @property
    def sides_at_once(self) -> bool:
        """Whether both files may be diagnosed at once, on two threads: not while a streamed
        pass tells its progress (one bar, one pass at a time)."""
        return self.progress is None

    def __init__(
        self,
        batches: Callable[[], Iterator[PairedBatch]],
        rows: int = 0,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> None:
        self.batches = batches
        self.rows = rows
        self.progress = progress

    def map_reduce(self, summarize: Callable[[PairedBatch], T], merge: Callable[[T, T], T]) -> T:
        result = None
        name = getattr(summarize, "label", "comparing")
        for pair in self.batches():
            summary = summarize(pair)
            result = summary if result is None else merge(result, summary)
            if self.progress is not None:
                self.progress(len(pair.baseline.predictions.y_score), self.rows, name)
        if result is None:
            raise InputError("no rows to compare")
        return result


class DaskPairs:
    """map_reduce over the paired batches of two datasets on one Dask cluster: each partition
    of the baseline's with the candidate's rows of the same numbers."""

    progress = None
    sides_at_once = False  # the cluster's workers are shared already

    def __init__(self, baseline, candidate) -> None:
        self.baseline, self.candidate = baseline, candidate
        self.rows = baseline.n_rows

    def map_reduce(self, summarize: Callable[[PairedBatch], T], merge: Callable[[T, T], T]) -> T:
        return self.baseline.map_reduce_pairs(
            self.candidate, lambda first, second: summarize(PairedBatch(first, second)), merge
        )
