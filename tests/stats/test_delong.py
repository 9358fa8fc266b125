"""DeLong's interval and paired test against R's pROC and the direct O(n^2) formula."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lossdoctor.stats.delong import auc_interval, auc_variance, paired_delong, placements
from lossdoctor.stats.distributions import normal_quantile
from lossdoctor.value_tables import merge, tabulate, to_grid

PROC = json.loads((Path(__file__).parent.parent / "reference" / "proc_reference.json").read_text())


def direct_placements(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """psi(x, y) = 1 if x > y, 1/2 if tied, over every positive-negative pair."""
    positives, negatives = scores[y == 1], scores[y == 0]
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (positives[:, None] == negatives)
    return psi.mean(axis=1), psi.mean(axis=0)


def direct_variance(y, scores) -> tuple[float, float]:
    v10, v01 = direct_placements(y, scores)
    auc = v10.mean()
    return auc, v10.var(ddof=1) / v10.size + v01.var(ddof=1) / v01.size


def direct_paired(y, first, second, confidence):
    a10, a01 = direct_placements(y, first)
    b10, b01 = direct_placements(y, second)
    s10 = np.cov(np.stack([a10, b10]))
    s01 = np.cov(np.stack([a01, b01]))
    s = s10 / a10.size + s01 / a01.size
    se = math.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    difference = a10.mean() - b10.mean()
    half = normal_quantile(0.5 + confidence / 2) * se
    return difference, se, (difference - half, difference + half)


@pytest.mark.parametrize("case", PROC["cases"], ids=lambda case: case["name"])
def test_interval_equals_procs_ci_auc(case):
    y, first = np.array(case["y"]), np.array(case["first"])
    interval, bound = auc_interval(tabulate(first, y == 1), case["confidence"])
    assert bound == 0.0
    np.testing.assert_allclose(interval, case["ci_auc"], rtol=1e-12)
    variance = auc_variance(tabulate(first, y == 1))
    assert variance.auc == pytest.approx(case["auc"], rel=1e-14)
    assert variance.variance == pytest.approx(case["var_auc"], rel=1e-12)


@pytest.mark.parametrize("case", PROC["cases"], ids=lambda case: case["name"])
def test_paired_test_equals_procs_roc_test(case):
    y = np.array(case["y"])
    test = paired_delong(y, np.array(case["first"]), np.array(case["second"]), case["confidence"])
    assert test.z == pytest.approx(case["paired_z"], rel=1e-10, abs=1e-12)
    assert test.p_value == pytest.approx(case["paired_p"], rel=1e-10)
    np.testing.assert_allclose(test.interval, case["paired_ci"], rtol=1e-10, atol=1e-14)


def _data(seed: int, n: int, positive_share: float, decimals: int | None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_share).astype(int)
    y[:2], y[2:4] = 1, 0
    first = 1 / (1 + np.exp(-(1.5 * y + rng.normal(size=n))))
    second = 1 / (1 + np.exp(-(0.8 * y + rng.normal(size=n))))
    if decimals is not None:
        first, second = first.round(decimals), second.round(decimals)
    return y, first, second


@pytest.mark.parametrize(
    ("seed", "n", "share", "decimals"),
    [(1, 50, 0.5, None), (2, 400, 0.1, 2), (3, 300, 0.02, 1), (4, 500, 0.7, 3), (5, 30, 0.5, 0)],
)
def test_variance_from_the_table_equals_the_direct_formula(seed, n, share, decimals):
    y, first, _ = _data(seed, n, share, decimals)
    auc, variance = direct_variance(y, first)
    from_table = auc_variance(tabulate(first, y == 1))
    assert from_table.auc == pytest.approx(roc_auc_score(y, first), rel=1e-14)
    assert from_table.auc == pytest.approx(auc, rel=1e-14)
    assert from_table.variance == pytest.approx(variance, rel=1e-11)


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.999])
@pytest.mark.parametrize(("seed", "decimals"), [(6, None), (7, 1), (8, 2)])
def test_paired_test_equals_the_direct_formula(seed, decimals, confidence):
    y, first, second = _data(seed, 250, 0.3, decimals)
    difference, se, interval = direct_paired(y, first, second, confidence)
    test = paired_delong(y, first, second, confidence)
    assert test.difference == pytest.approx(difference, rel=1e-13)
    assert test.standard_error == pytest.approx(se, rel=1e-11)
    np.testing.assert_allclose(test.interval, interval, rtol=1e-11)
    assert test.p_value == pytest.approx(math.erfc(abs(difference / se) / math.sqrt(2)), rel=1e-10)


def test_identical_models_differ_by_nothing():
    y, first, _ = _data(9, 100, 0.4, None)
    test = paired_delong(y, first, first.copy())
    assert (test.difference, test.z, test.p_value) == (0.0, 0.0, 1.0)
    assert tuple(test.interval) == (0.0, 0.0)


def test_undefined_without_two_of_each_class():
    y = np.array([1, 0, 0, 0])
    scores = np.array([0.9, 0.1, 0.2, 0.3])
    assert auc_interval(tabulate(scores, y == 1)) is None
    assert paired_delong(y, scores, scores) is None


def test_merged_batches_give_the_one_batchs_interval():
    y, first, _ = _data(10, 600, 0.3, 2)
    whole = auc_interval(tabulate(first, y == 1))
    parts = [tabulate(first[i : i + 150], y[i : i + 150] == 1) for i in range(0, 600, 150)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merge(merged, part)
    assert auc_interval(merged) == whole


def test_grid_interval_is_within_its_bound_of_the_exact_one():
    y, first, _ = _data(11, 3000, 0.3, None)
    exact, _ = auc_interval(tabulate(first, y == 1))
    grid = to_grid(tabulate(first, y == 1), bits=3)
    from lossdoctor.value_tables import dense, rank

    grid = dense(grid)
    auc_bound = rank(grid).roc_auc_bound
    assert auc_bound > 0
    (low, high), bound = auc_interval(grid, 0.95, auc_bound)
    assert bound > 0
    assert abs(low - exact.low) <= bound
    assert abs(high - exact.high) <= bound


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_placements_are_the_direct_ones_in_row_order(decimals):
    y, first, _ = _data(12, 300, 0.4, decimals)
    for got, want in zip(placements(y, first), direct_placements(y, first), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14)
