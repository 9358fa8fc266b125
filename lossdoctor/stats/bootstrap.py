"""A Poisson bootstrap whose weights are a function of the row number, the replicate and a seed.

A replicate resamples the rows by giving each a Poisson(1) weight (Hanley and MacGibbon): no
row needs to see another, so a batch, a file or a Dask partition computes its rows' weights
alone, and the replicates are the same whatever the split. The weight is the inverse
Poisson(1) distribution function of a uniform made by splitmix64 from the three numbers.

Where a statistic reads only counts of rows in a few cells (a confusion matrix), the replicates
need no row at all: the Poisson(1) weights of a cell's m rows sum to a Poisson(m) count, drawn
once per cell and replicate from the merged counts (cell_replicates), the same in distribution
and, as it reads only the merged counts, the same whatever the split.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from lossdoctor.stats import Interval

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_REPLICATE = np.uint64(0xD6E8FEB86659FD93)
_SEED = np.uint64(0xA0761D6478BD642F)
# P(Poisson(1) <= k) for k = 0..19; beyond 19 the remaining mass is below 1e-18 (weight 20).
_POISSON_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def poisson_weights(rows: np.ndarray, replicate: int | np.ndarray, seed: int = 0) -> np.ndarray:
    """The Poisson(1) weight (uint8) of each row number in one bootstrap replicate; replicate
    numbers in an array broadcast against the rows (a column of them: one row each)."""
    rows = np.asarray(rows).astype(np.uint64)
    if isinstance(replicate, int):
        replicate %= 2**64
    with np.errstate(over="ignore"):
        key = np.asarray(replicate).astype(np.uint64) * _REPLICATE + np.uint64(seed % 2**64) * _SEED
        bits = _splitmix64(_splitmix64(rows ^ key) + key)
    uniform = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON_CDF, uniform, side="right").astype(np.uint8)


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


def cell_replicates(counts: np.ndarray, replicates: int, seed: int = 0) -> np.ndarray:
    """Each replicate's resampled count of every cell (float64, shape (replicates, *counts.shape)):
    independent Poisson(count) draws from numpy's PCG64 seeded with `seed`, so one numpy
    version gives the same replicates on every run."""
    return np.concatenate([*replicate_blocks(counts, replicates, seed, max(replicates, 1))])


def replicate_blocks(counts: np.ndarray, replicates: int, seed, block: int) -> Iterator[np.ndarray]:
    """cell_replicates' replicates, `block` at a time (the last fewer): the same numbers, drawn
    in the same order, without holding them all."""
    counts = np.asarray(counts, dtype=np.float64)
    generator = np.random.Generator(np.random.PCG64(seed))
    # An empty cell's draw is 0 and takes nothing from the stream: drawing only the others, in
    # the same order, gives the same replicates in work of rows (not cells) times replicates.
    occupied = np.flatnonzero(counts)
    means = counts.ravel()[occupied]
    one_mean = means.size and (means == means[0]).all()
    for start in range(0, max(replicates, 1), block):
        shape = (min(block, replicates - start), means.size)
        if one_mean:  # numpy's loop without broadcasting
            draws = generator.poisson(means[0], shape)
        else:
            draws = generator.poisson(np.broadcast_to(means, shape))
        drawn = np.zeros((shape[0], counts.size))
        drawn[:, occupied] = draws
        yield drawn.reshape(shape[0], *counts.shape)
