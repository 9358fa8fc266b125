"""ROC and precision-recall curves off the value tables: every drawn point on scikit-learn's
curve, the marked points exact, the thinning within its stated distance, the same curves from
merged batches, and close ones from a grid."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from sklearn.metrics import (
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

import lossdoctor
from lossdoctor.curves import CURVE_STEPS, STEPS_PER_DOUBLING
from lossdoctor.metrics import metric_totals, metrics_from
from lossdoctor.metrics.results import CURVE_EXTREMES, MAX_CURVES


def binary_data(n: int = 50_000, seed: int = 0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y - 1)))
    return y, p.astype(dtype)


def on_sklearns_curve(y, scores, curve) -> None:
    """Each drawn point is scikit-learn's at the same threshold."""
    fpr, tpr, thresholds = roc_curve(y, scores, drop_intermediate=False)
    at = np.searchsorted(-thresholds, -curve.threshold)
    assert np.array_equal(thresholds[at], curve.threshold)
    np.testing.assert_array_equal(curve.fpr, fpr[at])
    np.testing.assert_array_equal(curve.tpr, tpr[at])
    precision, recall, pr_thresholds = precision_recall_curve(y, scores, drop_intermediate=False)
    at = np.searchsorted(pr_thresholds, curve.threshold)
    np.testing.assert_allclose(curve.precision, precision[at], rtol=1e-15)
    np.testing.assert_allclose(curve.tpr, recall[at], rtol=1e-15)
    f1 = 2 * precision[at] * recall[at] / (precision[at] + recall[at])
    np.testing.assert_allclose(curve.f1, f1, rtol=1e-12)


def test_every_drawn_point_of_a_binary_curve_is_on_sklearns():
    y, p = binary_data()
    (curve,) = lossdoctor.diagnose(y, p).metrics.curves
    assert curve.index == 1
    assert np.all(np.diff(curve.threshold) < 0)
    on_sklearns_curve(y, p, curve)


def test_the_marked_points_are_sklearns_scores_at_the_threshold_and_the_best_f1():
    y, p = binary_data(seed=1)
    threshold = 0.4
    (curve,) = lossdoctor.diagnose(y, p, threshold=threshold).metrics.curves
    predicted = p >= np.float32(threshold)
    chosen = curve.chosen
    assert chosen.threshold == threshold
    assert chosen.precision == pytest.approx(precision_score(y, predicted), rel=1e-15)
    assert chosen.tpr == pytest.approx(recall_score(y, predicted), rel=1e-15)
    assert chosen.f1 == pytest.approx(f1_score(y, predicted), rel=1e-12)
    assert chosen.fpr == np.mean(predicted[y == 0])
    precision, recall, thresholds = precision_recall_curve(y, p, drop_intermediate=False)
    with np.errstate(invalid="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    best = curve.best_f1
    assert best.f1 == pytest.approx(f1.max(), rel=1e-12)
    assert best.threshold == thresholds[np.flatnonzero(f1 == f1.max())[-1]]
    # the drawn curve passes through both
    for point in (chosen, best):
        assert np.any((curve.fpr == point.fpr) & (curve.tpr == point.tpr))


def test_thinning_keeps_a_few_hundred_points_none_further_than_its_step():
    y, p = binary_data(n=200_000, seed=2, dtype=np.float64)  # every score distinct
    (curve,) = lossdoctor.diagnose(y, p).metrics.curves
    limit = CURVE_STEPS + STEPS_PER_DOUBLING * np.log2(y.size) + 4
    assert 100 < curve.threshold.size <= limit
    fpr, tpr, thresholds = roc_curve(y, p, drop_intermediate=False)
    kept = np.searchsorted(-thresholds, -curve.threshold)
    assert kept[0] == 1 and kept[-1] == thresholds.size - 1  # from the top score to the lowest
    # Every point of the full curve after a drawn one lies within the step of the next drawn
    # one (L1, the ROC curve's length being 2).
    for start, stop in pairwise(kept):
        after = slice(start + 1, stop + 1)
        gaps = np.abs(fpr[after] - fpr[stop]) + np.abs(tpr[after] - tpr[stop])
        assert gaps.max() <= 2 / CURVE_STEPS


def test_merged_batches_draw_the_curves_of_one_batch():
    y, p = binary_data(n=30_000, seed=3)
    whole = metrics_from(metric_totals("binary", y, p)).curves[0]
    halves = [
        metric_totals("binary", y[part], p[part])
        for part in (slice(0, 12_345), slice(12_345, None))
    ]
    merged = metrics_from(halves[0].merge(halves[1])).curves[0]
    for name in ("threshold", "fpr", "tpr", "precision", "f1"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
    assert merged.chosen == whole.chosen and merged.best_f1 == whole.best_f1


def test_a_grid_draws_the_curve_within_a_bins_width():
    y, p = binary_data(n=100_000, seed=4)
    summary = metric_totals("binary", y, p, capacity=1_000)
    assert summary.tables[0].is_grid
    curve = metrics_from(summary).curves[0]
    fpr, tpr, thresholds = roc_curve(y, p, drop_intermediate=False)
    # the point at each drawn threshold: rows scoring at or above it
    at = np.searchsorted(-thresholds, -curve.threshold, side="right") - 1
    assert np.abs(curve.fpr - fpr[at]).max() < 1e-3
    assert np.abs(curve.tpr - tpr[at]).max() < 1e-3
    predicted = p >= np.float32(0.5)
    assert curve.chosen.tpr == recall_score(y, predicted)  # exact: counted on the rows


def multiclass_data(k: int, n: int = 6_000, seed: int = 5):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += np.linspace(0.5, 3, k)[y]  # classes unequally easy
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_each_class_against_the_rest_with_the_argmax_marked():
    y, proba = multiclass_data(4)
    curves = lossdoctor.diagnose(y, proba).metrics.curves
    assert [c.index for c in curves] == [0, 1, 2, 3]
    predicted = proba.argmax(axis=1)
    for curve in curves:
        k = curve.index
        on_sklearns_curve(y == k, proba[:, k], curve)
        assert curve.chosen.threshold is None
        assert curve.chosen.precision == pytest.approx(precision_score(y == k, predicted == k))
        assert curve.chosen.tpr == pytest.approx(recall_score(y == k, predicted == k))


def test_many_classes_draw_the_worst_and_the_best_by_roc_auc():
    k = 20
    y, proba = multiclass_data(k, n=20_000)
    curves = lossdoctor.diagnose(y, proba).metrics.curves
    assert k > MAX_CURVES and len(curves) == 2 * CURVE_EXTREMES
    aucs = np.array([roc_auc_score(y == c, proba[:, c]) for c in range(k)])
    order = np.argsort(aucs, kind="stable")
    expected = sorted([*order[:CURVE_EXTREMES], *order[-CURVE_EXTREMES:]])
    assert [c.index for c in curves] == expected


def test_multilabel_curves_mark_the_threshold_of_each_label():
    rng = np.random.default_rng(6)
    y = (rng.uniform(size=(3_000, 3)) < 0.4).astype(int)
    proba = np.clip(0.35 * y + rng.uniform(size=y.shape) * 0.65, 0, 1)
    curves = lossdoctor.diagnose(y, proba, task="multilabel", threshold=0.6).metrics.curves
    assert len(curves) == 3
    for curve in curves:
        k = curve.index
        on_sklearns_curve(y[:, k], proba[:, k], curve)
        predicted = proba[:, k] >= 0.6
        assert curve.chosen.threshold == 0.6
        assert curve.chosen.tpr == pytest.approx(recall_score(y[:, k], predicted), rel=1e-15)


def test_a_class_without_positives_or_negatives_has_no_curve():
    y = np.zeros(50, dtype=int)
    p = np.linspace(0.01, 0.99, 50)
    assert lossdoctor.diagnose(y, p).metrics.curves == ()


def test_a_dataset_streamed_in_batches_draws_the_curves_of_the_file_read_whole(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    y, p = binary_data(n=40_000, seed=8)
    (tmp_path / "parts").mkdir()
    for i, part in enumerate(np.array_split(np.arange(y.size), 4)):
        table = pa.table({"label": y[part], "prob": p[part]})
        pq.write_table(table, tmp_path / "parts" / f"part-{i}.parquet", row_group_size=3_000)
    streamed = lossdoctor.diagnose(str(tmp_path / "parts")).metrics.curves[0]
    whole = lossdoctor.diagnose(y, p).metrics.curves[0]
    for name in ("threshold", "fpr", "tpr", "precision", "f1"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(whole, name))
    assert streamed.chosen == whole.chosen and streamed.best_f1 == whole.best_f1
