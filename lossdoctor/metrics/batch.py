"""The metric totals of one batch of rows, for each task, in one pass over its arrays."""

from dataclasses import replace

import numpy as np

from lossdoctor.infer.decisions import Task
from lossdoctor.losses import (
    BLOCK_ROWS,
    as_float,
    cut_in_dtype,
    log_softmax_losses,
    logit_losses,
    multiclass_brier_rows,
    row_losses,
    tally,
    true_class_probability,
    weighted_sum,
)
from lossdoctor.metrics.results import HISTOGRAM_BINS, THRESHOLD_GRID, counts_or_sums, histogram
from lossdoctor.metrics.totals import MetricTotals, capacity_each
from lossdoctor.stats.means import Moments, sum_of_products
from lossdoctor.value_tables import (
    GRID_BITS,
    at_or_above,
    each_column,
    grid_bits,
    rows_at_or_above,
    tabulate,
    tabulate_on_grid,
)


def metric_totals(
    task: str,
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float = 0.5,
    capacity: int | None = None,
    bits: int = GRID_BITS,
    logits: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    on_grid: bool = False,
) -> MetricTotals:
    """The totals of one batch: y and proba as infer.Prepared holds them; `weights`, positive
    sample weights of the rows, as scikit-learn's sample_weight (None: every row counts 1).

    Binary: y 0/1 and p = P(class 1), (N,). Multi-class: y the class index, proba (N, K).
    Multi-label: y bool and proba, both (N, K). capacity=None keeps every table exact; past
    it a table becomes a grid of `bits` mantissa bits (fewer per class when there are many).
    `logits`, when proba is their sigmoid (binary, multi-label) or softmax (multi-class): the
    log loss comes from them by a stable log-sigmoid / log-softmax, and a sigmoid's tables
    rank them in their own order, so distinct logits never tie (see lossdoctor.value_tables).
    `on_grid`: the batch merges into totals whose tables are grids, so a binary table may be
    put on the grid at once (the table the merge would make of it).
    """
    proba = as_float(proba)
    if task == Task.BINARY:
        totals = _binary_totals(y, proba, threshold, capacity, bits, logits, weights, on_grid)
    elif task == Task.MULTICLASS:
        totals = _multiclass_totals(y, proba, capacity, bits, logits, weights)
    else:
        totals = _multilabel_totals(y, proba, threshold, capacity, bits, logits, weights)
    return totals if weights is None else replace(totals, weighted=True)


def _binary_sums(is_pos: np.ndarray, p: np.ndarray) -> tuple[float, float, Moments, Moments]:
    """The summed log loss and squared errors, and the moments of both per row, block by
    block (small temporaries, reused)."""
    loss_sum = brier_sum = 0.0
    loss_moments = brier_moments = Moments(0.0, 0.0, 0.0)
    for start in range(0, p.size, BLOCK_ROWS):
        part = slice(start, start + BLOCK_ROWS)
        pos, neg = np.compress(is_pos[part], p[part]), np.compress(~is_pos[part], p[part])
        # Class 0 is scored by 1 - p rounded in p's dtype, as sklearn's [1 - p, p] columns are.
        pos_of_0, neg_of_0 = 1 - neg, 1 - pos
        losses = row_losses(pos), row_losses(pos_of_0)
        block_loss = float(np.sum(losses[0]) + np.sum(losses[1]))
        loss_sum += block_loss
        with np.errstate(over="ignore"):  # an infinite spread leaves the interval out
            squared_losses = sum(sum_of_products(x, x) for x in losses)
        loss_moments = loss_moments.merge(_moments(pos.size + neg.size, block_loss, squared_losses))
        # sklearn averages the squared errors of both columns; for a negative the class-0
        # term is 1 - (1 - p), which rounds for tiny p, so mirror it rather than use p**2.
        # (the spent losses' arrays hold the squares: the rows of each side are as many)
        positive_rows = np.square(neg_of_0, dtype=np.float64, out=losses[0])
        negative_rows = np.square(neg, dtype=np.float64, out=losses[1])
        class_0_error = np.subtract(1, pos_of_0, out=pos_of_0)
        negative_rows += np.square(class_0_error, dtype=np.float64)
        negative_rows *= 0.5
        block_brier = float(positive_rows.sum() + negative_rows.sum())
        brier_sum += 2 * block_brier
        squares = sum_of_products(positive_rows, positive_rows) + sum_of_products(
            negative_rows, negative_rows
        )
        brier_moments = brier_moments.merge(_moments(p[part].size, block_brier, squares))
    return loss_sum, brier_sum, loss_moments, brier_moments


def _moments(count: int, total: float, sum_of_squares: float) -> Moments:
    """The moments of one block from its sums: per-row losses and squared errors vary
    enough against their mean that the block's sum of squares keeps the digits."""
    squares = max(float(sum_of_squares) - total * total / count, 0.0) if count else 0.0
    return Moments(float(count), total, squares)


def _binary_totals(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    capacity: int | None,
    bits: int,
    logits: np.ndarray | None,
    weights: np.ndarray | None,
    on_grid: bool = False,
) -> MetricTotals:
    is_pos = np.asarray(y).astype(bool, copy=False)
    squash = logits is not None
    if weights is None:
        loss_sum, brier_sum, loss_moments, brier_moments = _binary_sums(is_pos, p)
    else:
        loss_sum, brier_sum = _weighted_binary_sums(is_pos, p, weights)
        loss_moments = brier_moments = Moments(0.0, 0.0, 0.0)  # no intervals when weighted
    if squash:
        losses = logit_losses(is_pos, logits)
        loss_sum, loss_moments = weighted_sum(losses, weights), Moments.of(losses)
        del losses
    ranked = logits if squash else p
    n_pos = np.count_nonzero(is_pos)
    n_neg = is_pos.size - n_pos

    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)[:-1]
    cuts = np.asarray([*edges, *THRESHOLD_GRID, threshold], dtype=p.dtype)
    if capacity is not None and p.size > capacity:
        table = tabulate(ranked, is_pos, capacity, bits, squash, weights)
        above_pos, above_neg = rows_at_or_above(p, is_pos, cuts, weights)
    else:
        gridded = None
        if on_grid and not squash and weights is None:
            gridded = tabulate_on_grid(p, is_pos, bits, cuts)
        if gridded is not None:
            table, above_pos, above_neg = gridded
        else:
            table = tabulate(ranked, is_pos, None, bits, squash, weights)
            above_pos, above_neg = at_or_above(table, cuts)

    # A histogram bin holds the scores from its edge (in p's dtype) to the next one's.
    at_edges = np.stack([above_neg[:HISTOGRAM_BINS], above_pos[:HISTOGRAM_BINS]])
    spread = at_edges - np.pad(at_edges[:, 1:], ((0, 0), (0, 1)))
    cut_counts = np.stack([above_pos[HISTOGRAM_BINS:], above_neg[HISTOGRAM_BINS:]], axis=1)
    tp, fp = (v.item() for v in cut_counts[-1])
    if weights is not None:
        n_pos, n_neg = table.hits, table.misses
    confusion = counts_or_sums(np.array([[n_neg - fp, fp], [n_pos - tp, tp]]))
    return MetricTotals(
        Task.BINARY,
        threshold,
        p.size if weights is None else table.rows,
        loss_sum,
        confusion,
        (table,),
        counts_or_sums(spread),
        counts_or_sums(cut_counts),
        brier_sum,
        loss_squares=loss_moments.squares,
        brier_squares=brier_moments.squares,
    )


def _weighted_binary_sums(
    is_pos: np.ndarray, p: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """_binary_sums with each row's terms times its weight: the same terms, row by row."""
    of_0 = (1 - p).astype(np.float64)  # class 0's score, rounded in p's dtype as sklearn's
    wide = p.astype(np.float64)
    losses = row_losses(true_class_probability(is_pos, p))
    # positive: both columns miss by 1 - p; negative: p, and 1 - (class 0's score)
    squares = np.where(is_pos, 2 * of_0 * of_0, wide * wide + (1 - of_0) ** 2)
    return float(np.dot(weights, losses)), float(np.dot(weights, squares))


def _multiclass_totals(
    y: np.ndarray,
    proba: np.ndarray,
    capacity: int | None,
    bits: int,
    logits: np.ndarray | None,
    weights: np.ndarray | None,
) -> MetricTotals:
    y = np.asarray(y).astype(np.intp, copy=False)
    n_rows, n_classes = proba.shape
    predicted = np.argmax(proba, axis=1)
    confusion = np.bincount(y * n_classes + predicted, weights, minlength=n_classes * n_classes)
    confusion = counts_or_sums(confusion.reshape(n_classes, n_classes))
    true_class = true_class_probability(y, proba)
    losses = row_losses(true_class) if logits is None else log_softmax_losses(y, logits)
    loss_sum = weighted_sum(losses, weights)
    brier_rows = multiclass_brier_rows(proba, true_class)
    brier_sum = weighted_sum(brier_rows, weights)
    brier_rows /= 2 if n_classes == 2 else 1  # each row's share of the Brier score
    cell_hits = _cells_agreeing(proba, true_class, cut_in_dtype(0.5, proba), weights)
    per_class = grid_bits(n_classes, bits)
    share = capacity_each(capacity, n_classes)
    # A class's scores copied out of a row-major matrix first: its two sides are then
    # copied from contiguous memory, twice as fast as by stride.
    tables = tuple(
        each_column(
            lambda k: tabulate(
                np.ascontiguousarray(proba[:, k]), y == k, share, per_class, weights=weights
            ),
            n_classes,
            len(proba),
        )
    )
    # The score at each row's argmax is its largest: read, not reduced again along the rows.
    top = np.take_along_axis(proba, predicted[:, None], axis=1)[:, 0]
    confidence = tabulate(top, predicted == y, capacity, bits, weights=weights)
    spread = histogram(true_class, None, ("P(true class)",), weights).counts
    return MetricTotals(
        Task.MULTICLASS,
        0.5,
        n_rows if weights is None else confusion.sum(),
        loss_sum,
        confusion,
        tables,
        spread,
        brier_sum=brier_sum,
        cell_hits=cell_hits,
        calibration_table=confidence,
        loss_squares=Moments.of(losses).squares,
        brier_squares=Moments.of(brier_rows).squares,
    )


def _cells_agreeing(
    proba: np.ndarray, true_class: np.ndarray, cut: np.generic, weights: np.ndarray | None
) -> int | float:
    """Cells where (p > cut) is the one-hot truth, Keras' binary accuracy: every cell of a
    row but its true class's agrees unless above the cut, the true class's when above it,
    so no one-hot matrix is formed."""
    n_rows, n_classes = proba.shape
    above = proba > cut
    true_above = true_class > cut
    if weights is None:
        agreeing = n_rows * (n_classes - 1) - np.count_nonzero(above)
        return int(agreeing + 2 * np.count_nonzero(true_above))
    per_row = n_classes - 1 - np.count_nonzero(above, axis=1)
    per_row += 2 * true_above
    return float(np.dot(weights, per_row))  # as tally() sums a row's flagged cells


def _multilabel_totals(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    capacity: int | None,
    bits: int,
    logits: np.ndarray | None,
    weights: np.ndarray | None,
) -> MetricTotals:
    actual = np.asarray(y).astype(bool, copy=False)
    predicted = proba >= cut_in_dtype(threshold, proba)
    n_rows, n_labels = proba.shape
    if weights is None:
        tp = np.count_nonzero(actual & predicted, axis=0)
        support, n_predicted = np.count_nonzero(actual, axis=0), np.count_nonzero(predicted, axis=0)
    else:
        n_rows = float(np.sum(weights))
        tp, support = weights @ (actual & predicted), weights @ actual
        n_predicted = weights @ predicted
    fp, fn = n_predicted - tp, support - tp
    # Laid out as sklearn.metrics.multilabel_confusion_matrix: [[tn, fp], [fn, tp]] per label.
    confusion = np.stack([n_rows - tp - fp - fn, fp, fn, tp], axis=1).reshape(n_labels, 2, 2)
    if logits is None:
        losses = row_losses(true_class_probability(actual, proba))
    else:
        losses = logit_losses(actual, logits)
    loss_sum = weighted_sum(losses, weights)
    loss_squares = Moments.of(losses.mean(axis=1)).squares
    exact_rows = tally(np.all(actual == predicted, axis=1), weights)
    del predicted
    cell_hits = tally((proba > cut_in_dtype(threshold, proba)) == actual, weights)
    top_hits = tally(np.argmax(actual, axis=1) == np.argmax(proba, axis=1), weights)
    per_label = grid_bits(n_labels, bits)
    ranked = proba if logits is None else logits
    tables = tuple(
        each_column(
            lambda k: tabulate(
                ranked[:, k],
                actual[:, k],
                capacity_each(capacity, n_labels),
                per_label,
                logits is not None,
                weights,
            ),
            n_labels,
            len(proba),
        )
    )
    cell_weights = None if weights is None else np.repeat(weights, n_labels)
    spread = histogram(proba.ravel(), actual.ravel(), ("cells 0", "cells 1"), cell_weights).counts
    return MetricTotals(
        Task.MULTILABEL,
        threshold,
        n_rows,
        loss_sum,
        counts_or_sums(confusion),
        tables,
        spread,
        cell_hits=cell_hits,
        top_hits=top_hits,
        exact_rows=exact_rows,
        loss_squares=loss_squares,
    )
