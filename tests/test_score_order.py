"""Scores in their own order: ranking metrics of logits of any size equal scikit-learn's on the
raw scores, the log loss of logits comes from a stable log-sigmoid / log-softmax, and
probabilities a float32 rounding step above 1 stay probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, log_expit, log_softmax
from sklearn import metrics as skm
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import lossdoctor
from lossdoctor.metrics import metric_totals, metrics_from
from lossdoctor.value_tables import complement, rank, tabulate


@pytest.fixture(scope="module")
def svm_margins():
    """An SVM's decision_function: raw margins, as users save them."""
    X, y = make_classification(600, n_features=8, flip_y=0.1, random_state=0)
    margins = LinearSVC(random_state=0).fit(X[:300], y[:300]).decision_function(X[300:])
    return y[300:], margins


@pytest.fixture(scope="module")
def probabilities():
    X, y = make_classification(600, n_features=8, flip_y=0.1, random_state=1)
    model = LogisticRegression().fit(X[:300], y[:300])
    return y[300:], model.predict_proba(X[300:])[:, 1]


@pytest.mark.parametrize(
    ("scale", "shift"), [(1, 0), (100, 0), (1e4, 0), (1e6, 5), (1, 60), (1, -60), (50, 100)]
)
def test_ranking_metrics_of_margins_are_sklearns_on_the_raw_scores(svm_margins, scale, shift):
    y, margins = svm_margins
    scores = margins * scale + shift
    report = lossdoctor.diagnose(y, scores)
    assert report.transform == "sigmoid"
    values = report.metrics.values
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores), rel=1e-12)
    assert values["pr_auc"] == pytest.approx(skm.average_precision_score(y, scores), rel=1e-12)


def test_scaling_or_shifting_scores_never_changes_roc_auc_or_ap(probabilities):
    """scikit-learn's test_score_scale_invariance, through lossdoctor: percentages, tiny
    probabilities and shifted scores each rank as the probabilities do."""
    y, p = probabilities
    reference = lossdoctor.diagnose(y, p).metrics.values
    assert reference["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    for scores in (100 * p, 1e-6 * p, p - 10, 1e4 * p):
        values = lossdoctor.diagnose(y, scores).metrics.values
        assert values["roc_auc"] == pytest.approx(reference["roc_auc"], rel=1e-12)
        assert values["pr_auc"] == pytest.approx(reference["pr_auc"], rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 200),
    scale=st.sampled_from([1e-3, 1.0, 37.0, 1e3, 1e8]),
    shift=st.sampled_from([-500.0, -40.0, 0.0, 3.0, 40.0, 500.0]),
)
def test_any_positive_affine_map_of_logits_keeps_sklearns_roc_auc_and_ap(seed, n, scale, shift):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    z = np.round(rng.normal(size=n) + y, 2)  # rounded: ties across the classes too
    scores = z * scale + shift
    values = lossdoctor.diagnose(y, scores, from_logits=True).metrics.values
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores), rel=1e-12)
    assert values["pr_auc"] == pytest.approx(skm.average_precision_score(y, scores), rel=1e-12)


def test_per_class_auc_of_class_0_ranks_the_negated_margins(svm_margins):
    y, margins = svm_margins
    class_0 = lossdoctor.diagnose(y, margins * 1e3).metrics.per_class[0]
    assert class_0.roc_auc == pytest.approx(skm.roc_auc_score(y == 0, -margins), rel=1e-12)
    assert class_0.pr_auc == pytest.approx(skm.average_precision_score(y == 0, -margins), rel=1e-12)


def test_large_distinct_margins_are_not_constant_scores():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    scores = 40 + rng.random(200) * 10 + 3 * y  # every sigmoid rounds to exactly 1.0
    assert np.all(expit(scores) == 1.0)
    report = lossdoctor.diagnose(y, scores)
    titles = [f.title for f in report.findings if f.check == "degenerate-predictions"]
    assert "Constant scores" not in titles
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores))
    constant = lossdoctor.diagnose(y, np.full(200, 45.0))
    assert "Constant scores" in [f.title for f in constant.findings]


def test_log_loss_of_logits_is_a_stable_log_sigmoid():
    y = np.array([1, 0, 1, 0, 1])
    z = np.array([60.0, 45.0, -3.0, -80.0, 0.5])  # the negative at 45 costs 45, not 36.04
    expected = -np.mean(np.where(y == 1, log_expit(z), log_expit(-z)))
    loss = lossdoctor.diagnose(y, z).metrics.values["log_loss"]
    assert loss == pytest.approx(expected, rel=1e-14)
    assert loss > 45 / 5


def test_log_loss_of_moderate_logits_equals_sklearn_on_their_sigmoid(svm_margins):
    y, margins = svm_margins
    loss = lossdoctor.diagnose(y, margins).metrics.values["log_loss"]
    assert loss == pytest.approx(skm.log_loss(y, expit(margins)), rel=1e-12)


def test_two_softmax_columns_of_logits_rank_by_their_difference():
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, 300)
    z = np.column_stack([rng.normal(size=300), (rng.normal(size=300) + y) * 80])
    values = lossdoctor.diagnose(y, z, from_logits=True).metrics.values
    margin = z[:, 1] - z[:, 0]
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, margin), rel=1e-12)
    assert values["pr_auc"] == pytest.approx(skm.average_precision_score(y, margin), rel=1e-12)
    expected = -np.mean(log_softmax(z, axis=1)[np.arange(300), y])
    assert values["log_loss"] == pytest.approx(expected, rel=1e-12)


def test_multiclass_log_loss_of_logits_is_a_stable_log_softmax():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 60)
    z = rng.normal(size=(60, 3)) * 30  # gaps far beyond the 36 a clipped softmax can show
    expected = -np.mean(log_softmax(z, axis=1)[np.arange(60), y])
    report = lossdoctor.diagnose(y, z, from_logits=True)
    assert report.metrics.values["log_loss"] == pytest.approx(expected, rel=1e-12)


def test_multilabel_logits_rank_and_lose_like_the_raw_scores():
    rng = np.random.default_rng(5)
    y = (rng.random((150, 3)) < 0.4).astype(int)
    z = (rng.normal(size=(150, 3)) + 2 * y) * 40
    report = lossdoctor.diagnose(y, z, task="multilabel")
    values = report.metrics.values
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, z, average="macro"))
    assert values["pr_auc"] == pytest.approx(skm.average_precision_score(y, z, average="macro"))
    expected = -np.mean(np.where(y == 1, log_expit(z), log_expit(-z)))
    assert values["log_loss"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("capacity", [None, 40])
def test_tables_of_logits_merge_into_the_table_of_one_batch(capacity):
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 400)
    z = np.round(rng.normal(size=400) * 30 + 10 * y, 1)
    p = expit(z)
    whole = metrics_from(metric_totals("binary", y, p, logits=z)).values
    parts = [
        metric_totals("binary", y[i::4], p[i::4], capacity=capacity, logits=z[i::4])
        for i in range(4)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part, capacity)
    values = metrics_from(merged).values
    bound = metrics_from(merged).error_bound
    for key in ("roc_auc", "pr_auc", "log_loss", "accuracy"):
        assert values[key] == pytest.approx(whole[key], rel=1e-12, abs=bound.get(key, 0.0)), key
    if capacity is None:
        assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, z), rel=1e-12)


def test_moderate_logits_give_the_report_of_their_sigmoid(svm_margins):
    """Where no sigmoid rounds two logits together, ranking by the logits changes nothing:
    thresholds, calibration, histogram and confusion are those of the probabilities."""
    y, margins = svm_margins
    p = expit(margins)
    assert np.unique(p).size == np.unique(margins).size
    by_logits = metrics_from(metric_totals("binary", y, p, logits=margins))
    by_proba = metrics_from(metric_totals("binary", y, p))
    assert by_logits.thresholds == by_proba.thresholds
    np.testing.assert_array_equal(by_logits.confusion, by_proba.confusion)
    np.testing.assert_array_equal(by_logits.histogram.counts, by_proba.histogram.counts)
    np.testing.assert_array_equal(by_logits.calibration.counts, by_proba.calibration.counts)
    np.testing.assert_allclose(by_logits.calibration.predicted, by_proba.calibration.predicted)
    for key, value in by_proba.values.items():
        assert by_logits.values[key] == pytest.approx(value, rel=1e-12), key
    assert [c.roc_auc for c in by_logits.per_class] == pytest.approx(
        [c.roc_auc for c in by_proba.per_class], rel=1e-12
    )


def test_class_predictions_in_a_dataset_are_found_across_batches(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lossdoctor.engines.local import Streaming
    from lossdoctor.io import open_dataset
    from lossdoctor.pipeline import diagnose
    from lossdoctor.settings import Settings

    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 600)
    predicted = np.where(rng.random(600) < 0.8, y, 1 - y).astype(np.float64)
    for i in range(3):
        part = slice(200 * i, 200 * (i + 1))
        pq.write_table(
            pa.table({"label": y[part], "pred": predicted[part]}), tmp_path / f"p{i}.parquet"
        )
    report = diagnose(Streaming(open_dataset(str(tmp_path), batch_rows=128)), Settings())
    assert [f.check for f in report.findings if f.severity > 1] == ["hard-predictions"]
    assert report.metrics.values["accuracy"] == skm.accuracy_score(y, predicted)


def test_a_table_of_logits_complements_to_the_negated_logits():
    z = np.array([50.0, 40.0, 40.0, -3.0, 70.0, 38.0])
    hits = np.array([True, False, True, False, True, False])
    flipped = complement(tabulate(z, hits, squash=True))
    assert flipped.squash
    assert rank(flipped).roc_auc == pytest.approx(skm.roc_auc_score(~hits, -z))
    assert rank(flipped).average_precision == pytest.approx(skm.average_precision_score(~hits, -z))


# --- just above 1 --------------------------------------------------------------------------------


def test_a_float32_score_one_rounding_step_above_1_is_a_probability_clipped_with_an_info():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 200)
    p = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1).astype(np.float32)
    p[0] = np.nextafter(np.float32(1), np.float32(2))
    report = lossdoctor.diagnose(y, p)
    assert (report.prediction_kind, report.transform) == ("probabilities", "clip")
    clipped = np.minimum(p, np.float32(1))
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, clipped))
    assert report.metrics.values["log_loss"] == pytest.approx(skm.log_loss(y, clipped), rel=1e-6)
    (info,) = [f for f in report.findings if f.check == "logits-vs-probabilities"]
    assert info.severity == lossdoctor.Severity.INFO
    assert info.evidence["tolerance"] == 1e-6 and info.evidence["max"] > 1
