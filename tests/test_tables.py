"""lossdoctor.tables: value tables against brute force and scikit-learn, exact and on the grid."""

import itertools
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from lossdoctor.value_tables import (
    GRID_BITS,
    at_or_above,
    complement,
    dense,
    each_column,
    grid_bits,
    grid_keys,
    grid_size,
    merge,
    merge_all,
    quantile_bins,
    rank,
    tabulate,
    tabulate_on_grid,
    to_grid,
)
from lossdoctor.value_tables.table import sparse_grid

DTYPES = [np.float64, np.float32]
EDGE_SCORES = (0.0, 2.0**-80, 1e-20, 1e-7, 0.3, 0.5, 0.7, 1 - 1e-7, 1.0)


def scores_and_labels(seed, n, dtype, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.35
    p = 1 / (1 + np.exp(-(rng.standard_normal(n) + 1.2 * y - 0.5)))
    if ties:
        p = np.round(p, 2)
    p[: len(EDGE_SCORES)] = EDGE_SCORES[: min(n, len(EDGE_SCORES))]
    return p.astype(dtype), y


def brute_force_table(scores, is_hit):
    """Distinct scores with the hits and rows below each, as plain NumPy reductions give them."""
    values, inverse = np.unique(scores, return_inverse=True)
    hits = np.bincount(inverse, weights=is_hit, minlength=values.size).astype(np.int64)
    rows = np.bincount(inverse, minlength=values.size)
    return values, np.r_[0, np.cumsum(hits)], np.r_[0, np.cumsum(rows)]


def assert_same_table(actual, expected):
    assert actual.is_grid == expected.is_grid
    assert actual.values.dtype == expected.values.dtype
    np.testing.assert_array_equal(actual.values, expected.values)
    np.testing.assert_array_equal(actual.hits_below, expected.hits_below)
    np.testing.assert_array_equal(actual.rows_below, expected.rows_below)


def quiet(metric, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metric(*args, **kwargs)


# --- the grid ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_grid_keys_keep_the_order_of_the_scores_and_fill_the_grid(dtype):
    rng = np.random.default_rng(0)
    p = np.sort(np.r_[rng.random(50_000), rng.random(1000) ** 40, 1 - rng.random(1000) ** 40])
    p = np.sort(np.r_[p, EDGE_SCORES].astype(dtype))
    keys = grid_keys(p, GRID_BITS)
    assert np.all(np.diff(keys) >= 0)
    assert keys[0] == 0 and keys[-1] == grid_size(GRID_BITS) - 1
    # Both tails keep relative resolution: these neighbours land in different bins.
    assert len(set(grid_keys(np.array([1e-6, 1.001e-6, 1 - 1e-6, 1 - 1.001e-6]), 12))) == 4


def test_grid_puts_scores_whose_float32_complement_rounds_alike_in_one_bin():
    # Below 0.5 a float32 1 - p has half the resolution of p: 0.3 and the next float32 up
    # give one value of 1 - p, which scikit-learn's class 0 sees as one tied score.
    p = np.float32(0.3) + np.arange(4096, dtype=np.float32) * np.spacing(np.float32(0.3))
    keys = grid_keys(p, 23)
    joined = (1 - p)[1:] == (1 - p)[:-1]
    assert np.all(keys[1:][joined] == keys[:-1][joined])


def test_grid_bits_keep_many_tables_within_one_binary_grid():
    assert grid_bits(1) == GRID_BITS
    for n_tables in (2, 3, 10, 100, 5000):
        # two bins of each grid hold 0.5 itself
        assert n_tables * grid_size(grid_bits(n_tables)) <= grid_size(GRID_BITS) + 2 * n_tables


# --- exact tables -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
def test_exact_table_counts_each_distinct_score(dtype, ties):
    p, y = scores_and_labels(1, 3000, dtype, ties)
    table = tabulate(p, y)
    values, hits_below, rows_below = brute_force_table(p, y)
    assert not table.is_grid and table.values.dtype == dtype
    np.testing.assert_array_equal(table.values, values)
    np.testing.assert_array_equal(table.hits_below, hits_below)
    np.testing.assert_array_equal(table.rows_below, rows_below)
    assert table.rows_below.dtype == np.int32


def test_a_table_built_on_the_column_threads_is_the_table_of_its_rows():
    # more hits than one thread places at a time: the hits are placed in several blocks
    # (float64: float32 scores are tabulated from one sort of keys instead)
    p, y = scores_and_labels(2, 1_100_000, np.float64, ties=True)
    y[:800_000] = True
    table = tabulate(p, y)
    values, hits_below, rows_below = brute_force_table(p, y)
    np.testing.assert_array_equal(table.values, values)
    np.testing.assert_array_equal(table.hits_below, hits_below)
    np.testing.assert_array_equal(table.rows_below, rows_below)


@pytest.mark.parametrize("zeros", [(), (-0.0,), (0.0, -0.0)])
def test_a_float32_table_sorted_by_keys_is_the_table_of_its_rows(zeros):
    # logits of both signs, infinities, ties, more rows than a block of keys; -0.0 and 0.0
    # are one score (with both, the table is built by sides, which keeps the first row's)
    rng = np.random.default_rng(7)
    n = (1 << 20) + 5
    p = np.round(rng.standard_normal(n) * 8, 3).astype(np.float32)
    p[p == 0] = 0.5
    p[:4] = (np.inf, -np.inf, np.finfo(np.float32).max, -np.finfo(np.float32).tiny)
    p[4 : 4 + len(zeros)] = zeros
    y = rng.random(n) < 0.4
    table = tabulate(p, y)
    values, hits_below, rows_below = brute_force_table(p, y)
    np.testing.assert_array_equal(table.values, values)
    np.testing.assert_array_equal(table.hits_below, hits_below)
    np.testing.assert_array_equal(table.rows_below, rows_below)
    assert table.values.dtype == np.float32 and table.rows_below.dtype == np.int32
    if zeros == (-0.0,):
        assert np.signbit(table.values[table.values == 0]).all()


@pytest.mark.parametrize("change", [1, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 1 << 17])
def test_a_keyed_table_reads_runs_across_its_blocks_of_sorted_keys(change):
    # the sorted keys are read 2**16 at a time: a run ends just before, at or after a block's
    # first row, or runs on through it
    n = (1 << 17) + 3
    p = np.where(np.arange(n) < change, 0.25, 0.75).astype(np.float32)
    y = np.random.default_rng(change).random(n) < 0.5
    table = tabulate(p, y)
    values, hits_below, rows_below = brute_force_table(p, y)
    np.testing.assert_array_equal(table.values, values)
    np.testing.assert_array_equal(table.hits_below, hits_below)
    np.testing.assert_array_equal(table.rows_below, rows_below)
    assert table.rows_below.tolist() == [0, change, n]


SATURATED_SCORES = (0.0, 1.4e-45, 1e-30, 3e-12, 2e-9, 2**-25, 2.9e-8, 2**-24, 0.25, 0.5, 1.0)


@pytest.mark.parametrize("bits", [GRID_BITS, 4, 0])
@pytest.mark.parametrize("kind", ["spread", "saturated", "skewed", "ties"])
def test_float32_rows_put_on_the_grid_at_once_give_the_grid_of_their_table_to_the_bit(kind, bits):
    # the sums too: every bin's in any order but the first's, whose scores span binades
    rng = np.random.default_rng(len(kind) * 31 + bits)
    n = 20_000
    p = {
        "spread": rng.random(n),
        "saturated": rng.choice(SATURATED_SCORES, n),
        "skewed": rng.random(n) ** 12,
        "ties": np.round(rng.random(n), 3),
    }[kind].astype(np.float32)
    p[rng.random(n) < 0.1] = rng.random() * 1e-7
    y = rng.random(n) < 0.3
    # a threshold may lie outside [0, 1]: every row, or none, at or above it
    outside = [-0.0, -0.5, 1.5, np.inf]
    cuts = np.r_[np.linspace(0, 1, 21), outside, p[:3]].astype(np.float32)
    on_grid, hits_above, misses_above = tabulate_on_grid(p, y, bits, cuts)
    table = tabulate(p, y, None, bits)
    expected = to_grid(table, bits)
    for name in ("hits_below", "rows_below", "keys"):
        got, want = getattr(on_grid, name), getattr(expected, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(on_grid.sums.view(np.uint64), expected.sums.view(np.uint64))
    want_hits, want_misses = at_or_above(table, cuts)
    np.testing.assert_array_equal(hits_above, want_hits)
    np.testing.assert_array_equal(misses_above, want_misses)
    # and the brute force count of the rows at or above each cut
    np.testing.assert_array_equal(hits_above, [np.count_nonzero(y & (p >= c)) for c in cuts])


@pytest.mark.parametrize("scores", [(-0.0, 0.5), (-1e-3, 0.5), (1.5, 0.2), (np.nan, 0.3)])
def test_scores_that_are_not_probabilities_are_not_put_on_the_grid_at_once(scores):
    p, y = np.array(scores, dtype=np.float32), np.array([True, False])
    assert tabulate_on_grid(p, y, GRID_BITS, np.array([0.5], dtype=np.float32)) is None
    assert tabulate_on_grid(p.astype(np.float64), y, GRID_BITS, np.array([0.5])) is None


def test_work_on_a_column_thread_stays_on_it():
    names = each_column(
        lambda _: each_column(lambda _: threading.current_thread().name, 2, 1 << 20),
        2,
        1 << 20,
    )
    for inner in names:
        assert inner[0] == inner[1] != threading.main_thread().name


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_tables_merge_into_the_table_of_all_rows_in_any_grouping(dtype):
    p, y = scores_and_labels(2, 2000, dtype, ties=True)
    parts = [tabulate(p[a:b], y[a:b]) for a, b in ((0, 300), (300, 301), (301, 1500), (1500, 2000))]
    whole = tabulate(p, y)
    left = merge(merge(merge(parts[0], parts[1]), parts[2]), parts[3])
    right = merge(parts[3], merge(parts[2], merge(parts[1], parts[0])))
    for merged in (left, right, merge_all(parts), merge_all(parts[::-1], capacity=10_000)):
        assert_same_table(merged, whole)


@pytest.mark.parametrize("dtype", [np.float16, *DTYPES])
def test_two_exact_tables_merge_as_a_stable_sort_of_their_entries(dtype):
    # shared values, both zeros, infinities: a value of both keeps the first table's entry
    rng = np.random.default_rng(9)
    pool = np.array([0.0, 0.25, 0.5, 1.0, np.inf, -np.inf, *rng.random(40)], dtype=dtype)
    first, second = rng.choice(pool, 700), rng.choice(pool, 500)
    first[first == 0], second[second == 0] = 0.0, -0.0
    y = rng.random(1200) < 0.4
    merged = merge(tabulate(first, y[:700]), tabulate(second, y[700:]))
    values, hits_below, rows_below = brute_force_table(np.concatenate([first, second]), y)
    np.testing.assert_array_equal(merged.values, values)
    np.testing.assert_array_equal(merged.hits_below, hits_below)
    np.testing.assert_array_equal(merged.rows_below, rows_below)
    assert not np.signbit(merged.values[merged.values == 0]).any()


def test_exact_merge_past_the_capacity_becomes_the_grid_of_all_rows():
    p, y = scores_and_labels(3, 2000, np.float64)
    a, b = tabulate(p[:1000], y[:1000], capacity=1500), tabulate(p[1000:], y[1000:], 1500)
    assert not a.is_grid and not b.is_grid
    merged = merge(a, b, capacity=1500)
    direct = tabulate(p, y, capacity=1500)  # more rows than the capacity: the grid at once
    assert merged.is_grid and direct.is_grid
    np.testing.assert_array_equal(merged.hits_below, direct.hits_below)
    np.testing.assert_array_equal(merged.rows_below, direct.rows_below)
    np.testing.assert_allclose(merged.sums, direct.sums, rtol=1e-12, atol=1e-12)
    # Anything merged with a grid stays on it.
    assert merge(tabulate(p[:10], y[:10]), merged).is_grid
    assert to_grid(tabulate(p, y)).rows == direct.rows


def test_a_stream_of_grids_adds_up_to_the_grid_of_all_rows_read_at_any_point():
    p, y = scores_and_labels(4, 6000, np.float32)
    cuts = (0, 1000, 1001, 3000, 4500, 6000)
    parts = [tabulate(p[a:b], y[a:b], capacity=50) for a, b in itertools.pairwise(cuts)]
    assert parts[0].keys is not None and not parts[1].is_grid  # a batch's grid; an exact row
    direct = dense(tabulate(p, y, capacity=50))
    running = merge(parts[0], parts[1])
    for part in parts[2:]:
        assert running.rows_below[-1] > 0  # read halfway: what is added after still counts
        running = merge(running, part)
    for merged in (running, merge(merge(parts[0], parts[1]), merge_all(parts[2:]))):
        assert merged.is_grid and merged.rows == 6000 and merged.hits == int(y.sum())
        np.testing.assert_array_equal(merged.hits_below, direct.hits_below)
        np.testing.assert_array_equal(merged.rows_below, direct.rows_below)
        np.testing.assert_allclose(merged.sums, direct.sums, rtol=1e-12)
    assert parts[0].rows == 1000  # the inputs are left as they were


def test_a_running_grid_counts_past_what_int32_holds():
    # batches of 2**30 rows in two bins: their sum outgrows int32 counts, which widen to int64
    bits, size = 2, grid_size(2)
    keys = np.array([3, size - 2])
    hits, rows = np.array([2**29, 7]), np.array([2**30 - 5, 5])
    batch = sparse_grid(keys, hits, rows, np.ones(2), bits, np.float32)
    running = merge(batch, batch)
    for _ in range(3):  # added without being read in between
        running = merge(running, batch)
    assert running.rows == 5 * 2**30
    running = merge(running, batch)  # read, then added to again
    per_bin = np.zeros((2, size), dtype=np.int64)
    per_bin[:, keys] = 6 * hits, 6 * rows
    np.testing.assert_array_equal(running.hits_below, np.r_[0, np.cumsum(per_bin[0])])
    np.testing.assert_array_equal(running.rows_below, np.r_[0, np.cumsum(per_bin[1])])


@pytest.mark.parametrize("dtype", DTYPES)
def test_complement_is_the_table_of_1_minus_p_rounded_in_the_dtype(dtype):
    p, y = scores_and_labels(4, 3000, dtype)
    p[100:400] = np.float32(0.3) + np.arange(300, dtype=np.float32) * np.spacing(np.float32(0.3))
    assert np.unique(1 - p).size < np.unique(p).size  # float32 rounding joins neighbours
    assert_same_table(complement(tabulate(p, y)), tabulate(1 - p, ~y))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
def test_exact_ranking_equals_sklearn(dtype, ties):
    p, y = scores_and_labels(5, 2000, dtype, ties)
    table = tabulate(p, y)
    ranking = rank(table)
    assert ranking.roc_auc == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    assert ranking.average_precision == pytest.approx(skm.average_precision_score(y, p), rel=1e-12)
    assert ranking.roc_auc_bound == ranking.average_precision_bound == 0.0
    class_0 = rank(complement(table))
    assert class_0.roc_auc == pytest.approx(skm.roc_auc_score(~y, 1 - p), rel=1e-12)
    expected = skm.average_precision_score(~y, 1 - p)
    assert class_0.average_precision == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_quantile_bins_equal_sklearns_calibration_curve(dtype):
    p, y = scores_and_labels(6, 1001, dtype, ties=True)
    bins = quantile_bins(tabulate(p, y), 10)
    kept = bins.counts > 0
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(bins.hits[kept] / bins.counts[kept], observed, rtol=1e-12)
    np.testing.assert_allclose(bins.sums[kept] / bins.counts[kept], predicted, rtol=1e-12)
    edges = np.percentile(p, np.linspace(0, 100, 11))
    expected = np.bincount(np.searchsorted(edges[1:-1], p), minlength=10)
    np.testing.assert_array_equal(bins.counts, expected)
    assert bins.bound == 0.0


def test_a_table_of_one_class_has_no_auc_and_sklearns_zero_ap_without_hits():
    p = np.array([0.2, 0.4, 0.4, 0.9])
    no_hits = rank(tabulate(p, np.zeros(4, dtype=bool)))
    assert (no_hits.roc_auc, no_hits.average_precision) == (None, 0.0)
    assert (no_hits.best_f1.threshold, no_hits.best_f1.tp, no_hits.best_f1.fp) == (0.9, 0, 1)
    all_hits = rank(tabulate(p, np.ones(4, dtype=bool)))
    assert all_hits.roc_auc is None and all_hits.average_precision == 1.0


# --- the grid's bounds ------------------------------------------------------------------------


def sk_ece(outcome, predicted):
    observed, mean_predicted = calibration_curve(outcome, predicted, n_bins=10, strategy="quantile")
    edges = np.percentile(predicted, np.linspace(0, 100, 11))
    counts = np.bincount(np.searchsorted(edges[1:-1], predicted), minlength=10)
    counts = counts[counts > 0]
    return float(np.dot(counts, np.abs(observed - mean_predicted)) / counts.sum())


def best_f1_brute_force(y, p):
    tp = np.array([np.sum(y & (p >= t)) for t in np.unique(p)])
    fp = np.array([np.sum(~y & (p >= t)) for t in np.unique(p)])
    return float(np.max(2 * tp / (tp + fp + y.sum())))


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 400),
    bits=st.integers(0, 8),
    rate=st.sampled_from([0.05, 0.3, 0.7]),
    ties=st.booleans(),
    dtype=st.sampled_from(DTYPES),
)
def test_grid_values_are_within_their_bounds_of_sklearn(seed, n, bits, rate, ties, dtype):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < rate
    p = 1 / (1 + np.exp(-(rng.standard_normal(n) * rng.uniform(0.5, 8) + y)))
    if ties:
        p = np.round(p, 1)
    p = p.astype(dtype)
    table = tabulate(p, y, capacity=1, bits=bits)
    assert table.is_grid or table.entries <= 1  # one distinct score fits, exactly
    for table_of, labels, scores in ((table, y, p), (complement(table), ~y, 1 - p)):
        ranking = rank(table_of)
        if labels.any() and not labels.all():
            expected = skm.roc_auc_score(labels, scores)
            assert abs(ranking.roc_auc - expected) <= ranking.roc_auc_bound + 1e-12
        if labels.any():
            expected = skm.average_precision_score(labels, scores)
            assert abs(ranking.average_precision - expected) <= (
                ranking.average_precision_bound + 1e-12
            )
            best = ranking.best_f1
            f1 = 2 * best.tp / (best.tp + best.fp + labels.sum())
            assert f1 <= best_f1_brute_force(labels, scores) + 1e-12
            assert best_f1_brute_force(labels, scores) <= f1 + best.bound + 1e-12
    bins = quantile_bins(table, 10)
    kept = bins.counts > 0
    gaps = np.abs(bins.hits[kept] - bins.sums[kept])
    ece = float(np.sum(gaps) / n)
    assert abs(ece - sk_ece(y, p)) <= bins.bound + 1e-9


def test_grid_bounds_are_positive_only_where_bins_mix_hits_and_misses():
    p = np.array([0.1, 0.1, 0.6, 0.6])
    separated = rank(tabulate(p, np.array([False, False, True, True]), capacity=1))
    assert separated.roc_auc == 1.0 and separated.roc_auc_bound == 0.0
    mixed = rank(tabulate(p, np.array([False, True, False, True]), capacity=1))
    assert mixed.roc_auc_bound > 0 and mixed.average_precision_bound > 0


def benchmark_like(rows, seed=0):
    """benchmarks/generate.py's binary data: float32, 30% positives, AUC 0.85."""
    rng = np.random.default_rng(seed)
    label = rng.random(rows) < 0.3
    score = rng.standard_normal(rows) + 1.466 * label
    bias = np.log(0.3 / 0.7) - 1.466**2 / 2
    return (1.0 / (1.0 + np.exp(-(1.466 * score + bias)))).astype(np.float32), label


def test_default_grid_keeps_auc_and_ap_of_benchmark_data_within_1e_5():
    p, y = benchmark_like(2_000_000)
    grid = tabulate(p, y, capacity=1000)
    assert grid.hits_below.nbytes + grid.rows_below.nbytes + grid.sums.nbytes < 128 * 2**20
    exact = tabulate(p, y)
    for on_grid, reference in ((grid, exact), (complement(grid), complement(exact))):
        approx, truth = rank(on_grid), rank(reference)
        assert 0 < approx.roc_auc_bound <= 1e-5
        assert 0 < approx.average_precision_bound <= 1e-5
        assert abs(approx.roc_auc - truth.roc_auc) <= approx.roc_auc_bound
        error = abs(approx.average_precision - truth.average_precision)
        assert error <= approx.average_precision_bound
