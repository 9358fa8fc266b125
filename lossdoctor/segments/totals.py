"""The per-segment totals of a batch, in the pass that sums every other number, and their merge.

Every sum is grouped by the rows' segment codes at once (np.bincount, one sort for the value
tables): no loop over rows or over segments. Two batches' totals merge segment by segment, their
segments matched by value, so a file in memory, a stream and a cluster's partitions give the
same segments. Memory holds a few numbers per segment, and value tables bounded by a capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.decisions import Task
from lossdoctor.io.segments import MAX_SEGMENTS
from lossdoctor.losses import (
    BLOCK_ROWS,
    cut_in_dtype,
    log_softmax_losses,
    logit_losses,
    multiclass_brier_rows,
    row_losses,
    true_class_probability,
)
from lossdoctor.segments.cells import tabulate_groups
from lossdoctor.segments.shared import SharedTables
from lossdoctor.segments.tables import GroupGrids, Tables
from lossdoctor.threads import at_once
from lossdoctor.value_tables import ValueTable

# Rows summed at a time: a block's per-row losses and squared errors stay in a core's cache
# while they are made and added up.
CACHED_ROWS = 1 << 16
# Runs of one segment's rows (a stream's batch across files) below which a block's sums are
# running sums run by run: the same additions in the same order as np.add.at's, faster.
FEW_RUNS = 8


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
    tables: Tables  # group = segment * columns + column
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
        tables_a = self.tables.regrouped(ia, c, n)
        tables_b = other.tables.regrouped(ib, c, n)
        return SegmentTotals(
            values,
            add(self.counts, other.counts),
            rows,
            add(self.confusion, other.confusion),
            add(self.loss, other.loss),
            add(self.brier, other.brier),
            _merged_tables(tables_a, tables_b, capacity),
            c,
            self.weighted,
        )


def _merged_tables(a: Tables, b: Tables, capacity: int | None) -> Tables:
    """a.merge(b); a stream's batch of one file's one table added into the file's grid entry
    by entry (on the grid a merge's result holds), without its bins summed first."""
    one_file = isinstance(b, SharedTables) and len(b.tables) == 1
    if not (one_file and isinstance(a, GroupGrids) and a.accumulator):
        return a.merge(b, capacity)
    group = b.first_group
    if group in a.grids:
        return a.added(group, *b.grid_entries(a.bits))
    grid = b.on_grid(a.bits)
    return a.with_bins(group, (grid.values, grid.hits, grid.rows))


def too_many() -> str:
    return (
        f"a --by column holds more than {MAX_SEGMENTS:,} distinct values: an id, not a "
        "segment; cut a numeric column into quantile bins with --by COLUMN:BINS (e.g. age:5)"
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
    batch_tables: Sequence[ValueTable] = (),
    true_class: np.ndarray | None = None,
    grid: int | None = None,
) -> SegmentTotals:
    """The totals of one batch's usable rows: `codes` index each row's segment in `values`;
    y and proba as infer.Prepared holds them (binary or multi-class). `batch_tables`: the
    whole batch's value tables (metrics.MetricTotals.tables), a batch of one segment's own;
    `true_class`: the probability of each row's class, when the summaries have it already
    (infer.Prepared.true_class); `grid`: the bits of the grid the batch's tables merge into
    (segments.grids), None when they merge into exact ones."""
    if len(values) > MAX_SEGMENTS:
        raise InputError(too_many())
    n = len(values)
    w = weights
    classes = 2 if task == Task.BINARY else proba.shape[1]

    def tabulated() -> Tables:
        return _tables(task, codes, n, y, proba, logits, w, batch_tables, grid)

    def summed() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sums = (
            np.zeros(n * classes * classes, dtype=np.int64 if w is None else np.float64),
            np.zeros(n),
            np.zeros(n),
        )
        for start in range(0, len(y), CACHED_ROWS):
            block = slice(start, start + CACHED_ROWS)
            _add_rows(
                task,
                codes[block],
                y[block],
                proba[block],
                threshold,
                None if logits is None else logits[block],
                None if w is None else w[block],
                None if true_class is None else true_class[block],
                sums,
            )
        return sums

    # a batch larger than a stream's is a file in memory, which leaves the second core free
    (confusion, loss, brier), tables = at_once(summed, tabulated, len(y) > BLOCK_ROWS)
    if w is None:  # every row is in its segment's confusion matrix once
        counts = confusion.reshape(n, -1).sum(axis=1)
        rows = counts
    else:
        counts = np.bincount(codes, minlength=n).astype(np.int64)
        rows = np.bincount(codes, w, minlength=n)
    columns = 1 if task == Task.BINARY else classes
    return SegmentTotals(
        values,
        counts,
        rows,
        confusion.reshape(n, classes, classes),
        loss,
        brier,
        tables,
        columns,
        w is not None,
    )


def _tables(
    task: Task,
    codes: np.ndarray,
    n: int,
    y: np.ndarray,
    proba: np.ndarray,
    logits: np.ndarray | None,
    w: np.ndarray | None,
    batch_tables: Sequence[ValueTable],
    grid: int | None,
) -> Tables:
    """The value tables of every segment's score columns: a batch of one segment has the
    batch's own, when exact and counted in rows; on the `grid` when they merge into one."""
    hits = _hits(y) if task == Task.BINARY else None
    if grid is not None and hits is not None and w is None and logits is None:
        from lossdoctor.segments.grids import batch_grids

        gridded = batch_grids(codes, n, proba, hits, batch_tables, grid)
        if gridded is not None:
            return gridded
    shared = SharedTables.of(batch_tables) if n == 1 and batch_tables else None
    if shared is not None:
        return shared
    if hits is not None:
        cells = proba if logits is None else logits
        return tabulate_groups(codes, cells, hits, n, w, squash=logits is not None)
    k = proba.shape[1]
    groups = (codes.astype(np.intp)[:, None] * k + np.arange(k)).ravel()
    hits = (y[:, None] == np.arange(k)).ravel()
    cell_weights = None if w is None else np.repeat(w, k)
    return tabulate_groups(groups, np.ascontiguousarray(proba).ravel(), hits, n * k, cell_weights)


def _hits(y: np.ndarray) -> np.ndarray:
    """Binary class indexes (0 or 1) as bools: a byte each is read as they are, not copied."""
    return y.view(bool) if y.dtype.itemsize == 1 and y.dtype.kind in "iub" else y.astype(bool)


def _add_rows(
    task: Task,
    codes: np.ndarray,
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    logits: np.ndarray | None,
    w: np.ndarray | None,
    true_class: np.ndarray | None,
    into: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Add a block of rows (CACHED_ROWS: small temporaries) to each segment's confusion
    matrix, summed log loss and summed Brier score. np.add.at adds row after row, as one
    bincount of every row would: the sums do not depend on the blocks."""
    confusion, loss_sums, brier_sums = into
    if task == Task.BINARY:
        k = 2
        predicted = proba >= cut_in_dtype(threshold, proba)
        if logits is not None:
            losses = logit_losses(y.astype(bool), logits)
        else:
            q = true_class if true_class is not None else true_class_probability(y, proba)
            losses = row_losses(q)
        brier = y.astype(np.float64)  # (y - p)^2, made in place
        brier -= proba
        brier *= brier
    else:
        k = proba.shape[1]
        predicted = np.argmax(proba, axis=1)
        if true_class is None:
            true_class = proba[np.arange(len(y)), y]
        losses = row_losses(true_class) if logits is None else log_softmax_losses(y, logits)
        brier = multiclass_brier_rows(proba, true_class)
    runs = _few_runs(codes, len(loss_sums))
    if runs is not None and w is None and task == Task.BINARY:
        positive = y.astype(bool, copy=False)
        for code, start, stop in runs:
            counts = _binary_confusion(positive[start:stop], predicted[start:stop])
            confusion[code * 4 : code * 4 + 4] += counts
    else:
        codes = codes.astype(np.intp)  # the index np.add.at reads without a cast of its own
        cells = codes * k  # (segment, true class, predicted class), made in place
        cells += y
        cells *= k
        cells += predicted
        if w is None:
            confusion += np.bincount(cells, minlength=len(confusion))
        else:
            np.add.at(confusion, cells, w)
    with np.errstate(over="ignore", invalid="ignore"):
        if w is not None:
            losses, brier = losses * w, brier * w
        if runs is None:
            np.add.at(loss_sums, codes, losses)
            np.add.at(brier_sums, codes, brier)
        for code, start, stop in runs or ():  # each run's rows continue its segment's sums
            at = slice(code, code + 1)
            _add_in_order(loss_sums[at], brier_sums[at], losses[start:stop], brier[start:stop])


def _few_runs(codes: np.ndarray, n_segments: int) -> list[tuple[int, int, int]] | None:
    """The runs of one segment's rows in a block, (code, start, stop) in row order, when
    there are fewer than FEW_RUNS (one file, or the end of one and the start of the next);
    else None."""
    if n_segments == 1 or not len(codes):
        return [(0, 0, len(codes))] if len(codes) else []
    if n_segments > FEW_RUNS:
        return None
    changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    if len(changes) >= FEW_RUNS:
        return None
    bounds = [0, *changes.tolist(), len(codes)]
    return [(int(codes[start]), start, stop) for start, stop in pairwise(bounds)]


def _add_in_order(
    loss_sums: np.ndarray, brier_sums: np.ndarray, losses: np.ndarray, brier: np.ndarray
) -> None:
    """One segment's rows added as np.add.at adds them, row after row: a running sum of
    each, both at once as the parts of complex numbers, which add part by part (the two
    chains of additions overlap, where each alone waits on its every addition)."""
    if not len(losses):
        return
    both = np.empty(len(losses), dtype=np.complex128)
    both.real, both.imag = losses, brier
    both[0] += complex(loss_sums[0], brier_sums[0])
    total = np.add.accumulate(both, out=both)[-1]
    loss_sums[0], brier_sums[0] = total.real, total.imag


def _binary_confusion(positive: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The rows of one segment by (true class, predicted class), counted without codes."""
    n, n_positive, n_predicted = (
        len(positive),
        np.count_nonzero(positive),
        np.count_nonzero(predicted),
    )
    both = np.count_nonzero(positive & predicted)
    return np.array(
        [n - n_positive - n_predicted + both, n_predicted - both, n_positive - both, both],
        dtype=np.int64,
    )
