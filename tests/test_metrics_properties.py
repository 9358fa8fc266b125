"""Property tests: lossdoctor.metrics equals scikit-learn on random, tie-heavy, degenerate data.

Hypothesis draws the shape of each case (sizes, number of classes, which classes are present,
how few distinct scores); the values come from a NumPy generator seeded by Hypothesis, which
keeps 300 × 50 inputs cheap while every failure still prints a reproducible example.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from lossdoctor.metrics import THRESHOLD_GRID
from tests.helpers import binary_metrics, multiclass_metrics, multilabel_metrics
from tests.test_metrics import sk_ece

# A small pool forces ties; it holds exact 0 and 1 (clipped log loss), a tiny score (where
# 1 - (1 - p) rounds) and values sitting exactly on the threshold grid.
SCORE_POOL = (0.0, 1e-12, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999, 1.0)
REL = {np.float64: 1e-9, np.float32: 1e-6}

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 300)
dtypes = st.sampled_from([np.float64, np.float32])


def quiet(metric, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metric(*args, **kwargs)


def sk_or_none(metric, *args, **kwargs):
    """The sklearn value, None where it raises ValueError or gives nan (undefined)."""
    try:
        value = quiet(metric, *args, **kwargs)
    except ValueError:
        return None
    return None if np.isnan(value) else float(value)


def sk_average_precision(y, scores):
    """0.0 without positives, with sklearn's warning."""
    return sk_or_none(skm.average_precision_score, y, scores)


def assert_close(actual, expected, rel, what=""):
    if expected is None:
        assert actual is None, what
    else:
        assert actual == pytest.approx(expected, rel=rel, abs=1e-12), what


def assert_values(actual: dict, expected: dict, rel: float):
    assert list(actual) == list(expected)
    for key in expected:
        assert_close(actual[key], expected[key], rel, key)


def assert_per_class(per_class, yhat_table, aucs, aps, rel):
    precision, recall, f1, support = yhat_table
    for c in per_class:
        k = c.index
        assert (c.precision, c.recall, c.f1) == pytest.approx(
            (precision[k], recall[k], f1[k]), rel=1e-12
        )
        assert c.support == support[k]
        assert_close(c.roc_auc, aucs[k], rel, f"roc_auc of {k}")
        assert_close(c.pr_auc, aps[k], rel, f"pr_auc of {k}")


def keras_binary_accuracy_reference(y_onehot, proba, threshold=0.5):
    y_pred = (np.asarray(proba) > threshold).astype(np.float64)
    return float(np.mean(np.mean(np.equal(np.asarray(y_onehot, np.float64), y_pred), axis=-1)))


def pooled_scores(rng, shape, pool_size):
    pool = rng.choice(SCORE_POOL, size=pool_size, replace=False)
    return rng.choice(pool, size=shape)


# --- binary -------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    seed=seeds,
    n=sizes,
    labels=st.sampled_from(["mixed", "rare", "all_0", "all_1"]),
    pool_size=st.integers(1, len(SCORE_POOL)),
    threshold=st.sampled_from([0.5, 0.3, 0.7, 0.42]),
    dtype=dtypes,
)
def test_binary_metrics_equal_sklearn(seed, n, labels, pool_size, threshold, dtype):
    rng = np.random.default_rng(seed)
    rate = {"mixed": 0.5, "rare": 0.05, "all_0": 0.0, "all_1": 1.0}[labels]
    y = (rng.random(n) < rate).astype(np.int64)
    p = pooled_scores(rng, n, pool_size).astype(dtype)
    rel = REL[dtype]
    metrics = binary_metrics(y, p, threshold)

    yhat = (p >= threshold).astype(np.int64)
    expected = {
        "log_loss": skm.log_loss(y, p, labels=[0, 1]),
        "accuracy": skm.accuracy_score(y, yhat),
        "balanced_accuracy": quiet(skm.balanced_accuracy_score, y, yhat),
        "precision": quiet(skm.precision_score, y, yhat, zero_division=0),
        "recall": quiet(skm.recall_score, y, yhat, zero_division=0),
        "f1": quiet(skm.f1_score, y, yhat, zero_division=0),
        "f1_macro": quiet(skm.f1_score, y, yhat, average="macro", zero_division=0),
        "roc_auc": sk_or_none(skm.roc_auc_score, y, p),
        "pr_auc": sk_average_precision(y, p),
        "brier": skm.brier_score_loss(y, p),
        "mcc": quiet(skm.matthews_corrcoef, y, yhat),
        "ece": sk_ece(y, p),
    }
    assert_values(metrics.values, expected, rel)
    assert set(metrics.undefined) == {key for key, value in expected.items() if value is None}

    table = skm.precision_recall_fscore_support(y, yhat, labels=[0, 1], zero_division=0)
    scores = [1 - p, p]
    aucs = [sk_or_none(skm.roc_auc_score, y == k, scores[k]) for k in (0, 1)]
    aps = [sk_average_precision(y == k, scores[k]) for k in (0, 1)]
    assert_per_class(metrics.per_class, table, aucs, aps, rel)
    expected_confusion = skm.confusion_matrix(y, yhat, labels=[0, 1])
    np.testing.assert_array_equal(metrics.confusion, expected_confusion)


@settings(max_examples=60, deadline=None)
@given(
    seed=seeds,
    n=sizes,
    positive_rate=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    pool_size=st.integers(1, len(SCORE_POOL)),
    dtype=dtypes,
)
def test_threshold_table_equals_sklearn_and_brute_force(seed, n, positive_rate, pool_size, dtype):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(np.int64)
    p = pooled_scores(rng, n, pool_size).astype(dtype)
    rows = binary_metrics(y, p).thresholds
    assert [row.best_f1 for row in rows] == [False] * len(THRESHOLD_GRID) + [True]

    for row, threshold in zip(rows, THRESHOLD_GRID, strict=False):
        yhat = (p >= threshold).astype(np.int64)
        tn, fp, fn, tp = skm.confusion_matrix(y, yhat, labels=[0, 1]).ravel()
        assert (row.threshold, row.tp, row.fp, row.fn, row.tn) == (threshold, tp, fp, fn, tn)
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y, yhat, labels=[1], zero_division=0
        )
        expected = (skm.accuracy_score(y, yhat), precision[0], recall[0], f1[0])
        assert (row.accuracy, row.precision, row.recall, row.f1) == pytest.approx(expected)

    best = None
    for threshold in np.unique(p):  # ascending: >= keeps the highest threshold of tied F1
        f1 = quiet(skm.f1_score, y, (p >= threshold).astype(np.int64), zero_division=0)
        if best is None or f1 >= best[1]:
            best = (float(threshold), f1)
    assert (rows[-1].threshold, rows[-1].f1) == (best[0], pytest.approx(best[1], rel=1e-12))


# --- multi-class --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=seeds,
    n=sizes,
    n_classes=st.integers(2, 50),
    present_share=st.sampled_from([1.0, 0.5, 0.0]),  # 0.0: one class only
    max_weight=st.integers(1, 5),
    dtype=dtypes,
)
def test_multiclass_metrics_equal_sklearn(seed, n, n_classes, present_share, max_weight, dtype):
    rng = np.random.default_rng(seed)
    present = rng.permutation(n_classes)[: max(1, int(present_share * n_classes))]
    y = rng.choice(present, size=n)
    if present.size <= n:  # every present class on at least one row
        y[rng.permutation(n)[: present.size]] = present
    # small integer weights make tied scores within columns and tied argmaxes across them
    weights = rng.integers(1, max_weight + 1, size=(n, n_classes)).astype(np.float64)
    weights[np.arange(n), y] += rng.integers(0, 3, size=n)
    proba = (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)
    rel = REL[dtype]
    metrics = multiclass_metrics(y, proba)

    labels = list(range(n_classes))
    yhat = np.argmax(proba, axis=1)
    indicator = (y[:, None] == np.arange(n_classes)).astype(np.int64)
    aucs = [sk_or_none(skm.roc_auc_score, y == k, proba[:, k]) for k in labels]
    aps = [sk_average_precision(y == k, proba[:, k]) for k in labels]
    all_present = np.isin(labels, y).all()
    if n_classes == 2:  # sklearn reads two columns as binary input and refuses "ovr"
        roc_auc = float(np.mean(aucs)) if all_present else None
    else:
        roc_auc = sk_or_none(
            skm.roc_auc_score, y, proba, multi_class="ovr", average="macro", labels=labels
        )
    pr_auc = quiet(skm.average_precision_score, indicator, proba, average="macro")
    expected = {
        "log_loss": skm.log_loss(y, proba, labels=labels),
        "accuracy": skm.accuracy_score(y, yhat),
        "balanced_accuracy": quiet(skm.balanced_accuracy_score, y, yhat),
        "f1_macro": quiet(skm.f1_score, y, yhat, average="macro", zero_division=0),
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "brier": skm.brier_score_loss(y, proba, labels=labels),
        "mcc": quiet(skm.matthews_corrcoef, y, yhat),
        "categorical_accuracy": skm.accuracy_score(y, yhat),
        "binary_accuracy": keras_binary_accuracy_reference(indicator, proba),
        "ece": sk_ece(yhat == y, proba.max(axis=1)),
    }
    assert_values(metrics.values, expected, rel)
    assert set(metrics.undefined) == {key for key, value in expected.items() if value is None}

    table = skm.precision_recall_fscore_support(y, yhat, labels=labels, zero_division=0)
    assert_per_class(metrics.per_class, table, aucs, aps, rel)
    expected_confusion = skm.confusion_matrix(y, yhat, labels=labels)
    np.testing.assert_array_equal(metrics.confusion, expected_confusion)


# --- multi-label --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=seeds,
    n=sizes,
    n_labels=st.integers(2, 8),
    constant_columns=st.booleans(),
    pool_size=st.integers(1, len(SCORE_POOL)),
    threshold=st.sampled_from([0.5, 0.3]),
    dtype=dtypes,
)
def test_multilabel_metrics_equal_sklearn(
    seed, n, n_labels, constant_columns, pool_size, threshold, dtype
):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, n_labels)) < rng.uniform(0.05, 0.7, n_labels)).astype(np.int64)
    if constant_columns:
        y[:, rng.integers(n_labels)] = rng.integers(2)
    proba = pooled_scores(rng, (n, n_labels), pool_size).astype(dtype)
    rel = REL[dtype]
    metrics = multilabel_metrics(y, proba, threshold)

    yhat = (proba >= threshold).astype(np.int64)
    aucs = [sk_or_none(skm.roc_auc_score, y[:, k], proba[:, k]) for k in range(n_labels)]
    aps = [sk_average_precision(y[:, k], proba[:, k]) for k in range(n_labels)]
    pr_auc = quiet(skm.average_precision_score, y, proba, average="macro")
    expected = {
        "log_loss": skm.log_loss(y.ravel(), proba.ravel(), labels=[0, 1]),
        "accuracy": skm.accuracy_score(y, yhat),
        "binary_accuracy": keras_binary_accuracy_reference(y, proba, threshold),
        "categorical_accuracy": float(np.mean(np.argmax(y, 1) == np.argmax(proba, 1))),
        "f1_macro": quiet(skm.f1_score, y, yhat, average="macro", zero_division=0),
        "roc_auc": sk_or_none(skm.roc_auc_score, y, proba, average="macro"),
        "pr_auc": pr_auc,
        "ece": sk_ece(y.ravel(), proba.ravel()),
    }
    assert_values(metrics.values, expected, rel)
    assert set(metrics.undefined) == {key for key, value in expected.items() if value is None}

    table = skm.precision_recall_fscore_support(y, yhat, zero_division=0)
    assert_per_class(metrics.per_class, table, aucs, aps, rel)
    expected_confusion = skm.multilabel_confusion_matrix(y, yhat)
    np.testing.assert_array_equal(metrics.confusion, expected_confusion)
