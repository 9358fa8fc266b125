"""What is read off a value table: ranking metrics, quantile bins, counts above thresholds."""

from collections.abc import Iterator
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from lossdoctor.losses import sigmoid
from lossdoctor.stats.means import sum_of_products
from lossdoctor.value_tables.table import (
    BLOCK,
    ValueTable,
    bin_floor,
    grid_keys,
    number,
    probabilities,
    wide,
)


class HeldEntries(NamedTuple):
    """The entries holding hits of a block of a table, and their counts (int64; float64 sums
    of weights)."""

    start: int  # the block's first entry
    held: np.ndarray  # the entries holding hits, from start
    hits_below: np.ndarray
    misses_below: np.ndarray
    hits_at: np.ndarray
    misses_at: np.ndarray


def held_entries(table: ValueTable) -> Iterator[HeldEntries]:
    """The entries holding hits, a block of entries at a time (temporaries stay small):
    what the ranking metrics read, since a miss's rank follows from the hits around it."""
    for start in range(0, table.entries, BLOCK):
        # Only the held entries' counts are widened: most entries of a large table hold none.
        hb = table.hits_below[start : start + BLOCK + 1]
        rb = table.rows_below[start : start + BLOCK + 1]
        held = np.flatnonzero(hb[1:] != hb[:-1])
        if not held.size:
            continue
        hits_below, rows_below = wide(hb[held]), wide(rb[held])
        held += 1
        hits_to, rows_to = wide(hb[held]), wide(rb[held])
        held -= 1
        misses_below = rows_below - hits_below
        hits_at = hits_to - hits_below
        misses_at = np.subtract(rows_to, hits_to, out=rows_to)
        misses_at -= misses_below
        yield HeldEntries(start, held, hits_below, misses_below, hits_at, misses_at)


class BestF1(NamedTuple):
    threshold: float  # the score; on a grid, the lowest score of its bin
    tp: int | float  # float: summed weights
    fp: int | float
    bound: float  # how much higher the F1 of some distinct score could be


class Ranking(NamedTuple):
    """ROC-AUC, average precision and the best-F1 threshold, each with its error bound."""

    roc_auc: float | None  # None without both hits and misses
    roc_auc_bound: float
    average_precision: float  # 0.0 without hits, as scikit-learn's
    average_precision_bound: float
    best_f1: BestF1


def rank(table: ValueTable) -> Ranking:
    """The ranking metrics of the hits against the misses, read off the entries holding hits.

    ROC-AUC is Mann-Whitney's, a tie counting 1/2; average precision is scikit-learn's, each
    entry one threshold. On a grid each bin is read as one tied score; the pairs of a hit and
    a miss within a bin could be ordered either way, and a hit within a bin sees a precision
    between the bin's extremes: those give the bounds. A block of entries at a time.
    """
    n_hits, n_misses = table.hits, table.misses
    if n_hits == 0:
        return Ranking(None, 0.0, 0.0, 0.0, _best_f1_without_hits(table))
    ordered_pairs = tied_pairs = 0
    precision_sum = ap_bound = f1_high = 0.0
    best = (-1.0, 0, 0, 0)  # F1, entry, tp, fp
    for start, held, hits_below, misses_below, hits_at, misses_at in held_entries(table):
        tp = n_hits - hits_below  # hits at or above each held entry
        fp = n_misses - misses_below
        # A miss strictly below scores 2, a tied one 1: integer sums, exact at 10 M rows.
        ordered_pairs += number(np.dot(hits_at, 2 * misses_below + misses_at))
        precision_sum += sum_of_products(hits_at, tp / (tp + fp))
        f1 = 2 * tp / (tp + fp + n_hits)
        top = f1.size - 1 - int(np.argmax(f1[::-1]))
        if f1[top] >= best[0]:  # later blocks hold higher scores: ties go to them
            best = (float(f1[top]), start + int(held[top]), number(tp[top]), number(fp[top]))
        if table.is_grid:
            tied_pairs += number(np.dot(hits_at, misses_at))
            tp_above, fp_above = tp - hits_at, fp - misses_at
            high = tp / (tp + fp_above)
            low = (tp_above + 1) / (tp_above + 1 + fp)
            ap_bound += sum_of_products(hits_at, high - low) / n_hits
            # Within a bin a threshold keeps at most all its hits and drops all its misses.
            f1_high = max(f1_high, float(np.max(2 * tp / (tp + fp_above + n_hits))))
    auc = auc_bound = None
    if n_misses:
        auc = ordered_pairs / (2 * n_hits * n_misses)
        auc_bound = 0.5 * tied_pairs / (n_hits * n_misses)
    f1_best, entry, tp_best, fp_best = best
    if table.is_grid:
        threshold = bin_floor(np.array([entry]), table.bits, table.dtype)[0]
    else:
        threshold = _probability_at(table, entry)
    best_row = BestF1(float(threshold), tp_best, fp_best, max(f1_high - f1_best, 0.0))
    return Ranking(auc, auc_bound or 0.0, precision_sum / n_hits, ap_bound, best_row)


def _probability_at(table: ValueTable, entry: int) -> float:
    value = table.values[entry]
    return float(sigmoid(value)) if table.squash else float(value)


def entry_scores(table: ValueTable, entries: np.ndarray) -> np.ndarray:
    """The probability of each entry: its value (a logit's sigmoid), or on a grid the lowest
    score of its bin."""
    entries = np.asarray(entries, dtype=np.intp)
    if table.is_grid:
        return bin_floor(entries, table.bits, table.dtype)
    values = table.values[entries]
    return sigmoid(values) if table.squash else values


def entry_at(table: ValueTable, score: float) -> int:
    """Where `p >= score` starts: the lowest entry of scores >= score (table.entries when there
    is none), or on a grid the bin of score."""
    if table.is_grid:
        return int(grid_keys(np.asarray([score], dtype=table.dtype), table.bits)[0])
    table = probabilities(table)
    return int(np.searchsorted(table.values, table.dtype.type(score)))


def _best_f1_without_hits(table: ValueTable) -> BestF1:
    """Without hits every F1 is 0: the highest threshold wins, where the fewest misses are."""
    top = table.entries - 1
    if table.is_grid:
        top = int(np.flatnonzero(np.diff(table.rows_below))[-1])
        threshold = bin_floor(np.array([top]), table.bits, table.dtype)[0]
    else:
        threshold = _probability_at(table, top)
    return BestF1(float(threshold), 0, table.rows - number(table.rows_below[top]), 0.0)


def _down_to_dtype(edges: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Each edge rounded down into dtype: for x in dtype, x <= edge iff x <= that."""
    rounded = edges.astype(dtype)
    above = rounded.astype(np.float64) > edges
    rounded[above] = np.nextafter(rounded[above], dtype.type(-np.inf))
    return rounded


def _percentile_edges(table: ValueTable, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """np.percentile(scores, linspace(0, 100, n_bins + 1))'s inner edges, and the order
    statistics they lie between: numpy's linear method, spelled out on the table's entries.
    """
    n_rows = table.rows
    quantiles = np.true_divide(np.linspace(0, 1, n_bins + 1) * 100, 100)[1:-1]
    virtual = max(n_rows - 1, 0) * quantiles  # summed weights below 1: every row one bin
    previous = np.floor(virtual)
    gamma = virtual - previous
    if isinstance(n_rows, int):  # summed weights keep their ranks in float64
        # in the counts' own dtype, which holds every rank: the search converts no table
        previous = previous.astype(table.rows_below.dtype)
    following = np.minimum(previous + 1, n_rows - 1)
    # The entry holding the k-th smallest row.
    below, above = (
        np.searchsorted(table.rows_below, k, side="right") - 1 for k in (previous, following)
    )
    if table.is_grid:
        return np.empty(0), np.stack([below, above])
    a, b = table.values[below], table.values[above]
    diff = b - a
    edges = a + diff * gamma
    tail = gamma >= 0.5
    edges[tail] = (b - diff * (1 - gamma))[tail]
    return edges, np.stack([below, above])


class Bins(NamedTuple):
    """Quantile bins: for each, the rows, the hits, and the sum of the scores."""

    counts: np.ndarray
    hits: np.ndarray
    sums: np.ndarray
    bound: float  # on the expected calibration error, from rows whose bin is uncertain


def quantile_bins(table: ValueTable, n_bins: int) -> Bins:
    """scikit-learn's calibration_curve(strategy="quantile") bins, every bin, empty or not.

    Edges are np.percentile's; a score goes to the bin of the edges strictly below it, so each
    bin is a slice of the entries. On a grid the entries holding the order statistics of an
    edge can fall either side; each of their rows moved to another bin changes the expected
    calibration error by at most 2 / rows.
    """
    table = probabilities(table)
    edges, around = _percentile_edges(table, n_bins)
    bound = 0.0
    if table.is_grid:
        cuts = around[0] + 1
        uncertain = np.unique(around)
        bound = 2 * float(np.diff(table.rows_below)[uncertain].sum()) / table.rows
    else:
        limits = _down_to_dtype(edges, table.dtype)
        cuts = np.searchsorted(table.values, limits, side="right")
    bounds = np.r_[0, cuts, table.entries]
    counts = np.diff(wide(table.rows_below[bounds]))
    hits = np.diff(wide(table.hits_below[bounds]))
    if table.is_grid:
        summed = np.r_[0.0, np.cumsum(table.sums)]
        sums = np.diff(summed[bounds])
    else:
        sums = np.array(
            [
                sum_of_products(
                    table.values[start:stop], np.diff(table.rows_below[start : stop + 1])
                )
                for start, stop in pairwise(bounds)
            ],
            dtype=np.float64,
        )
    return Bins(counts, hits, sums, bound)


def at_or_above(table: ValueTable, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hits and misses scoring >= each cut (in the scores' dtype), off an exact table."""
    table = probabilities(table)
    index = np.searchsorted(table.values, np.asarray(cuts, dtype=table.dtype), side="left")
    hits = table.hits - wide(table.hits_below[index])
    rows = table.rows - wide(table.rows_below[index])
    return hits, rows - hits


def rows_at_or_above(
    scores: np.ndarray, is_hit: np.ndarray, cuts: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """at_or_above counted on the rows: one search among the sorted cuts, one bincount."""
    cuts = np.asarray(cuts, dtype=scores.dtype)
    order = np.argsort(cuts, kind="stable")
    passed = np.searchsorted(cuts[order], scores, side="right")  # cuts at or below each row
    passed *= 2
    passed += is_hit
    counts = np.bincount(passed, weights, minlength=2 * (cuts.size + 1)).reshape(-1, 2)
    at_or_above_sorted = np.cumsum(counts[::-1], axis=0)[::-1][1:]
    out = np.empty_like(at_or_above_sorted)
    out[order] = at_or_above_sorted
    return wide(out[:, 1]), wide(out[:, 0])
