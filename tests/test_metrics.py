"""lossdoctor.metrics against scikit-learn, on hand-built and fixed random cases."""

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from lossdoctor.losses import column_range, one_hot, row_losses, true_class_probability
from lossdoctor.metrics import THRESHOLD_GRID, metric_totals, metrics_from
from tests.helpers import (
    binary_metrics,
    categorical_accuracy,
    keras_binary_accuracy,
    log_loss,
    multiclass_metrics,
    multilabel_metrics,
)

BINARY_KEYS = [
    "log_loss",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "roc_auc",
    "pr_auc",
    "brier",
    "mcc",
    "ece",
]
MULTICLASS_KEYS = [
    "log_loss",
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "roc_auc",
    "pr_auc",
    "brier",
    "mcc",
    "categorical_accuracy",
    "binary_accuracy",
    "ece",
]
MULTILABEL_KEYS = [
    "log_loss",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "f1_macro",
    "roc_auc",
    "pr_auc",
    "ece",
]
DTYPES = [np.float64, np.float32]


# --- scikit-learn references ------------------------------------------------------------------


def quiet(metric, *args, **kwargs):
    """Call a scikit-learn metric with its expected warnings (undefined metric, one class) off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metric(*args, **kwargs)


def sk_roc_auc(y, scores, **kwargs):
    """roc_auc_score, None where undefined (recent versions warn and give nan, older raise)."""
    try:
        value = quiet(skm.roc_auc_score, y, scores, **kwargs)
    except ValueError:
        return None
    return None if np.isnan(value) else float(value)


def sk_average_precision(y, scores):
    """average_precision_score: 0.0 without positives (with sklearn's warning)."""
    return float(quiet(skm.average_precision_score, y, scores))


def keras_binary_accuracy_reference(y_onehot, proba, threshold=0.5):
    """Keras BinaryAccuracy spelled out: strict >, mean over the last axis, then over rows."""
    y_true = np.asarray(y_onehot, dtype=np.float64)
    y_pred = (np.asarray(proba) > threshold).astype(np.float64)
    return float(np.mean(np.mean(np.equal(y_true, y_pred), axis=-1)))


def sklearn_binary(y, p, threshold=0.5):
    yhat = (p >= threshold).astype(np.int64)
    return {
        "log_loss": skm.log_loss(y, p, labels=[0, 1]),
        "accuracy": skm.accuracy_score(y, yhat),
        "balanced_accuracy": quiet(skm.balanced_accuracy_score, y, yhat),
        "precision": quiet(skm.precision_score, y, yhat, zero_division=0),
        "recall": quiet(skm.recall_score, y, yhat, zero_division=0),
        "f1": quiet(skm.f1_score, y, yhat, zero_division=0),
        "f1_macro": quiet(skm.f1_score, y, yhat, average="macro", zero_division=0),
        "roc_auc": sk_roc_auc(y, p),
        "pr_auc": sk_average_precision(y, p),
        "brier": skm.brier_score_loss(y, p),
        "mcc": quiet(skm.matthews_corrcoef, y, yhat),
        "ece": sk_ece(y, p),
    }


def sklearn_multiclass(y, proba):
    n_classes = proba.shape[1]
    labels = list(range(n_classes))
    yhat = np.argmax(proba, axis=1)
    indicator = one_hot(y, n_classes).astype(np.int64)
    if n_classes == 2:  # sklearn takes 2 columns as binary input and refuses them for "ovr"
        per_class = [sk_roc_auc(y == k, proba[:, k]) for k in labels]
        roc_auc = None if None in per_class else float(np.mean(per_class))
    else:
        roc_auc = sk_roc_auc(y, proba, multi_class="ovr", average="macro", labels=labels)
    pr_auc = quiet(skm.average_precision_score, indicator, proba, average="macro")
    return {
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


def sklearn_multilabel(y, proba, threshold=0.5):
    yhat = (proba >= threshold).astype(np.int64)
    pr_auc = quiet(skm.average_precision_score, y, proba, average="macro")
    return {
        "log_loss": skm.log_loss(y.ravel(), proba.ravel(), labels=[0, 1]),
        "accuracy": skm.accuracy_score(y, yhat),
        "binary_accuracy": keras_binary_accuracy_reference(y, proba, threshold),
        "categorical_accuracy": float(np.mean(np.argmax(y, 1) == np.argmax(proba, 1))),
        "f1_macro": quiet(skm.f1_score, y, yhat, average="macro", zero_division=0),
        "roc_auc": sk_roc_auc(y, proba, average="macro"),
        "pr_auc": pr_auc,
        "ece": sk_ece(y.ravel(), proba.ravel()),
    }


def assert_same(actual, expected, rel):
    """Equal to rel, with None standing for an undefined value on both sides."""
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, key
        else:
            assert actual[key] == pytest.approx(value, rel=rel, abs=1e-12), key


def assert_per_class_matches(per_class, precision, recall, f1, support, aucs, aps, rel):
    assert [c.index for c in per_class] == list(range(len(support)))
    for c in per_class:
        k = c.index
        assert (c.precision, c.recall, c.f1) == pytest.approx(
            (precision[k], recall[k], f1[k]), rel=1e-12
        )
        assert c.support == support[k]
        for ours, theirs in ((c.roc_auc, aucs[k]), (c.pr_auc, aps[k])):
            assert ours is None if theirs is None else ours == pytest.approx(theirs, rel=rel)


def rel_for(dtype):
    # sklearn keeps float32 inputs in float32 (logs, squares, sums); we sum in float64.
    return 1e-6 if dtype == np.float32 else 1e-9


# --- fixed cases --------------------------------------------------------------------------------


def binary_case(seed, n=600, dtype=np.float64, ties=False, positive_rate=0.4):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(np.int64)
    p = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0.0, 1.0)  # clipping leaves exact 0s and 1s
    if ties:
        p = np.round(p, 1)
    return y, p.astype(dtype)


def multiclass_case(seed, n_classes, n=800, dtype=np.float64, ties=False, absent=()):
    rng = np.random.default_rng(seed)
    present = np.setdiff1d(np.arange(n_classes), absent)
    y = present[rng.integers(0, present.size, n)]
    if ties:  # small integer weights: many tied scores per column, some argmax ties
        weights = rng.integers(1, 4, (n, n_classes)) + 3 * one_hot(y, n_classes)
    else:
        weights = np.exp(rng.normal(size=(n, n_classes)) + 1.5 * one_hot(y, n_classes))
    proba = weights / weights.sum(axis=1, keepdims=True)
    return y, proba.astype(dtype)


def multilabel_case(seed, n=500, n_labels=5, dtype=np.float64, ties=False):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, n_labels)) < rng.uniform(0.1, 0.6, n_labels)).astype(np.int64)
    proba = np.clip(rng.normal(0.3 + 0.4 * y, 0.25), 0.0, 1.0)
    if ties:
        proba = np.round(proba, 1)
    return y, proba.astype(dtype)


# --- binary -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_values_match_sklearn(seed, ties, dtype):
    y, p = binary_case(seed, dtype=dtype, ties=ties)
    metrics = binary_metrics(y, p)
    assert list(metrics.values) == BINARY_KEYS
    assert_same(metrics.values, sklearn_binary(y, p), rel_for(dtype))
    assert metrics.undefined == {}


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.75])
def test_binary_values_follow_the_threshold_with_greater_or_equal(threshold):
    y, p = binary_case(4, ties=True)  # ties at 0.3 and 0.5 exactly: >= must count them in
    assert_same(binary_metrics(y, p, threshold).values, sklearn_binary(y, p, threshold), 1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_per_class_table_matches_sklearn_with_class_0_scored_by_1_minus_p(dtype):
    y, p = binary_case(5, dtype=dtype, ties=True)
    yhat = (p >= 0.5).astype(np.int64)
    prfs = skm.precision_recall_fscore_support(y, yhat, labels=[0, 1], zero_division=0)
    scores = [1 - p, p]
    aucs = [sk_roc_auc(y == k, scores[k]) for k in (0, 1)]
    aps = [sk_average_precision(y == k, scores[k]) for k in (0, 1)]
    per_class = binary_metrics(y, p).per_class
    assert_per_class_matches(per_class, *prfs, aucs, aps, rel_for(dtype))


def test_class_0_ranks_1_minus_p_where_float32_rounding_joins_neighbouring_scores():
    # Below 0.5 a float32 1 - p has half the resolution of p: neighbouring scores near 0.3 pair
    # up into one value of 1 - p, a tie across the classes that sklearn takes as one threshold.
    p = np.float32(0.3) + np.arange(12, dtype=np.float32) * np.spacing(np.float32(0.3))
    y = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0])
    assert np.unique(p).size == 12 and np.unique(1 - p).size == 6
    class_0 = binary_metrics(y, p).per_class[0]
    assert class_0.roc_auc == pytest.approx(skm.roc_auc_score(y == 0, 1 - p), rel=1e-12)
    assert class_0.pr_auc == pytest.approx(skm.average_precision_score(y == 0, 1 - p), rel=1e-12)


def test_binary_confusion_matches_sklearn_confusion_matrix():
    y, p = binary_case(6, ties=True)
    confusion = binary_metrics(y, p, 0.4).confusion
    assert confusion.dtype == np.int64
    expected = skm.confusion_matrix(y, (p >= 0.4).astype(int), labels=[0, 1])
    np.testing.assert_array_equal(confusion, expected)


def test_binary_hand_built_case():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    values = binary_metrics(y, p).values
    assert values["roc_auc"] == 0.75
    assert values["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert values["accuracy"] == 0.75
    assert (values["precision"], values["recall"]) == (1.0, 0.5)
    assert values["brier"] == pytest.approx((0.01 + 0.16 + 0.65**2 + 0.04) / 4)
    assert values["log_loss"] == pytest.approx(
        -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    )


def test_roc_auc_counts_tied_pairs_as_half_like_sklearn():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.5, 0.5, 0.2, 0.8])
    # pairs (pos, neg): (.5,.5) tie = 1/2, the other three ordered: 3.5 / 4
    assert binary_metrics(y, p).values["roc_auc"] == 0.875 == skm.roc_auc_score(y, p)


def test_roc_auc_of_all_tied_scores_is_one_half():
    y = np.array([0, 1, 1, 0, 1])
    assert binary_metrics(y, np.full(5, 0.3)).values["roc_auc"] == 0.5


def test_average_precision_takes_a_block_of_tied_scores_as_one_threshold_like_sklearn():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.8, 0.8, 0.8, 0.1])
    # one threshold at 0.8 reaches recall 1 at precision 2/3; breaking the tie would give 1.0
    assert binary_metrics(y, p).values["pr_auc"] == pytest.approx(2 / 3, rel=1e-15)
    assert skm.average_precision_score(y, p) == pytest.approx(2 / 3, rel=1e-15)


def test_binary_labels_all_negative_give_none_auc_and_sklearns_zero_ap_with_a_note():
    y = np.zeros(6, dtype=np.int64)
    p = np.array([0.1, 0.2, 0.2, 0.6, 0.9, 0.9])
    metrics = binary_metrics(y, p)
    assert metrics.values["roc_auc"] is None and metrics.values["pr_auc"] == 0.0
    assert metrics.undefined == {"roc_auc": "only one class in the labels"}
    assert "without positive rows" in metrics.notes["pr_auc"]
    with pytest.warns(UserWarning, match="No positive class"):
        assert skm.average_precision_score(y, p) == 0.0
    assert_same(metrics.values, sklearn_binary(y, p), 1e-9)
    assert metrics.per_class[1].roc_auc is None and metrics.per_class[1].pr_auc == 0.0
    assert metrics.per_class[0].roc_auc is None and metrics.per_class[0].pr_auc == 1.0


def test_binary_labels_all_positive_give_none_auc_but_ap_of_one():
    y = np.ones(5, dtype=np.int64)
    p = np.array([0.1, 0.4, 0.5, 0.5, 0.95])
    metrics = binary_metrics(y, p)
    assert metrics.values["roc_auc"] is None and metrics.values["pr_auc"] == 1.0
    assert list(metrics.undefined) == ["roc_auc"]
    assert_same(metrics.values, sklearn_binary(y, p), 1e-9)
    assert metrics.per_class[0].pr_auc == 0.0


def test_brier_keeps_sklearns_rounding_of_1_minus_1_minus_p_for_tiny_scores():
    # sklearn scores the columns [1 - p, p]; for a negative with p = 1e-10 the first column's
    # error 1 - (1 - p) is off by ~1e-8 relative, which dominates a near-perfect model's Brier.
    y = np.array([0, 0, 1, 1])
    p = np.array([1e-10, 3e-10, 1.0, 1.0])
    expected = skm.brier_score_loss(y, p)
    assert binary_metrics(y, p).values["brier"] == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("label_dtype", [bool, np.int8, np.int64])
def test_binary_accepts_bool_int8_and_int64_labels_alike(label_dtype):
    y, p = binary_case(7)
    reference = binary_metrics(y, p)
    metrics = binary_metrics(y.astype(label_dtype), p)
    assert metrics.values == reference.values
    assert metrics.thresholds == reference.thresholds


@pytest.mark.parametrize("dtype", DTYPES)
def test_threshold_rows_match_sklearn_at_each_grid_threshold(dtype):
    y, p = binary_case(8, dtype=dtype, ties=True)  # scores land exactly on the grid
    rows = binary_metrics(y, p).thresholds
    assert [row.best_f1 for row in rows] == [False] * 9 + [True]
    for row, threshold in zip(rows, THRESHOLD_GRID, strict=False):
        yhat = (p >= threshold).astype(np.int64)
        tn, fp, fn, tp = skm.confusion_matrix(y, yhat, labels=[0, 1]).ravel()
        assert row.threshold == threshold
        assert (row.tp, row.fp, row.fn, row.tn) == (tp, fp, fn, tn)
        assert row.accuracy == pytest.approx(skm.accuracy_score(y, yhat), rel=1e-12)
        expected = [
            quiet(metric, y, yhat, zero_division=0)
            for metric in (skm.precision_score, skm.recall_score, skm.f1_score)
        ]
        assert [row.precision, row.recall, row.f1] == pytest.approx(expected, rel=1e-12)


def brute_force_best_f1(y, p):
    """(threshold, f1, tp, fp) maximising sklearn's F1 over np.unique(p), highest on ties."""
    best = None
    for threshold in np.unique(p):  # ascending, so >= keeps the highest of tied maxima
        yhat = (p >= threshold).astype(np.int64)
        f1 = quiet(skm.f1_score, y, yhat, zero_division=0)
        if best is None or f1 >= best[1]:
            tp, fp = int(np.sum(yhat & y)), int(np.sum(yhat & (1 - y)))
            best = (float(threshold), f1, tp, fp)
    return best


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [9, 10, 11])
def test_best_f1_row_matches_a_brute_force_over_unique_scores(seed, dtype):
    y, p = binary_case(seed, n=300, dtype=dtype, ties=seed == 9)
    row = binary_metrics(y, p).thresholds[-1]
    threshold, f1, tp, fp = brute_force_best_f1(y, p)
    assert row.best_f1
    assert (row.threshold, row.tp, row.fp) == (threshold, tp, fp)
    assert row.f1 == pytest.approx(f1, rel=1e-12)
    assert (row.fn, row.tn) == (y.sum() - tp, (1 - y).sum() - fp)


def test_best_f1_row_takes_the_highest_threshold_on_tied_f1():
    y = np.array([1, 0, 0, 1])
    p = np.array([0.9, 0.6, 0.5, 0.2])  # F1 = 2/3 at 0.9 (tp 1, fp 0) and at 0.2 (tp 2, fp 2)
    row = binary_metrics(y, p).thresholds[-1]
    assert (row.threshold, row.tp, row.fp, row.f1) == (0.9, 1, 0, pytest.approx(2 / 3))


def test_best_f1_row_without_positives_sits_at_the_highest_score_with_f1_zero():
    y = np.zeros(5, dtype=np.int64)
    p = np.array([0.2, 0.7, 0.7, 0.1, 0.3])
    row = binary_metrics(y, p).thresholds[-1]
    assert (row.threshold, row.f1, row.tp, row.fp, row.fn, row.tn) == (0.7, 0.0, 0, 2, 0, 3)
    assert row.accuracy == 0.6 and row.best_f1


def test_threshold_is_compared_in_the_score_dtype_like_numpy():
    p = np.array([0.7, 0.69, 0.71], dtype=np.float32)  # float32(0.7) < 0.7 as a float64
    y = np.array([1, 0, 1])
    metrics = binary_metrics(y, p, threshold=0.7)
    assert metrics.thresholds[6].threshold == 0.7
    assert metrics.thresholds[6].tp == int(np.sum(p >= 0.7)) == 2
    assert metrics.values["recall"] == 1.0


# --- multi-class --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("n_classes", [3, 10])
def test_multiclass_values_match_sklearn(n_classes, ties, dtype):
    y, proba = multiclass_case(n_classes, n_classes, dtype=dtype, ties=ties)
    metrics = multiclass_metrics(y, proba)
    assert list(metrics.values) == MULTICLASS_KEYS
    assert_same(metrics.values, sklearn_multiclass(y, proba), rel_for(dtype))
    assert metrics.undefined == {} and metrics.thresholds == ()


@pytest.mark.parametrize("n_classes", [3, 10])
def test_multiclass_per_class_table_matches_sklearn(n_classes):
    y, proba = multiclass_case(20 + n_classes, n_classes, ties=True)
    yhat = np.argmax(proba, axis=1)
    labels = list(range(n_classes))
    prfs = skm.precision_recall_fscore_support(y, yhat, labels=labels, zero_division=0)
    aucs = [sk_roc_auc(y == k, proba[:, k]) for k in labels]
    aps = [sk_average_precision(y == k, proba[:, k]) for k in labels]
    assert_per_class_matches(multiclass_metrics(y, proba).per_class, *prfs, aucs, aps, 1e-9)


def test_multiclass_confusion_matches_sklearn_confusion_matrix():
    y, proba = multiclass_case(30, 10, ties=True, absent=(4,))
    confusion = multiclass_metrics(y, proba).confusion
    assert confusion.dtype == np.int64 and confusion.shape == (10, 10)
    expected = skm.confusion_matrix(y, np.argmax(proba, 1), labels=list(range(10)))
    np.testing.assert_array_equal(confusion, expected)


def test_multiclass_absent_class_gives_none_auc_and_sklearns_zero_ap_in_the_macro():
    y, proba = multiclass_case(31, 5, n=300, absent=(1, 3))
    metrics = multiclass_metrics(y, proba)
    assert metrics.values["roc_auc"] is None
    assert metrics.undefined == {"roc_auc": "classes 1, 3 absent from the labels"}
    assert metrics.notes["pr_auc"].startswith("classes 1, 3 without positive rows")
    # f1_macro averages over labels in y or predictions; balanced accuracy over y's only
    assert_same(metrics.values, sklearn_multiclass(y, proba), 1e-9)
    absent = metrics.per_class[3]
    assert (absent.support, absent.recall, absent.roc_auc, absent.pr_auc) == (0, 0.0, None, 0.0)


def test_multiclass_class_on_every_row_is_the_only_class_present():
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    metrics = multiclass_metrics(np.zeros(3, dtype=np.int64), proba)
    assert metrics.undefined["roc_auc"] == "classes 1, 2 absent from the labels"
    assert metrics.per_class[0].roc_auc is None and metrics.per_class[0].pr_auc == 1.0
    assert_same(metrics.values, sklearn_multiclass(np.zeros(3, dtype=np.int64), proba), 1e-9)


def test_multiclass_brier_is_the_documented_sum_over_classes_without_halving():
    y, proba = multiclass_case(35, 4, n=200, absent=(2,))
    direct = np.mean(np.sum((one_hot(y, 4) - proba) ** 2, axis=1))
    brier = multiclass_metrics(y, proba).values["brier"]
    assert brier == pytest.approx(direct, rel=1e-12)
    assert brier == pytest.approx(skm.brier_score_loss(y, proba, labels=[0, 1, 2, 3]), rel=1e-12)


def test_multiclass_brier_of_two_columns_is_halved_like_binary():
    y, proba = multiclass_case(36, 2, n=200)
    assert multiclass_metrics(y, proba).values["brier"] == pytest.approx(
        binary_metrics(y, proba[:, 1]).values["brier"], rel=1e-9
    )


def test_multiclass_argmax_ties_pick_the_first_class():
    proba = np.array([[0.4, 0.4, 0.2], [0.1, 0.45, 0.45], [0.2, 0.3, 0.5]])
    metrics = multiclass_metrics(np.array([1, 2, 2]), proba)
    np.testing.assert_array_equal(metrics.confusion.sum(axis=0), [1, 1, 1])
    assert metrics.values["accuracy"] == pytest.approx(1 / 3)


def test_multiclass_with_two_classes_averages_both_columns():
    y, proba = multiclass_case(32, 2, ties=True)
    assert_same(multiclass_metrics(y, proba).values, sklearn_multiclass(y, proba), 1e-9)


@pytest.mark.parametrize("label_dtype", [np.int8, np.int64])
def test_multiclass_accepts_small_integer_labels_without_overflow(label_dtype):
    y, proba = multiclass_case(33, 20, n=1000)  # 19 * 20 overflows int8
    metrics = multiclass_metrics(y.astype(label_dtype), proba)
    assert_same(metrics.values, sklearn_multiclass(y, proba), 1e-9)
    assert metrics.confusion.sum() == 1000


def test_multiclass_keras_accuracies_follow_keras_definitions():
    y, proba = multiclass_case(34, 4, ties=True)
    values = multiclass_metrics(y, proba).values
    assert values["categorical_accuracy"] == values["accuracy"]
    expected = keras_binary_accuracy_reference(one_hot(y, 4), proba)
    assert values["binary_accuracy"] == pytest.approx(expected, rel=1e-12)
    assert type(values["binary_accuracy"]) is float  # a plain number reaches every renderer


def test_multiclass_weighted_binary_accuracy_weighs_each_cell_by_its_row():
    y, proba = multiclass_case(35, 4, n=300, ties=True)
    proba[:5] = 0.5, 0.5, 0.0, 0.0  # exactly at the cut: not above it, in no column
    weights = np.random.default_rng(35).integers(1, 4, y.size).astype(np.float64)
    values = metrics_from(metric_totals("multiclass", y, proba, weights=weights)).values
    agreeing = ((proba > 0.5) == one_hot(y, 4)).sum(axis=1)
    expected = float(np.sum(weights * agreeing)) / (4 * weights.sum())
    assert values["binary_accuracy"] == pytest.approx(expected, rel=1e-12)
    repeated = multiclass_metrics(
        np.repeat(y, weights.astype(int)), np.repeat(proba, weights.astype(int), axis=0)
    )
    assert values["binary_accuracy"] == pytest.approx(repeated.values["binary_accuracy"], rel=1e-12)


# --- multi-label --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
def test_multilabel_values_match_sklearn(ties, dtype):
    y, proba = multilabel_case(40, dtype=dtype, ties=ties)
    metrics = multilabel_metrics(y, proba)
    assert list(metrics.values) == MULTILABEL_KEYS
    assert_same(metrics.values, sklearn_multilabel(y, proba), rel_for(dtype))
    assert metrics.undefined == {} and metrics.thresholds == ()


def test_multilabel_per_label_table_and_confusion_match_sklearn():
    y, proba = multilabel_case(41, ties=True)
    yhat = (proba >= 0.4).astype(np.int64)
    metrics = multilabel_metrics(y, proba, threshold=0.4)
    prfs = skm.precision_recall_fscore_support(y, yhat, zero_division=0)
    aucs = [sk_roc_auc(y[:, k], proba[:, k]) for k in range(5)]
    aps = [sk_average_precision(y[:, k], proba[:, k]) for k in range(5)]
    assert_per_class_matches(metrics.per_class, *prfs, aucs, aps, 1e-9)
    assert metrics.confusion.dtype == np.int64
    np.testing.assert_array_equal(metrics.confusion, skm.multilabel_confusion_matrix(y, yhat))
    assert_same(metrics.values, sklearn_multilabel(y, proba, 0.4), 1e-9)


def test_multilabel_constant_columns_give_none_auc_and_a_macro_ap_with_a_note():
    y, proba = multilabel_case(42, n=200, n_labels=4)
    y[:, 1] = 0
    y[:, 3] = 1
    metrics = multilabel_metrics(y, proba)
    assert metrics.undefined == {"roc_auc": "labels 1, 3 all 0 or all 1"}
    assert metrics.notes["pr_auc"].startswith("label 1 without positive rows")
    assert metrics.per_class[1].pr_auc == 0.0
    assert_same(metrics.values, sklearn_multilabel(y, proba), 1e-9)
    assert metrics.per_class[3].roc_auc is None and metrics.per_class[3].pr_auc == 1.0


def test_multilabel_binary_accuracy_is_strict_while_predictions_use_greater_or_equal():
    y = np.array([[1, 0], [0, 1]])
    proba = np.array([[0.5, 0.2], [0.5, 0.9]])
    values = multilabel_metrics(y, proba).values
    assert values["binary_accuracy"] == 0.75  # the 0.5 cell with y = 1 counts as predicted 0
    assert values["accuracy"] == 0.5  # subset accuracy with 0.5 >= 0.5 predicted 1


# --- losses, keras helpers ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_loss_clips_at_the_dtype_eps_like_sklearn(dtype):
    y = np.array([1, 0, 1, 0, 1, 0])
    p = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 1e-9], dtype=dtype)
    q = true_class_probability(y, p)
    expected = skm.log_loss(y, p, labels=[0, 1])
    assert log_loss(q) == pytest.approx(expected, rel=rel_for(dtype))
    assert binary_metrics(y, p).values["log_loss"] == pytest.approx(expected, rel=rel_for(dtype))


def test_log_loss_with_eps_1e_7_clips_there():
    q = np.array([0.0, 1e-9, 0.5, 1.0])
    expected = np.mean(-np.log(np.clip(q, 1e-7, 1 - 1e-7)))
    assert log_loss(q, eps=1e-7) == pytest.approx(expected, rel=1e-12)


def test_log_loss_with_eps_0_is_infinite_when_a_true_class_probability_is_0():
    assert log_loss(np.array([0.5, 0.0, 1.0]), eps=0.0) == math.inf
    assert log_loss(np.array([0.5, 1.0]), eps=0.0) == pytest.approx(math.log(2) / 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_row_losses_are_per_entry_float64(dtype):
    q = np.array([[0.5, 1.0], [0.25, 0.0]], dtype=dtype)
    losses = row_losses(q, eps=1e-7)
    assert losses.dtype == np.float64 and losses.shape == (2, 2)
    # clipped in q's dtype, as sklearn and Keras do: float32(1 - 1e-7) is 1 - 2**-23
    expected = -np.log(np.clip(q, 1e-7, 1 - 1e-7).astype(np.float64))
    np.testing.assert_allclose(losses, expected, rtol=1e-12)


def test_true_class_probability_per_task_keeps_the_score_dtype():
    p = np.array([0.25, 0.75], dtype=np.float32)
    binary = true_class_probability(np.array([0, 1], dtype=np.int8), p)
    assert binary.dtype == np.float32
    np.testing.assert_array_equal(binary, [0.75, 0.75])
    proba = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_array_equal(true_class_probability(np.array([1, 1]), proba), [0.8, 0.4])
    indicator = np.array([[1, 0], [0, 0]])
    np.testing.assert_allclose(true_class_probability(indicator, proba), [[0.2, 0.2], [0.4, 0.6]])


def test_keras_binary_accuracy_matches_the_keras_definition():
    rng = np.random.default_rng(50)
    proba = np.round(rng.random((40, 6)), 1)  # cells exactly at 0.5 must count as predicted 0
    y = (rng.random((40, 6)) < 0.4).astype(np.int64)
    expected = keras_binary_accuracy_reference(y, proba)
    assert keras_binary_accuracy(y, proba) == pytest.approx(expected, rel=1e-12)
    expected = keras_binary_accuracy_reference(y, proba, 0.3)
    assert keras_binary_accuracy(y, proba, 0.3) == pytest.approx(expected, rel=1e-12)


def test_categorical_accuracy_is_the_share_of_rows_whose_argmax_is_true():
    proba = np.array([[0.1, 0.9], [0.5, 0.5], [0.7, 0.3]])
    assert categorical_accuracy(np.array([1, 1, 0]), proba) == pytest.approx(2 / 3)


def test_one_hot_is_a_bool_indicator_matrix():
    expected = [[False, True, False], [False, False, True]]
    np.testing.assert_array_equal(one_hot(np.array([1, 2]), 3), expected)
    assert one_hot(np.array([1, 2]), 3).dtype == bool


# --- module hygiene -----------------------------------------------------------------------------


def test_degenerate_inputs_raise_no_runtime_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary_metrics(np.array([1]), np.array([0.0]))
        binary_metrics(np.zeros(3, dtype=bool), np.zeros(3, dtype=np.float32))
        multiclass_metrics(np.array([2]), np.array([[0.0, 0.0, 1.0]]))
        multilabel_metrics(np.zeros((2, 3)), np.zeros((2, 3)))
        row_losses(np.array([0.0, 1.0]), eps=0.0)


def test_metrics_module_does_not_import_sklearn():
    code = "import sys, lossdoctor.metrics; assert 'sklearn' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


# --- calibration ------------------------------------------------------------------------------


def sk_ece(outcome, predicted):
    """ECE from sklearn's calibration_curve(strategy="quantile"), weighting bins by their rows."""
    from sklearn.calibration import calibration_curve

    outcome = np.asarray(outcome).astype(np.int64)
    observed, mean_predicted = calibration_curve(outcome, predicted, n_bins=10, strategy="quantile")
    edges = np.percentile(predicted, np.linspace(0, 1, 11) * 100)
    counts = np.bincount(np.searchsorted(edges[1:-1], predicted), minlength=10)
    counts = counts[counts > 0]
    return float(np.dot(counts, np.abs(observed - mean_predicted)) / counts.sum())


def test_binary_ece_uses_sklearns_equal_mass_bins():
    rng = np.random.default_rng(3)
    p = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p**2).astype(int)
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    reliability = binary_metrics(y, p).calibration
    np.testing.assert_allclose(reliability.observed, observed, rtol=1e-12)
    np.testing.assert_allclose(reliability.predicted, predicted, rtol=1e-12)
    assert binary_metrics(y, p).values["ece"] == pytest.approx(sk_ece(y, p), rel=1e-12)


def test_multiclass_ece_is_top_label_calibration():
    rng = np.random.default_rng(4)
    proba = rng.dirichlet(np.ones(4) * 0.5, size=400)
    y = rng.integers(0, 4, 400)
    confidence, correct = proba.max(axis=1), proba.argmax(axis=1) == y
    assert multiclass_metrics(y, proba).values["ece"] == pytest.approx(
        sk_ece(correct, confidence), rel=1e-12
    )


def test_multilabel_ece_treats_every_cell_as_binary():
    rng = np.random.default_rng(5)
    proba = rng.uniform(size=(200, 3))
    y = rng.uniform(size=(200, 3)) < proba
    assert multilabel_metrics(y, proba).values["ece"] == pytest.approx(
        sk_ece(y.ravel(), proba.ravel()), rel=1e-12
    )


def test_a_calibrated_model_has_a_small_ece_and_an_overconfident_one_a_large_one():
    rng = np.random.default_rng(6)
    p = rng.uniform(size=20_000)
    y = rng.uniform(size=20_000) < p
    overconfident = np.where(p > 0.5, 1 - (1 - p) / 3, p / 3)
    assert binary_metrics(y, p).values["ece"] < 0.02
    assert binary_metrics(y, overconfident).values["ece"] > 0.1


def test_binary_histogram_splits_by_true_class_like_numpy():
    rng = np.random.default_rng(7)
    p = rng.uniform(size=300)
    p[:3] = (0.0, 1.0, 0.5)
    y = (rng.uniform(size=300) < p).astype(int)
    spread = binary_metrics(y, p).histogram
    for k in (0, 1):
        counts, _ = np.histogram(p[y == k], bins=20, range=(0, 1))
        np.testing.assert_array_equal(spread.counts[k], counts)


def test_multiclass_histogram_is_of_the_true_class_probability():
    rng = np.random.default_rng(8)
    proba = rng.dirichlet(np.ones(3), size=200)
    y = rng.integers(0, 3, 200)
    counts, edges = np.histogram(proba[np.arange(200), y], bins=20, range=(0, 1))
    spread = multiclass_metrics(y, proba).histogram
    np.testing.assert_array_equal(spread.counts[0], counts)
    np.testing.assert_allclose(spread.edges, edges)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("n_rows", [0, 1, 409, 410, 5_003])
def test_column_range_is_each_columns_min_and_max_in_float64(layout, n_rows):
    rng = np.random.default_rng(n_rows)
    columns = np.asarray(rng.random((n_rows, 10), dtype=np.float32), order=layout)
    if n_rows > 400:  # extremes in the folded part and in the rows left over
        columns[3, 2], columns[n_rows - 1, 7] = -5.0, 9.0
    low, high = column_range(columns)
    assert low.dtype == high.dtype == np.float64
    np.testing.assert_array_equal(low, np.min(columns, axis=0, initial=np.inf))
    np.testing.assert_array_equal(high, np.max(columns, axis=0, initial=-np.inf))


def test_column_range_keeps_a_nan_as_numpy_does():
    columns = np.ones((9_000, 3), dtype=np.float32)
    columns[8_999, 1] = np.nan
    low, high = column_range(columns)
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert low[0] == high[2] == 1.0
