"""The distributions against scipy's, to 1e-12 relative, tails included."""

import math

import numpy as np
import pytest
from scipy import stats

from lossdoctor.stats import distributions as d

RELATIVE = 1e-12


def close(ours: float, reference: float, rtol: float = RELATIVE) -> bool:
    return math.isclose(ours, reference, rel_tol=rtol, abs_tol=0.0)


@pytest.mark.parametrize("x", [*np.linspace(-37.5, 37.5, 301), -1e-12, 0.0, 1e-12])
def test_normal_cdf_and_sf_equal_scipy_into_the_far_tails(x):
    assert close(d.normal_cdf(x), stats.norm.cdf(x))
    assert close(d.normal_sf(x), stats.norm.sf(x))
    assert close(d.normal_two_sided(x), 2 * stats.norm.sf(abs(x)))


PROBABILITIES = [
    *(10.0 ** -np.linspace(1, 300, 150)),
    *np.linspace(0.001, 0.999, 201),
    *(0.5 + 10.0 ** -np.arange(1.0, 16.0)),
    *(1 - 10.0 ** -np.arange(1.0, 16.0)),
]


@pytest.mark.parametrize("p", PROBABILITIES)
def test_normal_quantile_equals_scipy(p):
    assert close(d.normal_quantile(p), stats.norm.ppf(p))


def test_normal_quantile_ends_and_bad_probabilities():
    assert d.normal_quantile(0.0) == -math.inf
    assert d.normal_quantile(1.0) == math.inf
    assert d.normal_quantile(0.5) == 0.0
    for bad in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError):
            d.normal_quantile(bad)


DEGREES = [1, 2, 3, 4.5, 9.5, 10, 19, 30, 99, 1000, 12345]
T_VALUES = [*np.linspace(-60, 60, 121), -1e3, 1e3, 1e5, -2e-3, 2e-3]


@pytest.mark.parametrize("df", [*DEGREES, 99_999, 1e5, 1e6, 1e7, 1e9])
def test_t_tails_equal_scipy(df):
    for t in T_VALUES:
        reference = stats.t.sf(t, df)
        if reference > 1e-300:
            assert close(d.t_sf(t, df), reference), (t, df)
            assert close(d.t_cdf(-t, df), reference), (t, df)
            two_sided = 2 * stats.t.sf(abs(t), df)
            if two_sided > 1e-300:
                assert close(d.t_two_sided(t, df), two_sided), (t, df)


def test_t_near_zero_is_cauchy_exactly():
    # Where scipy's stdtr loses digits (df = 1, |t| < 1e-6), the Cauchy distribution is exact.
    for t in (1e-8, 1e-12, -3e-7):
        assert close(d.t_sf(t, 1), 0.5 - math.atan(t) / math.pi, 1e-15)


@pytest.mark.parametrize("df", [*DEGREES, 1e5, 3e6, 1e9])
def test_t_quantile_equals_scipy(df):
    for p in [*(10.0 ** -np.linspace(1, 60, 40)), *np.linspace(0.01, 0.99, 49), 1 - 1e-9]:
        assert close(d.t_quantile(p, df), stats.t.ppf(p, df)), (p, df)
    assert d.t_quantile(0.5, df) == 0.0


@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 11, 30, 100, 1000, 10**4, 10**5, 10**6])
def test_binomial_cdf_equals_scipy(n):
    # Past 1e4 trials the continued fraction's thousands of terms cost digits: 1e-10.
    rtol = RELATIVE if n <= 10**4 else 1e-10
    for k in sorted(set(np.linspace(-1, n + 1, 43).astype(int))):
        for p in (0.5, 0.3):
            reference = stats.binom.cdf(k, n, p)
            if reference > 1e-300:
                assert close(d.binomial_cdf(k, n, p), reference, rtol), (k, n, p)


def test_incomplete_beta_and_complement_equal_scipy():
    from scipy import special

    for a, b in [(0.5, 0.5), (2, 3), (0.5, 40), (40, 0.5), (15, 25), (300, 700), (1e4, 3)]:
        for x in np.linspace(0.01, 0.99, 25):
            lower, upper = d.beta_tails(a, b, x, 1 - x)
            assert close(lower, special.betainc(a, b, x), 1e-11), (a, b, x)
            assert close(upper, special.betaincc(a, b, x), 1e-11), (a, b, x)
