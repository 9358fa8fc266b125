"""The Poisson bootstrap: weights that do not depend on how the rows are split."""

import numpy as np
import pytest

from lossdoctor.stats.bootstrap import percentile_interval, poisson_weights


def test_weights_are_the_same_whatever_the_batches():
    rows = np.arange(20_000, dtype=np.int64)
    whole = poisson_weights(rows, replicate=7, seed=3)
    for size in (1, 999, 4096, 6_667):
        batches = [poisson_weights(rows[i : i + size], 7, 3) for i in range(0, rows.size, size)]
        np.testing.assert_array_equal(np.concatenate(batches), whole)
    shuffled = np.random.default_rng(0).permutation(rows)
    np.testing.assert_array_equal(poisson_weights(shuffled, 7, 3), whole[shuffled])


def test_weights_are_poisson_one():
    weights = poisson_weights(np.arange(2_000_000), replicate=0, seed=0).astype(np.float64)
    assert weights.mean() == pytest.approx(1.0, abs=0.003)
    assert weights.var() == pytest.approx(1.0, abs=0.006)
    shares = np.bincount(weights.astype(int), minlength=4)[:4] / weights.size
    np.testing.assert_allclose(shares, np.exp(-1) / np.array([1, 1, 2, 6]), atol=0.002)


def test_replicates_and_seeds_are_independent():
    rows = np.arange(200_000)
    a, b = (poisson_weights(rows, r, 0).astype(float) for r in (0, 1))
    c = poisson_weights(rows, 0, 1).astype(float)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.01


def test_percentile_interval_is_numpys_percentiles():
    values = np.random.default_rng(2).normal(size=999)
    assert percentile_interval(values, 0.9) == tuple(np.percentile(values, [5, 95]))


@pytest.mark.parametrize("size", [1, 2, 3, 40, 999, 1000, 1001])
@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0])
def test_percentile_interval_is_bit_for_bit_numpys_percentiles(size, confidence):
    rng = np.random.default_rng(size)
    for values in (rng.normal(size=size), rng.integers(0, 4, size) / 3.0, np.full(size, 0.1)):
        values = values.copy()
        tail = 50.0 * (1.0 - confidence)
        want = tuple(float(v) for v in np.percentile(values, [tail, 100.0 - tail]))
        assert percentile_interval(values, confidence) == want
        values[1::7] = np.nan  # left out, as numpy's nanpercentile does
        want = tuple(float(v) for v in np.nanpercentile(values, [tail, 100.0 - tail]))
        assert percentile_interval(values, confidence) == want
