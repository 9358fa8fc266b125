"""The totals the metrics of a batch of rows are read from, and how two batches' totals merge."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from lossdoctor.infer.decisions import Task
from lossdoctor.stats.means import Moments
from lossdoctor.value_tables import ValueTable, merge, to_grid


@dataclass(frozen=True, eq=False)
class MetricTotals:
    """Everything the metrics of a batch of rows need, in a form where batches add up.

    Counts and sums add, and value tables merge (lossdoctor.value_tables), so the totals of a file
    in batches, merged in any order, gives the metrics of the whole file. Fields a task does
    not use stay 0 or empty.
    """

    task: Task
    threshold: float  # binary and multi-label: a cell is predicted when p >= threshold
    rows: int | float  # weighted: the rows' summed weights
    loss_sum: float  # row_losses of the true-class probabilities (every cell for multi-label)
    confusion: np.ndarray  # int64: binary (2, 2) at the threshold; (K, K); multi-label (K, 2, 2)
    tables: tuple[ValueTable, ...]  # binary: P(class 1) by positives; else one per class column
    histogram: np.ndarray  # int64 (groups, HISTOGRAM_BINS)
    # binary: positives and negatives with p >= each of THRESHOLD_GRID, then the threshold
    cut_counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    # squared errors of the one-hot truth, summed over the columns (binary: sklearn's [1 - p, p])
    brier_sum: float = 0.0
    cell_hits: int | float = 0  # cells where (p > threshold) == y: Keras' binary accuracy
    top_hits: int | float = 0  # multi-label: rows where the argmax of y is the argmax of p
    exact_rows: int | float = 0  # multi-label: rows with every cell predicted right
    # multi-class: top-label confidence, a hit where the argmax is right (binary calibrates
    # on its one table, multi-label on all of them)
    calibration_table: ValueTable | None = None
    # Squared deviations of the per-row log loss (multi-label: a row's mean over its labels)
    # and Brier score from their means: the t intervals of both (lossdoctor.stats.means).
    loss_squares: float = 0.0
    brier_squares: float = 0.0
    weighted: bool = False  # rows carry sample weights: counts and sums are sums of weights

    def loss_moments(self) -> Moments:
        """Count, sum and squared deviations of the per-row losses."""
        cells = self.rows * len(self.tables) if self.task == Task.MULTILABEL else self.rows
        per_row_total = self.loss_sum * self.rows / cells if cells else 0.0
        return Moments(float(self.rows), per_row_total, self.loss_squares)

    def brier_moments(self) -> Moments:
        """Count, sum and squared deviations of the per-row Brier scores: the squared errors
        of a row's classes, halved for two classes (scikit-learn's brier_score_loss)."""
        classes = 2 if self.task == Task.BINARY else self.confusion.shape[0]
        per_row_total = self.brier_sum / (2 if classes == 2 else 1)
        return Moments(float(self.rows), per_row_total, self.brier_squares)

    def merge(self, other: MetricTotals, capacity: int | None = None) -> MetricTotals:
        """The totals of both batches: counts and sums add, tables merge (value_tables.merge)."""
        a, b = self, other
        if (a.task, a.threshold, a.confusion.shape) != (b.task, b.threshold, b.confusion.shape):
            raise ValueError("totals of different tasks, thresholds or classes do not merge")
        share = capacity_each(capacity, len(a.tables)) if len(a.tables) > 1 else capacity
        tables = tuple(merge(s, t, share) for s, t in zip(a.tables, b.tables, strict=True))
        confidence = None
        if a.calibration_table is not None and b.calibration_table is not None:
            confidence = merge(a.calibration_table, b.calibration_table, capacity)
        return MetricTotals(
            a.task,
            a.threshold,
            a.rows + b.rows,
            a.loss_sum + b.loss_sum,
            a.confusion + b.confusion,
            tables,
            a.histogram + b.histogram,
            a.cut_counts + b.cut_counts,
            a.brier_sum + b.brier_sum,
            a.cell_hits + b.cell_hits,
            a.top_hits + b.top_hits,
            a.exact_rows + b.exact_rows,
            confidence,
            a.loss_moments().merge(b.loss_moments()).squares,
            a.brier_moments().merge(b.brier_moments()).squares,
            a.weighted,
        )

    def on_grid(self) -> bool:
        """Whether every table is a grid: a batch merged into these goes on it."""
        return all(table.is_grid for table in self.tables)

    def on_grids_of(self, merged: MetricTotals | None) -> MetricTotals:
        """These totals with each table put on the grid that `merged`'s table is on, as the
        merge into it would: done on the thread that summarised the batch, not the one that
        merges every batch in turn. The same tables, so the same totals, whichever does it."""
        if merged is None:
            return self
        tables = tuple(_on_grid_of(t, m) for t, m in zip(self.tables, merged.tables, strict=True))
        confidence = self.calibration_table
        if confidence is not None and merged.calibration_table is not None:
            confidence = _on_grid_of(confidence, merged.calibration_table)
        return replace(self, tables=tables, calibration_table=confidence)


def _on_grid_of(table: ValueTable, merged: ValueTable) -> ValueTable:
    return to_grid(table, merged.bits) if merged.is_grid and not table.is_grid else table


def capacity_each(capacity: int | None, n_tables: int) -> int | None:
    """The distinct scores each of n per-class tables keeps exactly: together, as many as one
    table would, so memory stays bounded however many classes there are."""
    return None if capacity is None else max(capacity // n_tables, 1)
