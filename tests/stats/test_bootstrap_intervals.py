"""The bootstrap's intervals in a report (F1, MCC, balanced accuracy, average precision, ECE)
against a direct per-row Poisson bootstrap computed with scikit-learn; the macro averages'
conservative intervals; determinism and batches.

Monte Carlo tolerance: a percentile end estimated from R replicates has a standard error of
about sd * sqrt(q (1 - q) / R) / phi(z_q) (q = 0.025: 0.0845 sd at R = 1000, sd the
statistic's bootstrap standard deviation). Ours from 4000 replicates against the reference's
1000: the ends differ by 0.094 sd in standard error, so 0.4 sd is over four of them.
"""

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
)

import lossdoctor
from lossdoctor.metrics import metric_totals, metrics_from
from lossdoctor.metrics.confusion import confusion_scores, stacked_scores
from lossdoctor.stats.intervals import metric_intervals

OURS, REFERENCE, TOLERANCE = 4000, 1000, 0.4


def calibration_error(y: np.ndarray, p: np.ndarray) -> float:
    """scikit-learn's calibration_curve(strategy="quantile") bins, spelled out with their
    counts: np.percentile edges, a score in the bin of the inner edges below it."""
    edges = np.percentile(p, np.linspace(0, 100, 11))
    bins = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(bins, minlength=10)
    gaps = np.bincount(bins, p - y, minlength=10)
    return float(np.abs(gaps).sum() / counts.sum())


def label_metrics(confusion: np.ndarray) -> dict[str, float]:
    """F1 of class 1, balanced accuracy and MCC of a binary confusion [[tn, fp], [fn, tp]],
    by their textbook formulas (held to scikit-learn's below)."""
    (tn, fp), (fn, tp) = confusion
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "f1": 2 * tp / (2 * tp + fp + fn),
        "balanced_accuracy": (tp / (tp + fn) + tn / (tn + fp)) / 2,
        "mcc": (tp * tn - fp * fn) / denominator if denominator else 0.0,
    }


def per_row_bootstrap(y: np.ndarray, p: np.ndarray, replicates: int) -> dict[str, np.ndarray]:
    """Every replicate: each row repeated a Poisson(1) number of times."""
    rng = np.random.default_rng(11)
    predicted = (p >= 0.5).astype(int)
    found: dict[str, list] = {"pr_auc": [], "ece": [], "f1": [], "balanced_accuracy": [], "mcc": []}
    for _ in range(replicates):
        w = rng.poisson(1.0, y.size)
        found["pr_auc"].append(average_precision_score(y, p, sample_weight=w))
        found["ece"].append(calibration_error(np.repeat(y, w), np.repeat(p, w)))
        confusion = np.bincount(2 * y + predicted, weights=w, minlength=4).reshape(2, 2)
        for name, value in label_metrics(confusion).items():
            found[name].append(value)
    return {name: np.array(values) for name, values in found.items()}


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(3)
    y = (rng.random(600) < 0.3).astype(int)
    p = (1 / (1 + np.exp(-(1.4 * y - 0.7 + rng.normal(size=600))))).round(3)  # ties
    return y, p


def test_the_textbook_formulas_are_scikit_learns(binary):
    y, p = binary
    predicted = (p >= 0.5).astype(int)
    w = np.random.default_rng(0).poisson(1.0, y.size)
    confusion = np.bincount(2 * y + predicted, weights=w, minlength=4).reshape(2, 2)
    mine = label_metrics(confusion)
    assert mine["f1"] == pytest.approx(f1_score(y, predicted, sample_weight=w), rel=1e-12)
    assert mine["mcc"] == pytest.approx(matthews_corrcoef(y, predicted, sample_weight=w))
    balanced = balanced_accuracy_score(y, predicted, sample_weight=w)
    assert mine["balanced_accuracy"] == pytest.approx(balanced, rel=1e-12)
    report = lossdoctor.diagnose(y, p)
    assert calibration_error(y, p) == pytest.approx(report.metrics.values["ece"], rel=1e-12)


def test_binary_intervals_agree_with_a_per_row_bootstrap(binary):
    y, p = binary
    ci = lossdoctor.diagnose(y, p, bootstrap=OURS, seed=5).metrics_ci
    reference = per_row_bootstrap(y, p, REFERENCE)
    for name, values in reference.items():
        want = np.percentile(values, [2.5, 97.5])
        spread = values.std(ddof=1)
        assert np.abs(np.array(ci[name]) - want).max() < TOLERANCE * spread, name


def test_the_same_seed_gives_the_same_intervals_and_another_seed_others(binary):
    y, p = binary
    first, again, other = (lossdoctor.diagnose(y, p, seed=seed).metrics_ci for seed in (1, 1, 2))
    assert first == again
    for name in ("f1", "mcc", "pr_auc", "ece"):
        assert first[name] != other[name]


def test_stacked_scores_are_confusion_scores_replicate_by_replicate():
    rng = np.random.default_rng(1)
    stack = rng.poisson(3.0, (200, 4, 4)).astype(float)
    stack[0] = 0  # no rows
    stack[1, 2] = 0  # a class absent from y
    stack[2, :, 3] = 0  # a class never predicted
    got = stacked_scores(stack)
    assert all(np.isnan(got[name][0]) for name in ("accuracy", "mcc", "f1_macro"))
    for r in range(1, stack.shape[0]):
        want, (_, _, f1, _) = confusion_scores(stack[r])
        for name, value in want.items():
            assert got[name][r] == pytest.approx(value, rel=1e-12, abs=1e-15), (name, r)
        np.testing.assert_allclose(got["f1"][r], f1, rtol=1e-12)


def test_coarse_cells_stay_within_their_bound_of_the_exact_bootstrap(monkeypatch):
    rng = np.random.default_rng(8)
    n = 20_000
    y = (rng.random(n) < 0.4).astype(int)
    p = 1 / (1 + np.exp(-(1.2 * y - 0.5 + rng.normal(size=n))))
    coarse, bounds = metric_intervals(*_totals_and_metrics(y, p), 0.95, 1000, 3)
    monkeypatch.setattr("lossdoctor.stats.intervals.BOOTSTRAP_DRAWS", 1000 * 2 * n)
    exact, exact_bounds = metric_intervals(*_totals_and_metrics(y, p), 0.95, 1000, 3)
    assert not exact_bounds  # every score its own cell
    values = metrics_from(metric_totals("binary", y, p)).values
    for name in ("pr_auc", "ece"):
        assert 0 < bounds[name] < 0.1, name  # a worst case: the ends move far less
        width = exact[name][1] - exact[name][0]
        low, high = coarse[name]
        assert low < values[name] < high
        # a Monte Carlo tolerance of a fifth of the width on top of the stated bound
        assert np.abs(np.subtract(coarse[name], exact[name])).max() < bounds[name] + width / 5


def _totals_and_metrics(y, p):
    totals = metric_totals("binary", y, p)
    return totals, metrics_from(totals)


def test_multiclass_macro_intervals_are_conservative():
    """The macro ROC-AUC's half-width is the classes' mean DeLong standard error times z, and
    a per-row bootstrap of the macro values falls within both macro intervals."""
    rng = np.random.default_rng(4)
    n, k = 500, 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    report = lossdoctor.diagnose(y, proba)
    ci, values = report.metrics_ci, report.metrics.values
    for name in ("roc_auc", "pr_auc", "f1_macro", "mcc", "balanced_accuracy", "ece"):
        low, high = ci[name]
        assert low < values[name] < high, name
    halves = [(ci[f"roc_auc[{c}]"][1] - ci[f"roc_auc[{c}]"][0]) / 2 for c in range(k)]
    assert (ci["roc_auc"][1] - ci["roc_auc"][0]) / 2 == pytest.approx(np.mean(halves))
    assert not any(name.startswith("pr_auc[") for name in ci)  # they make the macro's only
    from sklearn.metrics import roc_auc_score

    draws = np.random.default_rng(2)
    macro_auc, macro_ap = [], []
    onehot = np.eye(k)[y]
    for _ in range(300):
        w = draws.poisson(1.0, n)
        macro_auc.append(roc_auc_score(y, proba, multi_class="ovr", sample_weight=w))
        macro_ap.append(average_precision_score(onehot, proba, sample_weight=w))
    for name, replicate_values in (("roc_auc", macro_auc), ("pr_auc", macro_ap)):
        sd = np.std(replicate_values, ddof=1)
        exact_width = 2 * 1.96 * sd
        assert ci[name][1] - ci[name][0] >= 0.9 * exact_width, name


def test_weighted_rows_have_no_interval(binary):
    y, p = binary
    report = lossdoctor.diagnose(y, p, sample_weight=np.full(y.size, 2.0))
    assert report.metrics_ci == {}


def test_no_replicates_no_bootstrap_interval(binary):
    y, p = binary
    ci = lossdoctor.diagnose(y, p, bootstrap=0).metrics_ci
    assert "roc_auc" in ci and "accuracy" in ci
    assert not {"f1", "mcc", "pr_auc", "ece", "balanced_accuracy"} & set(ci)
