"""Poisson draws from given uniform bits, exact in distribution up to float64 rounding.

The bootstrap draws a Poisson(count) for every cell of rows and replicate (stats.bootstrap):
hundreds of thousands for a report of a small file, millions for a large one. The bits come
from the caller (a hash of the cell, the replicate and the seed), so the draws depend on
integers alone, not on a generator's state or on numpy's version.

A mean below SMALL_MEAN is a count of a few rows: the draw is its inverse distribution
function, read off a guide table by the top GUIDE_BITS bits of the uniform (one lookup for
nearly every draw; the few uniforms whose bucket holds a step of the distribution function
are searched in its thresholds). A larger mean takes Hörmann's transformed rejection with
squeeze (PTRS, "The transformed rejection method for generating Poisson random variables",
1993), numpy's own method for such means: two uniforms an attempt, and the rare rejected
draws attempt again with fresh ones.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

SMALL_MEAN = 64  # below, inversion from a table: the draws fit a uint8
GUIDE_BITS = 12
_UNIFORM_BITS = 53  # a uniform is its top 53 bits, as numpy's doubles
_SEARCH = np.uint8(255)  # a guide bucket holding a step: search the thresholds
# log(k!) below _TABLED from math.lgamma; above, Stirling's series to x**-3, whose next term is
# below 1e-15 there: within float64's rounding of log(k!) itself.
_TABLED = 256
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def uniforms(bits: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) of 53 bits each from 64-bit words (their top bits)."""
    return (bits >> np.uint64(64 - _UNIFORM_BITS)).astype(np.float64) * 2.0**-_UNIFORM_BITS


@cache
def _small_table(mean: int) -> tuple[np.ndarray, np.ndarray]:
    """The Poisson(mean) draw as a function of a 53-bit uniform u: the number of thresholds
    at or below it, the k-th being P(X <= k) * 2**53 rounded up (u / 2**53 >= P(X <= k)
    exactly when u >= it); and a guide: per bucket of the top GUIDE_BITS bits, the draw of
    every u in it, or _SEARCH where a threshold splits the bucket."""
    thresholds = []
    below = 0.0
    k = 0
    while below < 1.0:
        mass = math.exp(-mean) * mean**k / math.factorial(k)
        if k > mean and mass < 2.0**-64:  # the rest of the tail: below float64's rounding
            break
        below += mass
        thresholds.append(math.ceil(below * 2.0**_UNIFORM_BITS))
        k += 1
    # equal thresholds are draws of no mass at this resolution: kept, as each counts one
    steps = np.array(thresholds, dtype=np.uint64)
    width = 2 ** (_UNIFORM_BITS - GUIDE_BITS)
    first = np.arange(2**GUIDE_BITS, dtype=np.uint64) * np.uint64(width)
    low = np.searchsorted(steps, first, side="right")
    high = np.searchsorted(steps, first + np.uint64(width - 1), side="right")
    guide = np.where(low == high, low, int(_SEARCH)).astype(np.uint8)
    return guide, steps


class SmallMeans:
    """The draws of cells of whole means 1..SMALL_MEAN-1, given their means (one per column)."""

    def __init__(self, means: np.ndarray):
        present = np.flatnonzero(np.bincount(means.astype(np.intp), minlength=SMALL_MEAN))
        tables = [_small_table(int(mean)) for mean in present]
        self.guides = np.concatenate([guide for guide, _ in tables])
        self.steps = [steps for _, steps in tables]
        self.table_of = np.searchsorted(present, means)
        # each column's guide starts table_of * 2**GUIDE_BITS into the guides
        self.guide_starts = (self.table_of << GUIDE_BITS).astype(np.uint64)

    def draw(self, bits: np.ndarray) -> np.ndarray:
        """The draws (uint8, the shape of bits: replicates by columns) of 64-bit words."""
        bucket = bits >> np.uint64(64 - GUIDE_BITS)
        if len(self.steps) > 1:
            bucket += self.guide_starts
        drawn = self.guides.take(bucket.view(np.int64))  # numpy 1.x takes no uint64 index
        searched = np.flatnonzero(drawn == _SEARCH)
        if searched.size:
            flat = drawn.reshape(-1)
            tables = self.table_of[searched % bits.shape[-1]]
            words = bits.reshape(-1)[searched] >> np.uint64(64 - _UNIFORM_BITS)
            for table in np.flatnonzero(np.bincount(tables)):
                chosen = tables == table
                flat[searched[chosen]] = np.searchsorted(
                    self.steps[table], words[chosen], side="right"
                )
        return drawn


class LargeMeans:
    """PTRS's constants for cells of means of SMALL_MEAN or more (one per column)."""

    def __init__(self, means: np.ndarray):
        self.mean = means
        self.log_mean = np.log(means)
        self.b = 0.931 + 2.53 * np.sqrt(means)
        self.a = -0.059 + 0.02483 * self.b
        # log(1 / alpha) and the mean: PTRS's constant of its test of acceptance
        self.constant = np.log(1.1239 + 1.1328 / (self.b - 3.4)) + means
        self.squeeze = 0.9277 - 3.6224 / (self.b - 2)
        self.shift = means + 0.43

    def attempt(self, u: np.ndarray, v: np.ndarray, columns=None) -> tuple[np.ndarray, np.ndarray]:
        """One attempt of PTRS (numpy's random_poisson_ptrs, step by step) from uniforms u and
        v (overwritten) of all the columns (replicates by columns) or of the given ones (a
        column each): each draw, and whether it is accepted (flat)."""
        chosen = slice(None) if columns is None else columns
        u -= 0.5
        us = np.abs(u)
        np.subtract(0.5, us, out=us)
        with np.errstate(divide="ignore"):  # u = 0: k = -inf, rejected
            k = np.divide(2 * self.a[chosen], us)
        k += self.b[chosen]
        k *= u
        k += self.shift[chosen]
        np.floor(k, out=k)
        accepted = us >= 0.07
        accepted &= v <= self.squeeze[chosen]
        k, us, v, accepted = k.reshape(-1), us.reshape(-1), v.reshape(-1), accepted.reshape(-1)
        doubtful = np.flatnonzero(~accepted)
        if doubtful.size:
            c = doubtful % self.mean.size if columns is None else columns[doubtful]
            kd, ud, vd = k[doubtful], us[doubtful], v[doubtful]
            with np.errstate(divide="ignore", invalid="ignore"):
                # log(v / alpha / (a / us**2 + b)) <= -mean + k log(mean) - log(k!)
                excess = np.log(vd / (self.a[c] / (ud * ud) + self.b[c]))
                excess += self.constant[c]
                excess -= kd * self.log_mean[c]
                excess += log_factorial(np.maximum(kd, 0))
            passed = excess <= 0
            passed &= kd >= 0
            passed &= (ud >= 0.013) | (vd <= ud)
            accepted[doubtful] = passed
        return k, accepted


@cache
def _log_factorials() -> np.ndarray:
    return np.array([math.lgamma(k + 1) for k in range(_TABLED)])


def log_factorial(k: np.ndarray) -> np.ndarray:
    """log(k!) of whole numbers k >= 0 (float64), within float64's rounding."""
    x = np.maximum(k, _TABLED) + 1.0
    inverse = 1.0 / x
    found = inverse * inverse
    found *= -1 / 360
    found += 1 / 12
    found *= inverse
    found += _HALF_LOG_TWO_PI - x
    found += (x - 0.5) * np.log(x)
    tabled = np.flatnonzero(k < _TABLED)
    if tabled.size:
        found[tabled] = _log_factorials()[k[tabled].astype(np.intp)]
    return found
