"""The t interval of a mean and the paired t-test, from a count, a sum and squared deviations.

Squared deviations from each batch's own mean merge exactly (Chan, Golub and LeVeque), where a
sum of squares less the squared sum would cancel the digits of a small variance.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lossdoctor.stats import Interval
from lossdoctor.stats.distributions import t_critical, t_two_sided


def sum_of_products(a: np.ndarray, b: np.ndarray) -> float:
    """The sum of a * b over two float64 vectors, in einsum's own loop: np.dot hands them to
    the BLAS, whose threads cost many times the arithmetic on a busy machine."""
    return float(np.einsum("i,i->", a, b))


class Moments(NamedTuple):
    """Count, sum and squared deviations from the mean of some values: what merges."""

    count: float
    total: float
    squares: float  # sum of (x - mean)^2

    @classmethod
    def of(cls, values) -> Moments:
        values = np.asarray(values, dtype=np.float64)
        total = float(values.sum())
        if not values.size:
            return cls(0.0, 0.0, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):  # huge values: an infinite spread
            deviations = values - total / values.size
            squares = sum_of_products(deviations, deviations)
        return cls(float(values.size), total, squares)

    def merge(self, other: Moments) -> Moments:
        if not self.count or not other.count:
            return self if other.count == 0 else other
        count = self.count + other.count
        delta = other.total / other.count - self.total / self.count
        squares = self.squares + other.squares + delta * delta * self.count * other.count / count
        return Moments(count, self.total + other.total, squares)

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def standard_error(self) -> float:
        """Of the mean: the sample standard deviation (n - 1) over sqrt(n)."""
        return math.sqrt(self.squares / (self.count - 1) / self.count)


def t_interval(moments: Moments, confidence: float = 0.95) -> Interval:
    """The t interval of the mean (scipy.stats.t.interval with the standard error); NaN with
    fewer than two values."""
    if moments.count < 2:
        return Interval(math.nan, math.nan)
    half = t_critical(confidence, moments.count - 1) * moments.standard_error
    return Interval(moments.mean - half, moments.mean + half)


class PairedT(NamedTuple):
    difference: float  # mean of the per-row differences
    statistic: float
    p_value: float
    interval: Interval


def paired_t_test(differences: Moments, confidence: float = 0.95) -> PairedT:
    """The paired t-test of per-row differences (scipy.stats.ttest_rel on the two columns).

    Identical columns (every difference 0) give p = 1 and the interval [0, 0]; scipy gives NaN.
    """
    mean = differences.mean
    if differences.squares == 0:
        p_value = 1.0 if mean == 0 else 0.0
        statistic = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        return PairedT(mean, statistic, p_value, Interval(mean, mean))
    statistic = mean / differences.standard_error
    p_value = t_two_sided(statistic, differences.count - 1)
    return PairedT(mean, statistic, p_value, t_interval(differences, confidence))
