"""From the merged paired summaries to one test per metric, Holm's correction and a verdict.

Each metric's difference is the candidate's value less the baseline's, both as `check` reports
them. ROC-AUC: DeLong's paired test (per class one-vs-rest, and their macro average);
accuracy: McNemar's exact test on the discordant pairs; log loss and Brier: the paired t-test
of the per-row differences; F1, MCC and balanced accuracy: the paired Poisson bootstrap of
the joint confusion's occurring cells (comparison.labels), untested where their draws would
pass PAIRED_DRAWS; average precision (binary) and ECE: the paired Poisson bootstrap of the
rows by both models' scores (comparison.cells), exact; untested past its capacity or where
the draws would pass PAIRED_DRAWS. The macro average
precision of several classes is not tested: the per-class tables are not joint. With sample
weights, accuracy, log loss and Brier take the bootstrap too (the exact tests count rows), F1,
MCC and balanced accuracy while each replicate's joint confusion fits summary.WEIGHTED_CELLS,
and ROC-AUC, average precision and ECE are not tested. The smallest detectable difference is the
one a two-sided test at alpha would detect with 80 % power: (z(1 - alpha/2) + z(0.8))
standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from lossdoctor.metrics import Metrics
from lossdoctor.metrics.confusion import count_scores, stacked_scores
from lossdoctor.settings import DEFAULTS
from lossdoctor.stats import Interval
from lossdoctor.stats.bootstrap import cell_replicates, percentile_interval
from lossdoctor.stats.distributions import normal_critical, normal_two_sided
from lossdoctor.stats.means import Moments, paired_t_test
from lossdoctor.stats.multiple import holm
from lossdoctor.stats.proportions import mcnemar_exact
from lossdoctor.stats.replicates import Cells, average_precision, calibration_error

from .cells import JointCells
from .labels import replicate_counts
from .summary import PairedSummary, PlacementSums

DEFAULT_ALPHA = DEFAULTS.alpha
POWER = 0.8
# Poisson draws a paired bootstrap of joint cells may take (about half a second to a second):
# occurring cells up to PAIRED_DRAWS / replicates of them (8,192 at 1000 replicates).
PAIRED_DRAWS = 1 << 23
# Metrics a lower value of which is better; every other compared metric is better higher.
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece"})
REGRESSION, IMPROVEMENT, NO_DIFFERENCE = "regression", "improvement", "no detectable difference"
DELONG = "DeLong paired"
MCNEMAR = "McNemar exact"
PAIRED_T = "paired t"
BOOTSTRAP = "paired bootstrap"


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    baseline: float
    candidate: float
    difference: float  # candidate - baseline
    ci: Interval
    p_value: float
    test: str
    standard_error: float
    p_adjusted: float = math.nan  # Holm's, over the metrics compared
    verdict: str = NO_DIFFERENCE
    detectable: float = math.nan  # the smallest difference this sample could detect

    @property
    def worse(self) -> bool:
        return (self.difference > 0) == (self.metric.split("[")[0] in LOWER_IS_BETTER)


def compare_metrics(
    first: Metrics,
    second: Metrics,
    summary: PairedSummary,
    placements: PlacementSums | None,
    confidence: float,
    alpha: float,
    weighted: bool,
    bootstrap: tuple[int, int] = (0, 0),
) -> list[MetricComparison]:
    """One comparison per metric both reports define, tested, Holm-corrected, with verdicts;
    per-class ROC-AUCs are shown but not in the corrected family (their macro average is).
    `bootstrap`: the replicates and the seed."""
    values_a, values_b = first.values, second.values
    found: list[MetricComparison] = []

    def add(metric: str, interval: Interval, p_value: float, test: str, se: float) -> None:
        a, b = values_a.get(metric), values_b.get(metric)
        if a is None or b is None or not math.isfinite(p_value):
            return
        found.append(MetricComparison(metric, a, b, b - a, interval, p_value, test, se))

    if not weighted and placements is not None:
        for name, test in _delong(summary, placements):
            difference, se = test
            z = 0.0 if se == 0 and difference == 0 else difference / se if se else math.inf
            half = normal_critical(confidence) * se
            p_value = normal_two_sided(z) if math.isfinite(z) else 0.0
            interval = Interval(difference - half, difference + half)
            if "[" not in name:
                add(name, interval, p_value, DELONG, se)
            else:
                a, b = _class_auc(first, name), _class_auc(second, name)
                if a is not None and b is not None:
                    found.append(MetricComparison(name, a, b, b - a, interval, p_value, DELONG, se))
    replicates = _replicate_values(summary, *bootstrap)
    exact = {} if weighted else _exact_tests(summary, confidence)
    scored = {}
    if summary.scored is not None and bootstrap[0]:
        scored = _scored_replicates(summary.scored, summary.tables, values_a, values_b, *bootstrap)
    for metric in (
        "accuracy",
        "log_loss",
        "brier",
        "balanced_accuracy",
        "f1",
        "f1_macro",
        "mcc",
        "pr_auc",
        "ece",
    ):
        if metric in exact:
            add(metric, *exact[metric])
        elif metric in replicates:
            add(metric, *_bootstrap_test(replicates[metric], confidence))
        elif metric in scored:
            add(metric, *_bootstrap_test(scored[metric], confidence))
    return _verdicts(found, alpha)


def _class_auc(metrics: Metrics, name: str) -> float | None:
    index = int(name[name.index("[") + 1 : -1])
    return next((c.roc_auc for c in metrics.per_class if c.index == index), None)


def _delong(summary: PairedSummary, placements: PlacementSums):
    """(name, (difference, standard error)) of ROC-AUC: binary, or each class and the macro."""
    tables = summary.tables
    per_class = []
    for k, ((a, _), pos, neg) in enumerate(
        zip(tables, placements.positives, placements.negatives, strict=True)
    ):
        if a.hits < 2 or a.misses < 2:
            continue
        variance = _sample_variance(pos) / pos.count + _sample_variance(neg) / neg.count
        per_class.append((k, pos.mean, math.sqrt(max(variance, 0.0))))
    if len(tables) == 1:
        return [("roc_auc", (d, se)) for _, d, se in per_class]
    found = [(f"roc_auc[{k}]", (d, se)) for k, d, se in per_class]
    if len(per_class) == len(tables):
        macro = float(np.mean([d for _, d, _ in per_class]))
        found.insert(0, ("roc_auc", (macro, math.sqrt(placements.macro_squares))))
    return found


def _sample_variance(moments: Moments) -> float:
    return moments.squares / (moments.count - 1)


def _exact_tests(summary: PairedSummary, confidence: float) -> dict[str, tuple]:
    """McNemar's test of accuracy and the paired t-tests of the losses."""
    found = {}
    n = summary.rows
    b, c = summary.only_baseline, summary.only_candidate
    difference = (c - b) / n
    se = math.sqrt(max((b + c) - (c - b) ** 2 / n, 0.0)) / n
    half = normal_critical(confidence) * se
    found["accuracy"] = (
        Interval(difference - half, difference + half),
        mcnemar_exact(b, c),
        MCNEMAR,
        se,
    )
    for metric, moments in (("log_loss", summary.loss), ("brier", summary.brier)):
        if moments.count >= 2 and math.isfinite(moments.squares):
            test = paired_t_test(moments, confidence)
            se = moments.standard_error
            found[metric] = (test.interval, test.p_value, PAIRED_T, se)
    return found


def _replicate_values(summary: PairedSummary, replicates: int, seed: int) -> dict[str, np.ndarray]:
    """Each bootstrap replicate's difference (candidate - baseline) of each metric."""
    if not replicates:
        return {}
    found = _label_replicates(summary, replicates, seed)
    if summary.totals is not None:
        weights, loss, brier, right_a, right_b = summary.totals.T
        with np.errstate(invalid="ignore", divide="ignore"):
            found["log_loss"], found["brier"] = loss / weights, brier / weights
            found["accuracy"] = (right_b - right_a) / weights
    return found


def _label_replicates(summary: PairedSummary, replicates: int, seed: int) -> dict:
    """The replicates of F1, MCC, balanced accuracy and accuracy; none past the draws (or,
    weighted, past summary.WEIGHTED_CELLS)."""
    if summary.totals is not None:
        if summary.confusions is None:
            return {}
        # joint cells (replicate, true, baseline's, candidate's): each model's confusion
        baseline = stacked_scores(summary.confusions.sum(axis=3))
        candidate = stacked_scores(summary.confusions.sum(axis=2))
    else:
        # a draw per occurring joint cell and replicate: past the draws (cells of every
        # combination of three classes), F1, MCC and balanced accuracy go untested
        cells = summary.joint
        if not cells.counts.size or cells.counts.size * replicates > PAIRED_DRAWS:
            return {}
        support, first, second = replicate_counts(
            cells, cell_replicates(cells.counts, replicates, seed)
        )
        baseline, candidate = (
            count_scores(right, support, predicted) for right, predicted in (first, second)
        )
    names = ("accuracy", "balanced_accuracy", "f1_macro", "mcc")
    found = {name: candidate[name] - baseline[name] for name in names}
    if summary.joint.n_classes == 2:
        found["f1"] = candidate["f1"][:, 1] - baseline["f1"][:, 1]
    return found


def _bootstrap_test(replicates: np.ndarray, confidence: float) -> tuple:
    """The percentile interval, and twice the share of replicates on the far side of 0
    (counting the observed data as one), at most 1."""
    values = replicates[np.isfinite(replicates)]
    if values.size < 2:
        return Interval(math.nan, math.nan), math.nan, BOOTSTRAP, math.nan
    below, above = np.count_nonzero(values <= 0), np.count_nonzero(values >= 0)
    p_value = min(1.0, 2.0 * (min(below, above) + 1) / (values.size + 1))
    return (
        percentile_interval(values, confidence),
        p_value,
        BOOTSTRAP,
        float(np.std(values, ddof=1)),
    )


def _scored_replicates(
    scored: JointCells,
    tables: tuple,
    values_a: dict,
    values_b: dict,
    replicates: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """The paired bootstrap of average precision (binary) and ECE: the joint cells of both
    models' scores drawn at once, each model's metric read off its side of every replicate;
    none past the capacity or the draws (see comparison.cells)."""
    if scored.overflow or scored.counts.size * replicates > PAIRED_DRAWS:
        return {}
    counts = scored.counts.astype(np.float64)
    drawn = cell_replicates(counts, replicates, (seed, 3))
    per_side = []
    for side in scored.sides():
        hits, misses = side.tables(drawn)
        cells = Cells(hits[0], misses[0], side.scores, side.scores, True)
        per_side.append(
            {
                "pr_auc": average_precision(hits, misses, True) if len(tables) == 1 else None,
                "ece": calibration_error(hits, misses, cells),
            }
        )
    return {
        name: per_side[1][name].values - per_side[0][name].values
        for name in ("pr_auc", "ece")
        if per_side[0][name] is not None
        and values_a.get(name) is not None
        and values_b.get(name) is not None
    }


def _verdicts(found: list[MetricComparison], alpha: float) -> list[MetricComparison]:
    """Holm over the headline metrics (not the per-class AUCs); each significant difference a
    regression or an improvement by the metric's direction."""
    family = [i for i, m in enumerate(found) if "[" not in m.metric]
    adjusted = dict(zip(family, holm([found[i].p_value for i in family]), strict=True))
    detect = normal_critical(1 - alpha) + normal_critical(2 * POWER - 1)
    out = []
    for i, m in enumerate(found):
        p = float(adjusted.get(i, m.p_value))
        verdict = NO_DIFFERENCE
        if p < alpha and m.difference != 0:
            verdict = REGRESSION if m.worse else IMPROVEMENT
        out.append(replace(m, p_adjusted=p, verdict=verdict, detectable=detect * m.standard_error))
    return out
