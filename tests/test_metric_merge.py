"""Summaries of batches, merged in any order, give the metrics of the whole file.

Exact tables and counts must agree to the bit; only float sums (log loss, Brier) may differ in
the last bits. On the grid every value must be within its stated bound of scikit-learn's.
"""

import warnings
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from lossdoctor.metrics import metric_totals, metrics_from
from tests.helpers import binary_metrics, multiclass_metrics, multilabel_metrics
from tests.test_metrics import sk_ece

FLOAT_SUMS = ("log_loss", "brier")
ONE_BATCH = {
    "binary": binary_metrics,
    "multiclass": lambda y, proba, threshold: multiclass_metrics(y, proba),
    "multilabel": multilabel_metrics,
}


def quiet(metric, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metric(*args, **kwargs)


def make_case(task, rng, n, n_classes, dtype, pool):
    """Labels and scores; a small pool of scores makes ties within and across batches."""
    if task == "binary":
        y = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(np.int64)
        p = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1)
        p = np.round(p, 1) if pool else p
        return y, p.astype(dtype)
    if task == "multiclass":
        y = rng.integers(0, n_classes, n)
        weights = rng.integers(1, 4, (n, n_classes)) if pool else rng.random((n, n_classes))
        weights = weights + 2.0 * (y[:, None] == np.arange(n_classes))
        return y, (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)
    y = rng.random((n, n_classes)) < rng.uniform(0.1, 0.7, n_classes)
    proba = np.clip(rng.normal(0.3 + 0.4 * y, 0.25), 0, 1)
    proba = np.round(proba, 1) if pool else proba
    return y, proba.astype(dtype)


def split_points(rng, n, n_batches):
    return np.unique(np.r_[0, np.sort(rng.integers(0, n + 1, n_batches - 1)), n])


def merged_in_random_order(rng, summaries, capacity=None):
    """Merge pairs picked at random until one is left: any tree, any order."""
    pending = list(summaries)
    while len(pending) > 1:
        i, j = sorted(rng.choice(len(pending), size=2, replace=False))
        right, left = pending.pop(j), pending.pop(i)
        pending.append(left.merge(right, capacity))
    return pending[0]


def assert_same_metrics(actual, expected):
    assert list(actual.values) == list(expected.values)
    for key, value in expected.values.items():
        if key in FLOAT_SUMS:
            assert actual.values[key] == pytest.approx(value, rel=1e-12, abs=0), key
        else:
            assert actual.values[key] == value, key
    assert actual.undefined == expected.undefined
    assert actual.per_class == expected.per_class
    assert actual.thresholds == expected.thresholds
    np.testing.assert_array_equal(actual.confusion, expected.confusion)
    for name in ("predicted", "observed", "counts"):
        np.testing.assert_array_equal(
            getattr(actual.calibration, name), getattr(expected.calibration, name)
        )
    np.testing.assert_array_equal(actual.histogram.counts, expected.histogram.counts)
    assert actual.histogram.groups == expected.histogram.groups
    assert actual.error_bound == expected.error_bound == {}


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    task=st.sampled_from(["binary", "multiclass", "multilabel"]),
    n=st.integers(1, 250),
    n_classes=st.integers(2, 6),
    n_batches=st.integers(1, 20),
    pool=st.booleans(),
    sort_labels=st.booleans(),  # sorted labels: batches of one class, a class in one batch only
    threshold=st.sampled_from([0.5, 0.3]),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_batches_merged_in_any_order_equal_one_batch(
    seed, task, n, n_classes, n_batches, pool, sort_labels, threshold, dtype
):
    rng = np.random.default_rng(seed)
    y, proba = make_case(task, rng, n, n_classes, dtype, pool)
    if sort_labels:
        order = np.argsort(y if y.ndim == 1 else y[:, 0], kind="stable")
        y, proba = y[order], proba[order]
    cuts = split_points(rng, n, n_batches)
    summaries = [metric_totals(task, y[a:b], proba[a:b], threshold) for a, b in pairwise(cuts)]
    merged = metrics_from(merged_in_random_order(rng, summaries))
    assert_same_metrics(merged, ONE_BATCH[task](y, proba, threshold))


def test_a_class_seen_in_one_batch_only_merges_into_its_auc():
    y = np.array([0, 0, 1, 0, 2, 2, 2, 0])
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.6, 0.2, 0.2]]  # no class 2
    )
    proba = np.r_[proba, [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.2, 0.1, 0.7], [0.4, 0.5, 0.1]]]
    first, second = (
        metric_totals("multiclass", y[:4], proba[:4]),
        metric_totals("multiclass", y[4:], proba[4:]),
    )
    assert metrics_from(first).values["roc_auc"] is None  # class 2 absent from the first batch
    merged = metrics_from(first.merge(second))
    assert_same_metrics(merged, multiclass_metrics(y, proba))
    assert merged.values["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), rel=1e-12
    )


def test_summaries_of_different_tasks_or_thresholds_do_not_merge():
    y, p = np.array([0, 1]), np.array([0.2, 0.9])
    with pytest.raises(ValueError, match="do not merge"):
        metric_totals("binary", y, p, 0.5).merge(metric_totals("binary", y, p, 0.4))


# --- on the grid ------------------------------------------------------------------------------


def sklearn_values(task, y, proba, threshold):
    """The ranking metrics and ECE scikit-learn gives, per class and averaged."""
    if task == "binary":
        columns, truth = np.stack([1 - proba, proba], axis=1), np.stack([y == 0, y == 1], axis=1)
        outcome, confidence = y, proba
    elif task == "multiclass":
        columns, truth = proba, y[:, None] == np.arange(proba.shape[1])
        outcome, confidence = np.argmax(proba, axis=1) == y, proba.max(axis=1)
    else:
        columns, truth = proba, y
        outcome, confidence = y.ravel(), proba.ravel()
    values = {"ece": sk_ece(outcome, confidence)}
    for k in range(columns.shape[1]):
        if truth[:, k].any() and not truth[:, k].all():
            values[f"roc_auc[{k}]"] = skm.roc_auc_score(truth[:, k], columns[:, k])
        # without positives scikit-learn (1.9) returns 0, and the macro counts it
        values[f"pr_auc[{k}]"] = quiet(skm.average_precision_score, truth[:, k], columns[:, k])
    first = 1 if task == "binary" else 0
    for key in ("roc_auc", "pr_auc"):
        per_class = [values.get(f"{key}[{k}]") for k in range(first, columns.shape[1])]
        if None not in per_class:
            values[key] = float(np.mean(per_class))
    return values


def best_f1_brute_force(y, p):
    is_pos = y == 1
    thresholds = np.unique(p)
    tp = np.array([np.sum(is_pos & (p >= t)) for t in thresholds])
    fp = np.array([np.sum(~is_pos & (p >= t)) for t in thresholds])
    return float(np.max(2 * tp / (tp + fp + is_pos.sum())))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    task=st.sampled_from(["binary", "multiclass", "multilabel"]),
    n=st.integers(20, 300),
    n_classes=st.integers(2, 5),
    n_batches=st.integers(1, 6),
    capacity=st.integers(4, 40),
    bits=st.integers(0, 10),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_grid_values_stay_within_their_bounds_of_sklearn(
    seed, task, n, n_classes, n_batches, capacity, bits, dtype
):
    rng = np.random.default_rng(seed)
    y, proba = make_case(task, rng, n, n_classes, dtype, pool=False)
    cuts = split_points(rng, n, n_batches)
    summaries = [
        metric_totals(task, y[a:b], proba[a:b], 0.5, capacity, bits) for a, b in pairwise(cuts)
    ]
    summary = merged_in_random_order(rng, summaries, capacity)
    metrics = metrics_from(summary)
    exact = ONE_BATCH[task](y, proba, 0.5)

    on_grid = [table.is_grid for table in summary.tables]
    assert bool(metrics.error_bound) == any(on_grid)
    for key, bound in metrics.error_bound.items():
        assert bound >= 0, key
    expected = sklearn_values(task, y, proba, 0.5)
    per_class = {f"roc_auc[{c.index}]": c.roc_auc for c in metrics.per_class}
    per_class |= {f"pr_auc[{c.index}]": c.pr_auc for c in metrics.per_class}
    found = {**metrics.values, **per_class}
    for key, value in expected.items():
        bound = metrics.error_bound.get(key, 0.0)
        assert abs(found[key] - value) <= bound + 1e-9, key
    # Whatever does not come from a table is exact, grid or not; what does (pr_auc over labels
    # that scikit-learn leaves out, a label without positives) stays within its bound.
    for key, value in exact.values.items():
        if value is None:
            assert metrics.values[key] is None, key
        elif key in metrics.error_bound and key not in expected:
            assert abs(metrics.values[key] - value) <= metrics.error_bound[key] + 1e-9, key
        elif key not in expected:
            assert metrics.values[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
    np.testing.assert_array_equal(metrics.confusion, exact.confusion)
    np.testing.assert_array_equal(metrics.histogram.counts, exact.histogram.counts)
    assert metrics.thresholds[:-1] == exact.thresholds[:-1]
    if task == "binary" and np.any(y == 1):
        best = metrics.thresholds[-1]
        truth = best_f1_brute_force(y, proba)
        assert best.f1 <= truth + 1e-12
        assert truth <= best.f1 + metrics.error_bound.get("best_f1", 0.0) + 1e-12
