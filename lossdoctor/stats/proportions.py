"""Wilson's interval of a proportion, and McNemar's exact test on discordant pairs."""

from __future__ import annotations

import math

from lossdoctor.stats import Interval
from lossdoctor.stats.distributions import binomial_cdf, normal_critical


def wilson_interval(successes: float, trials: float, confidence: float = 0.95) -> Interval:
    """Wilson's score interval of successes / trials (statsmodels' proportion_confint with
    method="wilson"). It stays within [0, 1] and is not degenerate at 0 or 1 successes,
    where the normal (Wald) interval is. Counts may be effective (weighted) sizes."""
    if trials <= 0:
        return Interval(math.nan, math.nan)
    share = successes / trials
    z = normal_critical(confidence)
    z2 = z * z
    scale = 1.0 + z2 / trials
    centre = (share + z2 / (2.0 * trials)) / scale
    spread = z * math.sqrt(share * (1.0 - share) / trials + z2 / (4.0 * trials * trials)) / scale
    # At 0 (or all) successes the end is 0 (or 1) exactly, which rounding would miss.
    low = 0.0 if successes == 0 else centre - spread
    high = 1.0 if successes == trials else centre + spread
    return Interval(low, high)


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """McNemar's exact two-sided p-value: of the pairs where exactly one of two models is
    right, is one side more often right than a fair coin would make it? Twice the binomial
    tail of the smaller count, at most 1 (statsmodels' mcnemar(table, exact=True))."""
    discordant = only_first + only_second
    return min(1.0, 2.0 * binomial_cdf(min(only_first, only_second), discordant, 0.5))
