"""Wilson, McNemar, t intervals, the paired t-test and Holm against statsmodels and scipy."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from lossdoctor.stats.means import Moments, paired_t_test, t_interval
from lossdoctor.stats.multiple import holm
from lossdoctor.stats.proportions import mcnemar_exact, wilson_interval


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.999999])
@pytest.mark.parametrize(
    ("successes", "trials"), [(0, 1), (1, 1), (0, 10), (10, 10), (3, 7), (512, 1000), (5, 10**7)]
)
def test_wilson_equals_statsmodels(successes, trials, confidence):
    reference = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(wilson_interval(successes, trials, confidence), reference, 1e-12)


@pytest.mark.parametrize(
    ("only_first", "only_second"),
    [(0, 0), (0, 1), (1, 1), (3, 9), (9, 3), (20, 20), (100, 160), (5000, 5300), (0, 70)],
)
def test_mcnemar_equals_statsmodels_exact(only_first, only_second):
    table = [[40, only_first], [only_second, 25]]
    reference = mcnemar(table, exact=True).pvalue
    assert mcnemar_exact(only_first, only_second) == pytest.approx(reference, rel=1e-12)


def _moments_by_batches(values: np.ndarray, cuts: list[int]) -> Moments:
    parts = np.split(values, cuts)
    merged = Moments.of(parts[0])
    for part in parts[1:]:
        merged = merged.merge(Moments.of(part))
    return merged


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_t_interval_equals_scipy_whatever_the_batches(confidence):
    rng = np.random.default_rng(0)
    values = 1e6 + rng.exponential(0.3, size=1000)  # a large mean: no cancellation allowed
    reference = stats.t.interval(
        confidence, values.size - 1, loc=values.mean(), scale=stats.sem(values)
    )
    for cuts in ([], [1, 2, 500], [333, 666, 999]):
        merged = _moments_by_batches(values, cuts)
        np.testing.assert_allclose(t_interval(merged, confidence), reference, rtol=1e-12)


def test_t_interval_undefined_below_two_values():
    assert all(math.isnan(end) for end in t_interval(Moments.of([1.0])))


def test_paired_t_test_equals_scipys_ttest_rel():
    rng = np.random.default_rng(1)
    first = rng.exponential(0.4, size=300)
    second = first + rng.normal(0.02, 0.1, size=300)
    reference = stats.ttest_rel(second, first)
    interval = reference.confidence_interval(0.95)
    test = paired_t_test(_moments_by_batches(second - first, [100, 101]))
    assert test.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    np.testing.assert_allclose(test.interval, (interval.low, interval.high), rtol=1e-12)


def test_paired_t_test_of_identical_losses():
    test = paired_t_test(Moments.of(np.zeros(50)))
    assert (test.difference, test.statistic, test.p_value) == (0.0, 0.0, 1.0)
    assert tuple(test.interval) == (0.0, 0.0)


@pytest.mark.parametrize(
    "p_values",
    [[0.01, 0.04, 0.03, 0.2], [0.5], [0.001, 0.001, 0.9, 0.02, 0.049], [0.3, 0.2, 0.6, 0.01]],
)
def test_holm_equals_statsmodels(p_values):
    reference = multipletests(p_values, method="holm")[1]
    np.testing.assert_allclose(holm(p_values), reference, rtol=1e-15)
