"""Intervals and tests from summaries: what a number's uncertainty is, and whether two differ.

distributions  the normal, Student t and binomial distributions (no scipy at run time)
delong         DeLong's variance of ROC-AUC, from a value table; the paired test of two models
proportions    Wilson's interval of a proportion; McNemar's exact test
means          the t interval of a mean and the paired t-test, from sums that merge
multiple       Holm's correction over several tests
bootstrap      a Poisson bootstrap whose weights depend on the row number only
replicates     the bootstrap's replicates of the metrics read off merged counts and value tables
intervals      the interval of each metric of a report, from its merged metric totals
"""

from typing import NamedTuple


class Interval(NamedTuple):
    """A two-sided confidence interval."""

    low: float
    high: float
