"""A Poisson bootstrap whose weights are a function of the row number, the replicate and a seed.

A replicate resamples the rows by giving each a Poisson(1) weight (Hanley and MacGibbon): no
row needs to see another, so a batch, a file or a Dask partition computes its rows' weights
alone, and the replicates are the same whatever the split. The weight is the inverse
Poisson(1) distribution function (stats.poisson's table of mean 1) of bits made by splitmix64
from the three numbers.

Where a statistic reads only counts of rows in a few cells (a confusion matrix), the replicates
need no row at all: the Poisson(1) weights of a cell's m rows sum to a Poisson(m) count, drawn
once per cell and replicate from the merged counts (cell_replicates), the same in distribution
and, as it reads only the merged counts, the same whatever the split. That draw too is a
function of the seed, the cell and the replicate (stats.draws): the same on any numpy version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from lossdoctor.stats import Interval
from lossdoctor.stats.draws import CellDraws, Seed, splitmix64
from lossdoctor.stats.poisson import SmallMeans

_SPAN_DRAWS = 1 << 18  # draws held at once by replicate_blocks: 2 MB

_REPLICATE = np.uint64(0xD6E8FEB86659FD93)
_SEED = np.uint64(0xA0761D6478BD642F)


def poisson_weights(rows: np.ndarray, replicate: int | np.ndarray, seed: int = 0) -> np.ndarray:
    """The Poisson(1) weight (uint8) of each row number in one bootstrap replicate; replicate
    numbers in an array broadcast against the rows (a column of them: one row each)."""
    rows = np.asarray(rows).astype(np.uint64)
    if isinstance(replicate, int):
        replicate %= 2**64
    with np.errstate(over="ignore"):
        key = np.asarray(replicate).astype(np.uint64) * _REPLICATE + np.uint64(seed % 2**64) * _SEED
        bits = splitmix64(splitmix64(rows ^ key) + key)
    one = SmallMeans(np.ones(1))  # every row's draw is a Poisson(1)'s
    return one.draw(bits.reshape(-1, 1)).reshape(bits.shape)


def percentile_interval(replicates, confidence: float = 0.95) -> Interval:
    """The percentile interval of a statistic's bootstrap replicates (numpy's linear
    interpolation, as scipy.stats.bootstrap(method="percentile") takes it)."""
    values = np.asarray(replicates, dtype=np.float64)
    values = np.sort(values[np.isfinite(values)])
    if not values.size:
        return Interval(math.nan, math.nan)
    tail = 50.0 * (1.0 - confidence)
    return Interval(_percentile(values, tail), _percentile(values, 100.0 - tail))


def _percentile(ordered: np.ndarray, percent: float) -> float:
    """np.percentile(ordered, percent) of sorted finite values, operation for operation (its
    default "linear" method) but without the np.unique inside it, which imports numpy.ma:
    about 10 ms of every report's start-up."""
    last = ordered.size - 1
    virtual = last * (percent / 100)
    if virtual >= last:
        return float(ordered[last])
    below = max(math.floor(virtual), 0)
    gamma = virtual - below
    low, high = float(ordered[below]), float(ordered[below + 1])
    difference = high - low
    if gamma >= 0.5:  # numpy's lerp from the nearer end
        return high - difference * (1 - gamma)
    return low + difference * gamma


def cell_replicates(counts: np.ndarray, replicates: int, seed: Seed = 0) -> np.ndarray:
    """Each replicate's resampled count of every cell (float64, shape (replicates,
    *counts.shape)): an independent Poisson(count) draw of each cell and replicate, a function
    of the seed, the cell's place among the occupied cells and the replicate's number alone
    (stats.draws): the same seed gives the same replicates on any numpy version."""
    draws = CellDraws(counts, seed)
    return _spread(draws, draws.between(0, max(replicates, 0)))


def replicate_blocks(
    counts: np.ndarray, replicates: int, seed: Seed, block: int
) -> Iterator[np.ndarray]:
    """cell_replicates' replicates, `block` at a time (the last fewer): the same numbers
    without holding them all. Large counts are drawn _SPAN_DRAWS at a time, as their draws
    rejected twice in a span attempt again together: a few calls of numpy for all."""
    draws = CellDraws(counts, seed)
    span = block
    if draws.large.size:
        span *= max(_SPAN_DRAWS // max(draws.occupied.size, 1) // block, 1)
    for start in range(0, replicates, span):
        drawn = draws.between(start, min(start + span, replicates))
        for first in range(0, drawn.shape[0], block):
            yield _spread(draws, drawn[first : first + block])


def _spread(draws: CellDraws, drawn: np.ndarray) -> np.ndarray:
    """Draws of the occupied cells (replicates, occupied) in every cell, the empty ones 0."""
    if draws.occupied.size < draws.counts.size:
        found = np.zeros((drawn.shape[0], draws.counts.size))
        found[:, draws.occupied] = drawn
        drawn = found
    return drawn.reshape(-1, *draws.counts.shape)
