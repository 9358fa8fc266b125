"""Every p-value and interval of a comparison against an independent reference: R's pROC, a
direct O(n^2) DeLong, statsmodels' exact McNemar, scipy's ttest_rel, scikit-learn's metrics
under the same bootstrap weights."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    matthews_corrcoef,
)
from statsmodels.stats.contingency_tables import mcnemar

import lossdoctor
from lossdoctor.stats.bootstrap import cell_replicates, poisson_weights
from lossdoctor.stats.distributions import normal_critical
from tests.comparison.helpers import multiclass_models, two_models, write

PROC = json.loads((Path(__file__).parent.parent / "reference" / "proc_reference.json").read_text())


def compared(tmp_path, y, baseline, candidate, **options):
    first = write(tmp_path / "baseline.parquet", y, baseline)
    second = write(tmp_path / "candidate.parquet", y, candidate)
    return lossdoctor.compare(first, second, **options).to_dict()


@pytest.mark.parametrize("case", PROC["cases"], ids=lambda case: case["name"])
def test_roc_auc_difference_equals_procs_roc_test(tmp_path, case):
    # roc.test(roc_candidate, roc_baseline): first is the candidate, second the baseline
    y = np.array(case["y"], dtype=int)
    result = compared(
        tmp_path,
        y,
        np.array(case["second"]),
        np.array(case["first"]),
        confidence=case["confidence"],
        bootstrap=0,
    )["comparison"]["roc_auc"]
    assert result["candidate"] == pytest.approx(case["auc"], abs=1e-12)
    assert result["p_value"] == pytest.approx(case["paired_p"], rel=1e-9, abs=1e-15)
    assert result["ci"] == pytest.approx(case["paired_ci"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", PROC["one_vs_rest"], ids=lambda case: case["name"])
def test_each_class_against_the_rest_equals_procs_roc_test(tmp_path, case):
    y = np.array(case["y"], dtype=int)
    first, second = np.array(case["first"]), np.array(case["second"])
    result = compared(tmp_path, y, second, first, bootstrap=0)["comparison"]
    for k, expected in enumerate(case["classes"]):
        got = result[f"roc_auc[{k}]"]
        assert got["candidate"] == pytest.approx(expected["auc"], abs=1e-12)
        assert got["p_value"] == pytest.approx(expected["paired_p"], rel=1e-9)
        assert got["ci"] == pytest.approx(expected["paired_ci"], rel=1e-9)


def direct_placements(is_pos: np.ndarray, scores: np.ndarray):
    """V10 and V01 by comparing every positive with every negative: O(n^2)."""
    pos, neg = scores[is_pos], scores[~is_pos]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def direct_delong(is_pos, baseline, candidate):
    """The paired difference and its standard error, straight from DeLong's definitions."""
    v10_a, v01_a = direct_placements(is_pos, baseline)
    v10_b, v01_b = direct_placements(is_pos, candidate)
    d10, d01 = v10_b - v10_a, v01_b - v01_a
    variance = d10.var(ddof=1) / d10.size + d01.var(ddof=1) / d01.size
    return d10.mean(), math.sqrt(variance)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [None, 1])
def test_binary_delong_equals_the_direct_formula(tmp_path, seed, ties):
    y, a, b = two_models(150, seed, gap=0.5, ties=ties)
    result = compared(tmp_path, y, a, b, bootstrap=0)["comparison"]["roc_auc"]
    difference, se = direct_delong(y == 1, a, b)
    z = difference / se
    assert result["difference"] == pytest.approx(difference, abs=1e-12)
    assert result["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    half = normal_critical(0.95) * se
    assert result["ci"] == pytest.approx([difference - half, difference + half], rel=1e-9)


def direct_macro(y, baseline, candidate, k):
    """Per class one-vs-rest DeLong, and the macro difference's standard error from each row's
    summed influence over the classes, computed row by row from O(n^2) placements."""
    n = len(y)
    psi = np.zeros(n)
    per_class = []
    for c in range(k):
        is_pos = y == c
        v10_a, v01_a = direct_placements(is_pos, baseline[:, c])
        v10_b, v01_b = direct_placements(is_pos, candidate[:, c])
        d10, d01 = v10_b - v10_a, v01_b - v01_a
        delta = d10.mean()
        n1, n0 = d10.size, d01.size
        per_class.append((delta, math.sqrt(d10.var(ddof=1) / n1 + d01.var(ddof=1) / n0)))
        psi[is_pos] += (d10 - delta) / math.sqrt(n1 * (n1 - 1))
        psi[~is_pos] += (d01 - delta) / math.sqrt(n0 * (n0 - 1))
    psi /= k
    return per_class, float(np.mean([d for d, _ in per_class])), math.sqrt(float(psi @ psi))


@pytest.mark.parametrize("k", range(3, 11))
def test_multiclass_delong_per_class_and_macro(tmp_path, k):
    y, a, b = multiclass_models(60 * k, k, seed=k)
    result = compared(tmp_path, y, a, b, bootstrap=0)["comparison"]
    per_class, macro, macro_se = direct_macro(y, a, b, k)
    for c, (difference, se) in enumerate(per_class):
        got = result[f"roc_auc[{c}]"]
        assert got["difference"] == pytest.approx(difference, abs=1e-12)
        assert got["p_value"] == pytest.approx(2 * stats.norm.sf(abs(difference / se)), rel=1e-9)
    got = result["roc_auc"]
    assert got["difference"] == pytest.approx(macro, abs=1e-12)
    half = normal_critical(0.95) * macro_se
    assert got["ci"] == pytest.approx([macro - half, macro + half], rel=1e-9)
    assert got["p_value"] == pytest.approx(2 * stats.norm.sf(abs(macro / macro_se)), rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_accuracy_is_mcnemars_exact_test(tmp_path, seed):
    y, a, b = two_models(300, seed, gap=0.4)
    result = compared(tmp_path, y, a, b, bootstrap=0)["comparison"]["accuracy"]
    right_a, right_b = (a >= 0.5) == y, (b >= 0.5) == y
    table = [
        [np.sum(right_a & right_b), np.sum(right_a & ~right_b)],
        [np.sum(~right_a & right_b), np.sum(~right_a & ~right_b)],
    ]
    assert result["p_value"] == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-10)
    assert result["difference"] == pytest.approx(right_b.mean() - right_a.mean(), abs=1e-15)


@pytest.mark.parametrize("k", [2, 3, 6])
def test_log_loss_and_brier_are_scipys_paired_t_test(tmp_path, k):
    if k == 2:
        y, a, b = two_models(400, k, gap=0.3)
        losses = [-np.log(np.where(y == 1, p, 1 - p)) for p in (a, b)]
        squares = [(y - p) ** 2 for p in (a, b)]
    else:
        y, a, b = multiclass_models(400, k, seed=k)
        losses = [-np.log(p[np.arange(len(y)), y]) for p in (a, b)]
        onehot = np.eye(k)[y]
        squares = [((onehot - p) ** 2).sum(axis=1) for p in (a, b)]
    result = compared(tmp_path, y, a, b, bootstrap=0)["comparison"]
    for name, (first, second) in (("log_loss", losses), ("brier", squares)):
        reference = stats.ttest_rel(second, first)
        assert result[name]["p_value"] == pytest.approx(reference.pvalue, rel=1e-8), name
        interval = reference.confidence_interval(0.95)
        assert result[name]["ci"] == pytest.approx([interval.low, interval.high], rel=1e-8)


BOOTSTRAPPED = {
    "f1": f1_score,
    "mcc": matthews_corrcoef,
    "balanced_accuracy": balanced_accuracy_score,
}


def cell_table(y, pred_a, pred_b):
    """One row per joint cell (true class, each model's prediction) and its row count."""
    cells, counts = np.unique(np.stack([y, pred_a, pred_b]), axis=1, return_counts=True)
    return cells, counts


def test_bootstrap_replicates_are_sklearns_metrics_on_resampled_cells(tmp_path):
    y, a, b = two_models(250, 3, gap=0.4)
    replicates, seed = 60, 7
    result = compared(tmp_path, y, a, b, bootstrap=replicates, seed=seed)["comparison"]
    (cy, ca, cb), counts = cell_table(y, (a >= 0.5).astype(int), (b >= 0.5).astype(int))
    # the draws: one Poisson(count) per cell and replicate, over the 8 cells of K = 2
    full = np.zeros((2, 2, 2))
    full[cy, ca, cb] = counts
    drawn = cell_replicates(full, replicates, seed)[:, cy, ca, cb]
    for name, metric in BOOTSTRAPPED.items():
        differences = np.array(
            [metric(cy, cb, sample_weight=w) - metric(cy, ca, sample_weight=w) for w in drawn]
        )
        low, high = np.percentile(differences, [2.5, 97.5])
        assert result[name]["ci"] == pytest.approx([low, high], abs=1e-12), name
        far = min(np.sum(differences <= 0), np.sum(differences >= 0))
        assert result[name]["p_value"] == pytest.approx(min(1, 2 * (far + 1) / (replicates + 1)))


def binary_label_metrics(y, pred, weights):
    """F1, MCC and balanced accuracy of each row of `weights` (replicates x rows), from its
    weighted confusion counts: the formulas scikit-learn's functions compute."""
    tp, fp, fn, tn = (
        weights @ ((y == t) & (pred == p)).astype(float)
        for t, p in ((1, 1), (0, 1), (1, 0), (0, 0))
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        product = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        mcc = np.where(product > 0, (tp * tn - fp * fn) / np.sqrt(product), 0.0)
        return {
            "f1": 2 * tp / (2 * tp + fp + fn),
            "mcc": mcc,
            "balanced_accuracy": (tp / (tp + fn) + tn / (tn + fp)) / 2,
        }


def test_resampled_cells_match_a_row_by_row_poisson_bootstrap(tmp_path):
    """The cells' Poisson(count) draws are the rows' Poisson(1) weights summed: the intervals
    agree with a bootstrap that weighs every row (within the replicates' own noise)."""
    y, a, b = two_models(600, 4, gap=0.3)
    result = compared(tmp_path, y, a, b, bootstrap=2000, seed=1)["comparison"]
    pred_a, pred_b = (a >= 0.5).astype(int), (b >= 0.5).astype(int)
    weights = poisson_weights(np.arange(len(y)), np.arange(2000)[:, None], 11).astype(float)
    first, second = (binary_label_metrics(y, pred, weights) for pred in (pred_a, pred_b))
    for name, metric in BOOTSTRAPPED.items():
        # the formulas are scikit-learn's metric under the same weights (a few replicates each)
        for w, got_a, got_b in zip(weights[:25], first[name][:25], second[name][:25], strict=True):
            assert got_a == pytest.approx(metric(y, pred_a, sample_weight=w), abs=1e-12)
            assert got_b == pytest.approx(metric(y, pred_b, sample_weight=w), abs=1e-12)
        low, high = np.percentile(second[name] - first[name], [2.5, 97.5])
        width = high - low
        got = result[name]["ci"]
        assert abs(got[0] - low) < 0.1 * width and abs(got[1] - high) < 0.1 * width, name


def test_weighted_rows_take_the_bootstrap_for_losses(tmp_path):
    y, a, b = two_models(200, 5, gap=0.4)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    first = write(tmp_path / "a.parquet", y, a, sample_weight=weights)
    second = write(tmp_path / "b.parquet", y, b, sample_weight=weights)
    result = lossdoctor.compare(first, second, bootstrap=40, seed=3).to_dict()["comparison"]
    assert "roc_auc" not in result  # DeLong's test counts rows: not for weighted rows
    differences = {"log_loss": [], "brier": [], "accuracy": []}
    for r in range(40):
        w = weights * poisson_weights(np.arange(len(y)), r, 3)
        differences["log_loss"].append(
            log_loss(y, b, sample_weight=w) - log_loss(y, a, sample_weight=w)
        )
        differences["brier"].append(
            brier_score_loss(y, b, sample_weight=w) - brier_score_loss(y, a, sample_weight=w)
        )
        differences["accuracy"].append(
            np.average((b >= 0.5) == y, weights=w) - np.average((a >= 0.5) == y, weights=w)
        )
    for name, values in differences.items():
        assert result[name]["test"] == "paired bootstrap"
        low, high = np.percentile(values, [2.5, 97.5])
        assert result[name]["ci"] == pytest.approx([low, high], rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("k", [2, 4])
def test_identical_predictions_differ_by_nothing(tmp_path, k):
    if k == 2:
        y, a, _ = two_models(120, 1)
    else:
        y, a, _ = multiclass_models(120, k)
    result = compared(tmp_path, y, a, a, bootstrap=50)
    assert result["exit_code"] == 0 or result["candidates"][0]["exit_code"] == 1
    for name, row in result["comparison"].items():
        assert row["difference"] == 0, name
        assert row["p_value"] == 1, name
        assert row["ci"] == [0, 0], name
        assert row["verdict"] == "no detectable difference"
    assert not [f for f in result["findings"] if f["check"] in ("regression", "improvement")]


def test_holm_over_the_headline_metrics_as_statsmodels(tmp_path):
    from statsmodels.stats.multitest import multipletests

    y, a, b = multiclass_models(300, 4, seed=9)
    result = compared(tmp_path, y, a, b, bootstrap=200)["comparison"]
    headline = [name for name in result if "[" not in name]
    _, adjusted, _, _ = multipletests([result[n]["p_value"] for n in headline], method="holm")
    for name, p in zip(headline, adjusted, strict=True):
        assert result[name]["p_adjusted"] == pytest.approx(p, rel=1e-12), name
    for name in result:
        if "[" in name:  # per class: shown, not in the family
            assert result[name]["p_adjusted"] == result[name]["p_value"]


def test_the_smallest_detectable_difference_is_two_standard_errors_and_a_bit(tmp_path):
    y, a, b = two_models(400, 6, gap=0.1)
    result = compared(tmp_path, y, a, b, bootstrap=0, alpha=0.05)["comparison"]
    losses = [-np.log(np.where(y == 1, p, 1 - p)) for p in (a, b)]
    se = stats.sem(losses[1] - losses[0])
    expected = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se
    assert result["log_loss"]["detectable_difference"] == pytest.approx(expected, rel=1e-9)


def test_a_significantly_better_candidate_is_an_improvement_and_worse_a_regression(tmp_path):
    y, strong, weak = two_models(800, 2, gap=0.8)
    worse = compared(tmp_path, y, strong, weak, bootstrap=200)
    better = compared(tmp_path, y, weak, strong, bootstrap=200)
    for name in ("roc_auc", "accuracy", "log_loss", "brier"):
        assert worse["comparison"][name]["verdict"] == "regression", name
        assert better["comparison"][name]["verdict"] == "improvement", name
    assert worse["exit_code"] == 1
    assert {f["severity"] for f in better["findings"] if f["check"] == "improvement"} == {"info"}


def calibration_error(y: np.ndarray, p: np.ndarray) -> float:
    """scikit-learn's calibration_curve(strategy="quantile") bins, with their counts."""
    edges = np.percentile(p, np.linspace(0, 100, 11))
    bins = np.searchsorted(edges[1:-1], p)
    return float(np.abs(np.bincount(bins, p - y, minlength=10)).sum() / p.size)


@pytest.mark.parametrize("k", [2, 3])
def test_average_precision_and_ece_match_a_row_by_row_paired_bootstrap(tmp_path, k):
    """Monte Carlo tolerance: a 2.5 % percentile from R replicates has a standard error of
    about 0.0845 sd sqrt(1000 / R) (sd: the difference's bootstrap spread); ours from 2000
    against the reference's 600 differ by 0.124 sd in standard error: half an sd is four."""
    from sklearn.metrics import average_precision_score

    if k == 2:
        y, a, b = two_models(400, 8, gap=0.4, ties=2)
        scores = {"baseline": a, "candidate": b}
        confidence = {name: (p, y) for name, p in scores.items()}
    else:
        y, a, b = multiclass_models(400, k, seed=8)
        confidence = {
            name: (p.max(axis=1), (p.argmax(axis=1) == y).astype(int))
            for name, p in (("baseline", a), ("candidate", b))
        }
    result = compared(tmp_path, y, a, b, bootstrap=2000, seed=2)["comparison"]
    rng = np.random.default_rng(5)
    differences = {"pr_auc": [], "ece": []}
    for _ in range(600):
        w = rng.poisson(1.0, y.size)
        ece = [
            calibration_error(np.repeat(hit, w), np.repeat(p, w)) for p, hit in confidence.values()
        ]
        differences["ece"].append(ece[1] - ece[0])
        if k == 2:
            ap = [average_precision_score(y, p, sample_weight=w) for p in (a, b)]
            differences["pr_auc"].append(ap[1] - ap[0])
    assert ("pr_auc" in result) == (k == 2)  # a macro average: not joint over classes
    for name, values in differences.items():
        if not values:
            continue
        row = result[name]
        assert row["test"] == "paired bootstrap"
        want = np.percentile(values, [2.5, 97.5])
        assert np.abs(np.subtract(row["ci"], want)).max() < 0.5 * np.std(values, ddof=1), name


def test_past_the_capacity_or_the_draws_average_precision_and_ece_go_untested(
    tmp_path, monkeypatch
):
    from lossdoctor.comparison import cells, verdicts

    y, a, b = two_models(1500, 11, gap=0.3)
    tested = compared(tmp_path, y, a, b, bootstrap=200)["comparison"]
    assert {"pr_auc", "ece"} <= tested.keys()
    monkeypatch.setattr(cells, "CAPACITY", 1000)  # 1,500 distinct cells: past it
    untested = compared(tmp_path, y, a, b, bootstrap=200)["comparison"]
    assert not {"pr_auc", "ece"} & untested.keys()
    assert untested["f1"]["ci"] == tested["f1"]["ci"]  # (Holm's family is smaller)
    monkeypatch.undo()
    monkeypatch.setattr(verdicts, "PAIRED_DRAWS", 200 * 1000)  # draws for 1,000 cells only
    assert not {"pr_auc", "ece"} & compared(tmp_path, y, a, b, bootstrap=200)["comparison"].keys()
