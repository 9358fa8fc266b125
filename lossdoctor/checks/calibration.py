"""calibration: probabilities that say more (or less) than the model knows.

How it decides: the expected calibration error (ECE) over 10 equal-mass bins, as scikit-learn's
calibration_curve(strategy="quantile") bins them: binary P(class 1) against the share of
positives, multi-class top-label confidence against the share of right argmaxes. Warning when
the ECE is above 0.05 and at least 3 times what a perfectly calibrated model of the same size
shows by chance (so a small file does not cry wolf), on 100 rows or more. Skipped when the rows
were normalised by lossdoctor (a missing softmax): that repair is not the model's calibration.
"""

from __future__ import annotations

import math

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "calibration"
SEVERITY = Severity.WARNING
ECE_LIMIT = 0.05
NOISE_MULTIPLE = 3.0
MIN_ROWS = 100

WHY = (
    "A probability is a promise: of the rows given 0.9, nine in ten should be right. An "
    "overconfident model breaks it (typical of unregularised networks and of probabilities "
    "sharpened twice), an underconfident one hedges; both make the log loss worse than the "
    "ranking deserves and any decision taken on the probability itself wrong."
)
FIXES = {
    "scikit-learn": "CalibratedClassifierCV(model, method='isotonic', cv=5)",
    "pytorch": "logits / temperature  # fit the temperature on validation data",
    "keras": "model.predict(x) with a fitted temperature: softmax(logits / T)",
}


_RIGHT_80_PERCENT = (1,) * 80 + (0,) * 20 + (0,) * 80 + (1,) * 20
EXAMPLES = (
    Example(
        "a model saying 0.99 (and 0.01) on rows it is right about 80 % of the time: overconfident",
        {"label": _RIGHT_80_PERCENT, "prob": (0.99,) * 100 + (0.01,) * 100},
        Severity.WARNING,
    ),
    Example(
        "the same rows scored 0.8 and 0.2: right as often as it says",
        {"label": _RIGHT_80_PERCENT, "prob": (0.8,) * 100 + (0.2,) * 100},
    ),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    bins = metrics.calibration
    n = bins.counts.sum().item()
    if n < MIN_ROWS or plan.transform == "normalize":
        return []
    ece = metrics.values["ece"]
    weights = bins.counts / n
    # |mean outcome - mean prediction| in a bin of a calibrated model is ~ half-normal.
    spread = np.sqrt(bins.predicted * (1 - bins.predicted) / bins.counts)
    chance_ece = float(np.dot(weights, spread) * math.sqrt(2 / math.pi))
    if ece <= max(ECE_LIMIT, NOISE_MULTIPLE * chance_ece):
        return []
    mean_predicted = float(np.dot(weights, bins.predicted))
    mean_observed = float(np.dot(weights, bins.observed))
    top_label = plan.task == Task.MULTICLASS
    if top_label:
        gap = mean_predicted - mean_observed
    else:  # more extreme than the outcomes on both sides of 0.5 is overconfidence
        gap = float(
            np.dot(weights, (bins.predicted - bins.observed) * np.sign(bins.predicted - 0.5))
        )
    direction = "overconfident" if gap > 0 else "underconfident"
    evidence = {
        "ece": ece,
        "ece_by_chance": chance_ece,
        "direction": direction,
        "mean_predicted": mean_predicted,
        "mean_observed": mean_observed,
        "bins_predicted": bins.predicted.tolist(),
        "bins_observed": bins.observed.tolist(),
        "bins_rows": bins.counts.tolist(),
        "ece_limit": ECE_LIMIT,
        "noise_multiple": NOISE_MULTIPLE,
    }
    what = "confidence" if top_label else "predicted probability"
    seen = "accuracy" if top_label else "base rate"
    return [
        Finding(
            ID,
            SEVERITY,
            f"The model is {direction}",
            f"Expected calibration error {ece:.3f}, against {chance_ece:.3f} a calibrated model "
            f"of this size would show by chance: mean {what} {mean_predicted:.3f}, "
            f"{seen} {mean_observed:.3f}.",
            evidence,
            FIXES["scikit-learn"],
        )
    ]
