"""The per-segment totals of a batch, in the pass that sums every other number, and their merge.

Every sum is grouped by the rows' segment codes at once (np.bincount, one sort for the value
tables): no loop over rows or over segments. Two batches' totals merge segment by segment, their
segments matched by value, so a file in memory, a stream and a cluster's partitions give the
same segments. Memory holds a few numbers per segment, and value tables bounded by a capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.decisions import Task
from lossdoctor.losses import (
    cut_in_dtype,
    log_softmax_losses,
    logit_losses,
    multiclass_brier_rows,
    row_losses,
)
from lossdoctor.segments.tables import GroupTables, tabulate_groups

# Segments computed; past this many a column is an id, and --by COLUMN:BINS cuts it.
MAX_SEGMENTS = 10_000


@dataclass(frozen=True, eq=False)
class SegmentTotals:
    """Per segment (ascending by value): the rows, the confusion matrix at the threshold, the
    moments of the per-row log loss and Brier score, and the value tables of its score
    columns (binary: P(class 1), one group per segment; multi-class: one per class)."""

    values: np.ndarray  # (S,) the segment values
    counts: np.ndarray  # (S,) int64 usable rows
    rows: np.ndarray  # (S,) rows, or with sample weights their summed weights
    confusion: np.ndarray  # (S, K, K) true class x predicted class
    loss: np.ndarray  # (S,) summed per-row log loss
    brier: np.ndarray  # (S,) summed per-row Brier score
    tables: GroupTables  # group = segment * columns + column
    columns: int  # score columns tabulated per segment
    weighted: bool

    def merge(self, other: SegmentTotals, capacity: int | None) -> SegmentTotals:
        """Both batches' segments; one in both adds up."""
        values, inverse = np.unique(
            np.concatenate([self.values, other.values]), return_inverse=True
        )
        if len(values) > MAX_SEGMENTS:
            raise InputError(too_many())
        n = len(values)
        ia, ib = inverse[: len(self.values)], inverse[len(self.values) :]

        def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            out = np.zeros((n, *a.shape[1:]), dtype=np.result_type(a, b))
            np.add.at(out, ia, a)
            np.add.at(out, ib, b)
            return out

        rows = add(self.rows, other.rows)
        c = self.columns
        tables_a = _regroup(self.tables, ia, c)
        tables_b = _regroup(other.tables, ib, c)
        return SegmentTotals(
            values,
            add(self.counts, other.counts),
            rows,
            add(self.confusion, other.confusion),
            add(self.loss, other.loss),
            add(self.brier, other.brier),
            tables_a.merge(tables_b, capacity),
            c,
            self.weighted,
        )


def too_many() -> str:
    return (
        f"a --by column holds more than {MAX_SEGMENTS:,} distinct values: an id, not a "
        "segment; cut a numeric column into quantile bins with --by COLUMN:BINS (e.g. age:5)"
    )


def _regroup(tables: GroupTables, new_index: np.ndarray, columns: int) -> GroupTables:
    """The tables with segment i renumbered new_index[i] (ascending, so the order holds)."""
    segment, column = np.divmod(tables.groups, columns)
    groups = new_index[segment] * columns + column
    return GroupTables(
        groups, tables.values, tables.hits, tables.rows, tables.dtype, tables.bits, tables.squash
    )


def segment_totals(
    task: Task,
    codes: np.ndarray,
    values: np.ndarray,
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    logits: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> SegmentTotals:
    """The totals of one batch's usable rows: `codes` index each row's segment in `values`;
    y and proba as infer.Prepared holds them (binary or multi-class)."""
    if len(values) > MAX_SEGMENTS:
        raise InputError(too_many())
    n = len(values)
    w = weights
    counts = np.bincount(codes, minlength=n).astype(np.int64)
    rows = counts if w is None else np.bincount(codes, w, minlength=n)
    if task == Task.BINARY:
        k = 2
        predicted = (proba >= cut_in_dtype(threshold, proba)).astype(np.intp)
        true_class = np.where(y.astype(bool), proba, 1 - proba)
        if logits is not None:
            losses = logit_losses(y.astype(bool), logits)
        else:
            losses = row_losses(true_class)
        brier = (y - proba.astype(np.float64)) ** 2
        cells = proba if logits is None else logits
        tables = tabulate_groups(codes, cells, y.astype(bool), w, squash=logits is not None)
    else:
        k = proba.shape[1]
        predicted = np.argmax(proba, axis=1)
        true_class = proba[np.arange(len(y)), y]
        losses = log_softmax_losses(y, logits) if logits is not None else row_losses(true_class)
        brier = multiclass_brier_rows(proba, true_class)
        groups = (codes[:, None] * k + np.arange(k)).ravel()
        hits = (y[:, None] == np.arange(k)).ravel()
        cell_weights = None if w is None else np.repeat(w, k)
        tables = tabulate_groups(groups, np.ascontiguousarray(proba).ravel(), hits, cell_weights)
    cells = (codes * k + y) * k + predicted
    confusion = np.bincount(cells, w, minlength=n * k * k).reshape(n, k, k)
    if w is None:
        confusion = confusion.astype(np.int64)
    return SegmentTotals(
        values,
        counts,
        rows,
        confusion,
        _sums(codes, losses, w, n),
        _sums(codes, brier, w, n),
        tables,
        1 if task == Task.BINARY else k,
        w is not None,
    )


def _sums(codes: np.ndarray, per_row: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    """Per segment: the (weighted) sum of the per-row values."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.bincount(codes, per_row if weights is None else per_row * weights, n)
