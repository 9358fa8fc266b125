"""metrics_ci in a report: each interval against scipy, statsmodels or the direct DeLong."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats
from sklearn.metrics import accuracy_score, log_loss, precision_score, recall_score
from statsmodels.stats.proportion import proportion_confint

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.metrics import METRIC_NAMES, metric_totals, metrics_from
from lossdoctor.stats.distributions import normal_critical
from lossdoctor.stats.intervals import metric_intervals
from tests.stats.test_delong import direct_variance


def t_reference(per_row: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    return stats.t.interval(
        confidence, per_row.size - 1, loc=per_row.mean(), scale=stats.sem(per_row)
    )


def delong_reference(y, scores, confidence: float = 0.95) -> tuple[float, float]:
    auc, variance = direct_variance(y, scores)
    half = normal_critical(confidence) * np.sqrt(variance)
    return max(auc - half, 0.0), min(auc + half, 1.0)


def wilson(successes, trials, confidence=0.95):
    return proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")


@pytest.fixture
def binary():
    rng = np.random.default_rng(3)
    y = (rng.random(700) < 0.3).astype(int)
    p = (1 / (1 + np.exp(-(1.4 * y - 0.7 + rng.normal(size=700))))).round(3)  # ties
    return y, p


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_binary_intervals_equal_their_references(binary, confidence):
    y, p = binary
    ci = lossdoctor.diagnose(y, p, confidence=confidence).to_dict()["metrics_ci"]
    keras = ("categorical_accuracy", "binary_accuracy")  # not binary metrics
    assert list(ci) == [name for name in METRIC_NAMES if name not in keras]
    losses = -np.log(np.where(y == 1, p, 1 - p))
    assert losses.mean() == pytest.approx(log_loss(y, p), rel=1e-12)
    np.testing.assert_allclose(ci["log_loss"], t_reference(losses, confidence), rtol=1e-10)
    np.testing.assert_allclose(ci["brier"], t_reference((p - y) ** 2, confidence), rtol=1e-10)
    predicted = (p >= 0.5).astype(int)
    tp = int(np.sum((predicted == 1) & (y == 1)))
    assert tp / predicted.sum() == pytest.approx(precision_score(y, predicted))
    assert tp / y.sum() == pytest.approx(recall_score(y, predicted))
    hits = accuracy_score(y, predicted, normalize=False)
    for name, counts in {
        "accuracy": (hits, y.size),
        "precision": (tp, int(predicted.sum())),
        "recall": (tp, int(y.sum())),
    }.items():
        np.testing.assert_allclose(ci[name], wilson(*counts, confidence), rtol=1e-12)
    np.testing.assert_allclose(ci["roc_auc"], delong_reference(y, p, confidence), rtol=1e-10)


def test_multiclass_intervals_are_one_vs_rest_delong_accuracy_and_log_loss():
    rng = np.random.default_rng(4)
    n, k = 400, 4
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    report = lossdoctor.diagnose(y, proba).to_dict()
    ci = report["metrics_ci"]
    assert ci["categorical_accuracy"] == ci["accuracy"]
    losses = -np.log(proba[np.arange(n), y])
    np.testing.assert_allclose(ci["log_loss"], t_reference(losses), rtol=1e-10)
    hits = int(np.sum(proba.argmax(axis=1) == y))
    np.testing.assert_allclose(ci["accuracy"], wilson(hits, n), rtol=1e-12)
    brier_rows = ((np.eye(k)[y] - proba) ** 2).sum(axis=1)
    assert brier_rows.mean() == pytest.approx(report["metrics"]["brier"], rel=1e-12)
    np.testing.assert_allclose(ci["brier"], t_reference(brier_rows), rtol=1e-10)
    for c in range(k):
        reference = delong_reference((y == c).astype(int), proba[:, c])
        np.testing.assert_allclose(ci[f"roc_auc[{c}]"], reference, rtol=1e-10)


def test_multilabel_intervals_take_a_row_as_the_unit():
    rng = np.random.default_rng(5)
    y = rng.random((300, 3)) < 0.4
    proba = np.clip(0.5 * y + 0.5 * rng.random((300, 3)), 0.01, 0.99)
    ci = lossdoctor.diagnose(y.astype(int), proba, task="multilabel").to_dict()["metrics_ci"]
    per_row = (-np.log(np.where(y, proba, 1 - proba))).mean(axis=1)
    np.testing.assert_allclose(ci["log_loss"], t_reference(per_row), rtol=1e-10)
    exact = int(np.all((proba >= 0.5) == y, axis=1).sum())
    np.testing.assert_allclose(ci["accuracy"], wilson(exact, 300), rtol=1e-12)
    for c in range(3):
        reference = delong_reference(y[:, c].astype(int), proba[:, c])
        np.testing.assert_allclose(ci[f"roc_auc[{c}]"], reference, rtol=1e-10)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_merged_batches_give_the_whole_files_intervals(task):
    rng = np.random.default_rng(6)
    n = 900
    if task == "binary":
        y = rng.integers(0, 2, n)
        proba = (0.3 * y + 0.7 * rng.random(n)).astype(np.float32)
    elif task == "multiclass":
        y = rng.integers(0, 3, n)
        proba = rng.dirichlet([1, 1, 1], n) * 0.5 + 0.5 * np.eye(3)[y]
    else:
        y = rng.random((n, 3)) < 0.5
        proba = 0.4 * y + 0.6 * rng.random((n, 3))
    whole = metric_totals(task, y, proba)
    merged = metric_totals(task, y[:10], proba[:10])
    for start in range(10, n, 211):
        merged = merged.merge(
            metric_totals(task, y[start : start + 211], proba[start : start + 211])
        )
    want, _ = metric_intervals(whole, metrics_from(whole))
    got, _ = metric_intervals(merged, metrics_from(merged))
    assert want.keys() == got.keys() and "pr_auc" in want
    bootstrapped = {"balanced_accuracy", "f1", "f1_macro", "mcc", "pr_auc", "ece"}
    for name in want:
        if name.split("[")[0] in bootstrapped:  # the same counts draw the same replicates
            assert got[name] == want[name], name
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12)


def test_a_class_with_one_row_has_no_auc_interval():
    y = np.array([0, 0, 0, 0, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.9])
    ci = lossdoctor.diagnose(y, p).to_dict()["metrics_ci"]
    assert "roc_auc" not in ci and "accuracy" in ci


def test_confidence_from_the_command_line_and_the_config(tmp_path, binary, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    y, p = binary
    path = tmp_path / "preds.parquet"
    pq.write_table(pa.table({"label": y, "prob": p}), path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def ci_of(*args):
        result = runner.invoke(cli, ["check", str(path), "--format", "json", *args])
        assert result.exit_code in (0, 1), result.output
        report = json.loads(result.stdout)
        return report["metrics_ci_level"], report["metrics_ci"]["roc_auc"]

    level, default = ci_of("--no-config")
    assert level == 0.95
    np.testing.assert_allclose(default, delong_reference(y, p, 0.95), rtol=1e-10)
    level, narrow = ci_of("--confidence", "0.5", "--no-config")
    assert level == 0.5 and default[0] < narrow[0] < narrow[1] < default[1]
    (tmp_path / "lossdoctor.toml").write_text("confidence = 0.9\n")
    assert ci_of()[0] == 0.9
    assert ci_of("--confidence", "0.99")[0] == 0.99
    for bad in ("0", "1", "x"):
        result = runner.invoke(cli, ["check", str(path), "--confidence", bad, "--no-config"])
        assert result.exit_code == 2 and "--confidence" in result.output
    (tmp_path / "lossdoctor.toml").write_text("confidence = 1.5\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2 and "confidence" in result.output


def test_the_api_refuses_a_confidence_outside_zero_one(binary):
    with pytest.raises(lossdoctor.InputError, match="confidence"):
        lossdoctor.diagnose(*binary, confidence=1.0)


def test_intervals_off_a_grid_are_within_their_bound_of_the_exact_ones():
    from lossdoctor.engines.local import InMemory
    from lossdoctor.io import from_arrays
    from lossdoctor.pipeline import diagnose
    from lossdoctor.settings import Settings

    rng = np.random.default_rng(7)
    y = (rng.random(20_000) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-(1.2 * y - 0.5 + rng.normal(size=y.size))))
    predictions = from_arrays(y, p, source="<array>", format="array")
    exact = diagnose(InMemory(predictions), Settings()).to_dict()
    grid = diagnose(InMemory(predictions, capacity=1000), Settings()).to_dict()
    # the exact tables' only bounds are the bootstrap's coarse cells (tests of the bootstrap)
    assert set(exact["metrics_ci_error_bound"]) == {"pr_auc", "ece"}
    bound = grid["metrics_ci_error_bound"]["roc_auc"]
    assert 0 < bound < 0.01
    ends = zip(grid["metrics_ci"]["roc_auc"], exact["metrics_ci"]["roc_auc"], strict=True)
    for got, want in ends:
        assert abs(got - want) <= bound
    # counts and sums stay exact on a grid: so do their intervals
    for name in ("log_loss", "accuracy", "precision", "recall", "brier"):
        np.testing.assert_allclose(grid["metrics_ci"][name], exact["metrics_ci"][name], rtol=1e-12)


def test_logits_give_the_interval_of_their_own_log_loss():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 500)
    z = 4 * (y - 0.5) + 3 * rng.normal(size=500)
    ci = lossdoctor.diagnose(y, z, from_logits=True).to_dict()["metrics_ci"]
    per_row = np.logaddexp(0, np.where(y == 1, -z, z))
    np.testing.assert_allclose(ci["log_loss"], t_reference(per_row), rtol=1e-10)


def test_class_labels_saved_as_scores_have_label_intervals_only():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 400)
    predicted = np.where(rng.random(400) < 0.8, y, 1 - y)
    report = lossdoctor.diagnose(y, predicted.astype(float)).to_dict()
    if report["prediction_kind"] != "class predictions":
        pytest.skip(f"read as {report['prediction_kind']}")
    label_metrics = {"accuracy", "precision", "recall", "balanced_accuracy", "f1", "f1_macro"}
    assert set(report["metrics_ci"]) == {*label_metrics, "mcc"}


@pytest.mark.parametrize("classes", [32, 33])
def test_the_label_metrics_bootstrap_stops_where_the_confusion_outgrows_the_draws(classes):
    """A K x K confusion is K**2 draws a replicate: 32 classes fit a million draws at 1000
    replicates, 33 do not (and a thousand classes must not take a minute)."""
    rng = np.random.default_rng(3)
    y = np.arange(2000) % classes
    p = rng.dirichlet(np.ones(classes), 2000)
    p[np.arange(2000), y] += 1.0
    p /= p.sum(axis=1, keepdims=True)
    intervals = lossdoctor.diagnose(y, p).metrics_ci
    label_metrics = {"balanced_accuracy", "f1_macro", "mcc"}
    if classes == 32:
        assert label_metrics <= set(intervals)
    else:
        assert label_metrics.isdisjoint(intervals)
    assert "accuracy" in intervals  # Wilson's, whatever the classes
