"""Bootstrap replicates of the metrics read off merged summaries: never off the rows again.

A per-row Poisson(1) bootstrap gives a cell of m rows a Poisson(m) count (a sum of independent
Poisson(1) weights), so wherever a metric reads only counts of rows in cells, one draw per cell
and replicate (bootstrap.cell_replicates) is the per-row bootstrap, in distribution:

- F1, MCC, balanced accuracy: the cells of the confusion matrix;
- average precision and the expected calibration error: the hits and the misses at each
  distinct score of a value table (ECE's sum of the probabilities at a score is that score
  times its rows).

The cost is cells times replicates. A table of more entries than the draws allow (a few tens
of milliseconds, BOOTSTRAP_DRAWS) is coarsened into cells of adjacent entries holding about
equal rows, and the replicates then give the deviation of the metric from the coarse table's
own value; the interval is the exact value plus the deviation's percentiles. Its error bound
says how far each end can be from the per-row bootstrap's: with the rows of a cell resampled
alike, the per-row replicate differs from the coarse one only by how the rows order within
their cells (average precision: between a cell's lowest and highest precision, as on a grid)
and by where a cell's rows sit (ECE: a row of a cell holding a quantile edge can change bin,
2 / rows each, and a row's probability is taken as its cell's middle, half its width away at
most). The bound is the centre's plus the coarse original's plus the largest replicate's.
"""

from __future__ import annotations

from itertools import chain
from typing import NamedTuple

import numpy as np

from lossdoctor.metrics.confusion import stacked_scores
from lossdoctor.metrics.results import CALIBRATION_BINS
from lossdoctor.stats.bootstrap import cell_replicates, replicate_blocks
from lossdoctor.value_tables import ValueTable, entry_scores

# Poisson draws (cells x replicates) a table's bootstrap may take; past it, coarser cells.
BOOTSTRAP_DRAWS = 1 << 20
MIN_CELLS = 32
_CHUNK = 1 << 15  # cells x replicates read at once: temporaries of 256 kB, in cache
_QUANTILES = np.true_divide(np.linspace(0, 1, CALIBRATION_BINS + 1) * 100, 100)[1:-1]


def label_replicates(confusion: np.ndarray, replicates: int, seed) -> dict[str, np.ndarray]:
    """Each replicate's accuracy, balanced accuracy, F1 macro, MCC and per-class F1 (R, K)
    from a K×K confusion drawn cell by cell."""
    return stacked_scores(cell_replicates(confusion, replicates, seed))


class Cells(NamedTuple):
    """A value table's entries grouped into cells of adjacent scores, ascending."""

    hits: np.ndarray  # float64
    misses: np.ndarray
    low: np.ndarray  # the lowest and highest probability of each cell
    high: np.ndarray
    exact: bool  # one entry per cell: the replicates are the per-row bootstrap's

    @classmethod
    def of(cls, table: ValueTable, max_cells: int) -> Cells:
        """The table's entries, or past max_cells cells of about equal rows: O(cells) reads of
        its cumulative counts, whatever its size."""
        entries = table.entries
        if entries <= max_cells:
            bounds = np.arange(entries + 1)
        else:
            # the entry holding each of max_cells evenly spaced rows starts a cell
            targets = np.linspace(0, table.rows, max_cells, endpoint=False)
            targets = targets.astype(table.rows_below.dtype)  # no conversion of the table
            starts = np.searchsorted(table.rows_below, targets, side="right") - 1
            bounds = np.r_[np.unique(starts), entries]
        hits = np.diff(table.hits_below[bounds]).astype(np.float64)
        rows = np.diff(table.rows_below[bounds]).astype(np.float64)
        low = entry_scores(table, bounds[:-1]).astype(np.float64)
        if table.is_grid:  # a bin's scores reach up to the next bin's floor
            high = np.r_[entry_scores(table, bounds[1:-1]).astype(np.float64), 1.0]
        else:
            high = entry_scores(table, bounds[1:] - 1).astype(np.float64)
        return cls(hits, rows - hits, low, high, entries <= max_cells)


class Replicates(NamedTuple):
    """A metric of each replicate, after the coarse original's at index 0, and each one's
    bound of its distance from the per-row bootstrap's (zeros when the cells are exact)."""

    values: np.ndarray
    bounds: np.ndarray


def ranking_replicates(cells: Cells, replicates: int, seed) -> tuple[Replicates, Replicates]:
    """Average precision and ECE of every replicate, from one draw of the cells, drawn and read
    a few replicates at a time: the temporaries stay small whatever the replicates."""
    counts = np.stack([cells.hits, cells.misses])
    step = max(_CHUNK // counts.size, 1)
    found = []
    for part in chain([counts[None]], replicate_blocks(counts, replicates, seed, step)):
        sums = Sums.of(part[:, 0], part[:, 1])  # the original counts first
        found.append((_average_precision(sums, cells.exact), _calibration_error(sums, cells)))
    return tuple(
        Replicates(*(np.concatenate([f[i][j] for f in found]) for j in range(2))) for i in range(2)
    )


class Sums(NamedTuple):
    """Hits and misses by replicate and cell (ascending), and their sums from the top, summed
    once for both metrics: the rows at or above a cell give average precision's precision and,
    all rows less them, the rows below it that place the calibration bins' edges. The counts
    are whole numbers: every sum and difference of them is exact, in any order."""

    hits: np.ndarray
    misses: np.ndarray
    rows: np.ndarray
    hits_above: np.ndarray  # at or above each cell
    rows_above: np.ndarray

    @classmethod
    def of(cls, hits: np.ndarray, misses: np.ndarray) -> Sums:
        rows = hits + misses
        return cls(hits, misses, rows, _from_top(hits), _from_top(rows))


def _from_top(counts: np.ndarray) -> np.ndarray:
    """Each cell's count and those of the cells above it, replicate by replicate."""
    return np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]


def average_precision(hits: np.ndarray, misses: np.ndarray, exact: bool) -> Replicates:
    """scikit-learn's average precision with each cell one threshold, replicate by replicate
    (hits and misses by replicate and cell, ascending); a replicate without hits has none
    (NaN)."""
    return _average_precision(Sums.of(hits, misses), exact)


def calibration_error(hits: np.ndarray, misses: np.ndarray, cells: Cells) -> Replicates:
    """The ECE of quantile bins (metrics.ranking.calibration_of) of every replicate (hits and
    misses by replicate and cell, ascending; cells says each cell's scores): each replicate's
    edges are its own percentiles, the bin of a score the edges below it."""
    return _calibration_error(Sums.of(hits, misses), cells)


def _average_precision(sums: Sums, exact: bool) -> Replicates:
    hits, tp = sums.hits, sums.hits_above
    n1 = tp[:, 0]
    # A cell without hits adds nothing whatever its precision: no masked (slow) division.
    precision = np.maximum(sums.rows_above, 1.0)
    np.divide(tp, precision, out=precision)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.einsum("rc,rc->r", hits, precision) / n1
        if exact:
            return Replicates(values, np.zeros_like(values))
        # Within a cell the rows could order either way: a hit sees a precision between the
        # cell's hits above all its misses and below all of them.
        high = sums.rows_above - sums.misses
        np.maximum(high, 1.0, out=high)
        np.divide(tp, high, out=high)
        hits_above = tp - hits + 1
        low = hits_above / (hits_above + (sums.rows_above - tp))
        bounds = np.einsum("rc,rc->r", hits, high - low) / n1
    return Replicates(values, bounds)


def _calibration_error(sums: Sums, cells: Cells) -> Replicates:
    hits, rows = sums.hits, sums.rows
    n_draws, n_cells = rows.shape
    cumulative = np.empty((n_draws, n_cells + 1))
    cumulative[:, -1] = sums.rows_above[:, 0] if n_cells else 0.0
    np.subtract(cumulative[:, -1:], sums.rows_above, out=cumulative[:, :-1])
    total = cumulative[:, -1]
    # The cell holding the order statistic below each edge (numpy's linear percentile): the
    # bin ends with it. One search over the replicates side by side, each offset past the last.
    below = np.floor(np.maximum(total - 1, 0)[:, None] * _QUANTILES)
    offsets = (np.arange(n_draws) * (total.max() + 1))[:, None]
    flat = np.searchsorted(
        (cumulative[:, 1:] + offsets).ravel(), (below + offsets).ravel(), "right"
    )
    holding = flat.reshape(below.shape) - np.arange(n_draws)[:, None] * n_cells
    np.minimum(holding, n_cells - 1, out=holding)  # a replicate of no rows (its ECE: NaN)
    edges = np.concatenate(
        [np.zeros((n_draws, 1), np.intp), holding + 1, np.full((n_draws, 1), n_cells)], axis=1
    )
    middle = 0.5 * (cells.low + cells.high)
    gaps = np.zeros((n_draws, n_cells + 1))
    np.cumsum(rows * middle - hits, axis=1, out=gaps[:, 1:])
    per_bin = np.diff(np.take_along_axis(gaps, edges, axis=1), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.abs(per_bin).sum(axis=1) / total
        values[total == 0] = np.nan
        if cells.exact:
            return Replicates(values, np.zeros_like(values))
        moved = 2 * np.take_along_axis(rows, holding, axis=1).sum(axis=1)
        spread = np.einsum("rc,c->r", rows, 0.5 * (cells.high - cells.low))  # no BLAS
        bounds = (moved + spread) / total
    return Replicates(values, bounds)
