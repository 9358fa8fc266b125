"""DeLong's variance of ROC-AUC, its interval, and the paired test of two models' AUCs.

ROC-AUC is the mean over positives of a placement V10 = (negatives below + half the tied
negatives) / n0, and equally the mean over negatives of V01 = (positives above + half the tied)
/ n1. DeLong, DeLong and Clarke-Pearson (1988) estimate its variance as
S10 / n1 + S01 / n0, the sample variances (n - 1) of the two placements. Rows of one score
share a placement, so a value table (lossdoctor.value_tables), one entry per distinct score with its
hits and misses, gives the variance exactly, from summaries that merge.

The interval is the normal one about the AUC, clipped to [0, 1], as R's pROC computes
ci.auc(method = "delong"). Paired: roc.test(method = "delong", paired = TRUE), with the
placements of each model from one sort of its scores (Sun and Xu, 2014): O(n log n).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from lossdoctor.stats import Interval
from lossdoctor.stats.distributions import normal_critical, normal_two_sided
from lossdoctor.stats.means import sum_of_products
from lossdoctor.value_tables import HeldEntries, ValueTable, held_entries


class AucVariance(NamedTuple):
    auc: float
    variance: float
    # On a grid table: how far the standard error can be from the exact scores' (the bins
    # read as ties move each placement by at most half its bin's other side)
    standard_error_bound: float


def auc_variance(
    table: ValueTable, auc_bound: float = 0.0, center: float | None = None
) -> AucVariance | None:
    """DeLong's variance of the hits-against-misses AUC of a table; None unless there are
    at least two hits and two misses (pROC gives NA there). `auc_bound`: the AUC's own error
    bound on a grid table, which moves every placement's mean. `center`: the AUC if known
    (lossdoctor.value_tables.rank), about which the squares are summed in one pass over the table,
    a block of entries at a time; any value near it gives the same variance."""
    n1, n0 = table.hits, table.misses
    if n1 < 2 or n0 < 2:
        return None
    if center is None:
        center = _sums(held_entries(table), n1, n0, 0.0)[0] / n1
    return held_variance(held_entries(table), n1, n0, center, auc_bound, table.is_grid)


def held_variance(
    blocks: Iterable[HeldEntries],
    n1: int | float,
    n0: int | float,
    center: float,
    auc_bound: float = 0.0,
    grid: bool = False,
) -> AucVariance:
    """auc_variance from a table's entries holding hits, as held_entries gives them block by
    block (at least two hits and two misses): what a table of many groups hands over group
    by group, with no table built."""
    sum10, squares10, sum01, squares01, moved = _sums(blocks, n1, n0, center, auc_bound, grid)
    auc = center + sum10 / n1  # the placements' mean, from their offsets to the center
    # Squares about the mean from squares about the center: subtract n (mean - center)^2.
    s10 = (squares10 - sum10 * sum10 / n1) / (n1 - 1)
    s01 = (squares01 - sum01 * sum01 / n0) / (n0 - 1)
    bound = 0.0
    if grid:
        # Minkowski: the norm of the placements' deviations moves by at most the norm of
        # their moves, each at most half its bin's other side plus the AUC's bound.
        bound = math.sqrt(moved[0] / (n1 - 1) / n1 + moved[1] / (n0 - 1) / n0)
    return AucVariance(auc, s10 / n1 + s01 / n0, bound)


def _sums(
    blocks: Iterable[HeldEntries],
    n1: int | float,
    n0: int | float,
    center: float,
    auc_bound: float = 0.0,
    grid: bool = False,
) -> tuple[float, float, float, float, tuple[float, float]]:
    """Sums of the placements' offsets from `center` and of their squares, each weighted by
    its rows (V10 over the hits, V01 over the misses); and on a grid the squared moves.

    Read off the entries holding hits only, as tables.rank reads the AUC, in units of half a
    row: a hit's 2 n0 V10 is 2 misses below + tied misses. A miss's 2 n1 V01 is 2 hits above
    + tied hits; the misses between two entries holding hits all see the same hits above,
    and those above the last one none.
    """
    sum10 = squares10 = sum01 = squares01 = moved10 = moved01 = 0.0
    misses_seen = 0  # misses below or at the last entry holding hits so far
    # The temporaries are as large as a block: computed in place where the arithmetic allows,
    # as each fresh one costs about what the arithmetic does.
    for _, _, hits_below, misses_below, hits_at, misses_at in blocks:
        doubled = 2 * misses_below
        doubled += misses_at
        doubled = np.subtract(doubled, 2.0 * n0 * center)
        weighted = hits_at * doubled
        sum10 += float(weighted.sum()) / (2 * n0)
        squares10 += sum_of_products(weighted, doubled) / (2 * n0) ** 2
        # misses tied with hits, then the misses in the gap below each held entry
        above = np.multiply(n1 - hits_below, 2.0)  # hits at or above, doubled
        above -= 2.0 * n1 * center
        tied = np.subtract(above, hits_at, out=doubled)
        gaps = np.empty_like(misses_below)  # misses below an entry, less those to the last
        gaps[0] = misses_below[0] - misses_seen
        np.subtract(misses_below[1:], misses_below[:-1], out=gaps[1:])
        gaps[1:] -= misses_at[:-1]
        misses_seen = int(misses_below[-1] + misses_at[-1])
        for counts, offsets in ((misses_at, tied), (gaps, above)):
            np.multiply(counts, offsets, out=weighted)
            sum01 += float(weighted.sum()) / (2 * n1)
            squares01 += sum_of_products(weighted, offsets) / (2 * n1) ** 2
        if grid:
            moved10 += sum_of_products(hits_at, (0.5 * misses_at / n0 + auc_bound) ** 2)
            moved01 += sum_of_products(misses_at, (0.5 * hits_at / n1 + auc_bound) ** 2)
            moved01 += float(gaps.sum()) * auc_bound**2  # no hits tied: the AUC's move only
    # the misses above every hit: V01 = 0
    moved01 += (n0 - misses_seen) * auc_bound**2
    offset = -2.0 * n1 * center
    sum01 += (n0 - misses_seen) * offset / (2 * n1)
    squares01 += (n0 - misses_seen) * offset * offset / (2 * n1) ** 2
    return sum10, squares10, sum01, squares01, (moved10, moved01)


def auc_interval(
    table: ValueTable,
    confidence: float = 0.95,
    auc_bound: float = 0.0,
    center: float | None = None,
) -> tuple[Interval, float] | None:
    """DeLong's interval of the AUC, clipped to [0, 1], and how far each end can be from the
    exact scores' on a grid table (0.0 when exact); None where the variance is undefined."""
    variance = auc_variance(table, auc_bound, center)
    return None if variance is None else interval_of(variance, confidence, auc_bound)


def interval_of(
    variance: AucVariance, confidence: float = 0.95, auc_bound: float = 0.0
) -> tuple[Interval, float]:
    """auc_interval from the variance already computed."""
    z = normal_critical(confidence)
    half = z * math.sqrt(variance.variance)
    interval = Interval(max(variance.auc - half, 0.0), min(variance.auc + half, 1.0))
    return interval, auc_bound + z * variance.standard_error_bound


# ---- from rows: the paired test --------------------------------------------------------------


def placements(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V10 of each positive, V01 of each negative), in row order, from one sort of the
    scores: Sun and Xu's mid-ranks, read as counts of the other class below and tied."""
    is_positive = np.asarray(is_positive, dtype=bool)
    scores = np.asarray(scores)
    order = np.argsort(scores, kind="stable")
    ordered, positive = scores[order], is_positive[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    run = np.cumsum(np.r_[False, ordered[1:] != ordered[:-1]])  # each sorted row's run of ties
    positives_below = np.r_[0, np.cumsum(positive)]  # before each sorted position
    positives_before = positives_below[starts]  # below each run
    positives_in = np.diff(np.r_[positives_before, positives_below[-1]])
    negatives_before = starts - positives_before
    negatives_in = np.diff(np.r_[starts, scores.size]) - positives_in
    n1 = int(positives_below[-1])
    n0 = scores.size - n1
    doubled = np.where(
        positive,
        (2 * negatives_before + negatives_in)[run] / (2 * n0) if n0 else 0.0,
        (2 * (n1 - positives_before) - positives_in)[run] / (2 * n1) if n1 else 0.0,
    )
    placed = np.empty(scores.size)
    placed[order] = doubled
    return placed[is_positive], placed[~is_positive]


class PairedAuc(NamedTuple):
    auc_first: float
    auc_second: float
    difference: float  # first - second
    standard_error: float
    z: float
    p_value: float
    interval: Interval  # of the difference


def paired_delong(
    is_positive: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    confidence: float = 0.95,
) -> PairedAuc | None:
    """DeLong's test of two models' AUCs on the same rows, as pROC's roc.test(roc1, roc2,
    method = "delong", paired = TRUE): z = difference / standard error, two-sided normal
    p-value, and the normal interval of the difference (not clipped). Equal AUCs with a
    standard error of 0 (identical models) give z = 0, p = 1 and [0, 0]. None without two
    positives and two negatives."""
    is_positive = np.asarray(is_positive, dtype=bool)
    n1 = int(np.count_nonzero(is_positive))
    n0 = is_positive.size - n1
    if n1 < 2 or n0 < 2:
        return None
    v10_a, v01_a = placements(is_positive, first)
    v10_b, v01_b = placements(is_positive, second)
    auc_a, auc_b = float(v10_a.mean()), float(v10_b.mean())
    # The variance of the difference: of the differences of the placements, side by side.
    d10 = (v10_a - v10_b) - (auc_a - auc_b)
    d01 = (v01_a - v01_b) - (auc_a - auc_b)
    variance = float(np.dot(d10, d10)) / (n1 - 1) / n1 + float(np.dot(d01, d01)) / (n0 - 1) / n0
    difference = auc_a - auc_b
    se = math.sqrt(max(variance, 0.0))
    if se == 0:
        z = 0.0 if difference == 0 else math.copysign(math.inf, difference)
    else:
        z = difference / se
    half = normal_critical(confidence) * se
    return PairedAuc(
        auc_a,
        auc_b,
        difference,
        se,
        z,
        normal_two_sided(z),
        Interval(difference - half, difference + half),
    )
