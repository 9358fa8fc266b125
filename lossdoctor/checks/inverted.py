"""inverted-scores: the scores rank the classes backwards.

How it decides: binary only. ROC-AUC below 0.5 by more than 3 standard errors of the AUC of a
model without skill (Hanley and McNeil: sqrt((P + N + 1) / (12 P N)) for P positives and N
negatives) is a warning: a weak model scatters around 0.5, it does not rank systematically
backwards. Evidence: the AUC, the AUC of 1 - p, and how many standard errors below 0.5. The
fix is `p = 1 - p`; with text labels (the positive class chosen by their order) `--positive-label`.
"""

from __future__ import annotations

import math

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "inverted-scores"
SEVERITY = Severity.WARNING
STANDARD_ERRORS = 3.0

WHY = (
    "A score that ranks the negatives above the positives is almost never a bad model: it is the "
    "wrong column saved (predict_proba(X)[:, 0] as P(class 1)), labels flipped in a join, or a "
    "positive class chosen by the other sort order. Every metric then describes the mirror image "
    "of the model, and the saturation, threshold and calibration findings follow from it."
)
FIXES = {
    "scikit-learn": "p = model.predict_proba(X)[:, list(model.classes_).index(positive)]",
    "numpy": "p = 1 - p  # after checking which class the column is the probability of",
    "pytorch": "p = torch.softmax(logits, dim=1)[:, 1]  # the column of the positive class",
}


EXAMPLES = (
    Example(
        "predict_proba(X)[:, 0] saved as P(class 1): AUC 0, fix p = 1 - p",
        {"label": (0, 1) * 10, "prob": (0.9, 0.1) * 10},
        Severity.WARNING,
    ),
    Example(
        "a model that ranks the positives above the negatives",
        {"label": (0, 1) * 10, "prob": (0.1, 0.9) * 10},
    ),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    auc = metrics.values.get("roc_auc")
    if plan.task != Task.BINARY or auc is None or auc >= 0.5:
        return []
    support = [c.support for c in metrics.per_class]
    n_neg, n_pos = support[0], support[1]
    chance_spread = math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
    below = (0.5 - auc) / chance_spread
    if below <= STANDARD_ERRORS:
        return []
    evidence = {
        "roc_auc": auc,
        "roc_auc_of_1_minus_p": 1 - auc,
        "standard_errors_below_chance": below,
        "chance_standard_error": chance_spread,
        "standard_errors_limit": STANDARD_ERRORS,
    }
    message = (
        f"ROC-AUC is {auc:.3f}, {below:.0f} standard errors below chance; 1 - p would score "
        f"{1 - auc:.3f}. The column saved is likely the probability of the other class."
    )
    fix = FIXES["numpy"]
    if plan.class_order in NAMED_ORDERS:
        # Labels matched by name: the positive class was chosen by an order, likely the wrong one.
        negative, positive = (str(label) for label in plan.class_labels)
        evidence |= {"positive_class_taken": positive, "class_order": plan.class_order}
        message = (
            f"ROC-AUC is {auc:.3f}, {below:.0f} standard errors below chance, with {positive!r} "
            f"taken as the positive class ({plan.class_order} order); with {negative!r} it "
            f"would be {1 - auc:.3f}. The scores are likely P({negative})."
        )
        fix = f"--positive-label {negative}"
    return [
        Finding(
            ID,
            SEVERITY,
            "The scores rank the classes backwards",
            message,
            evidence,
            fix,
        )
    ]


# Orders by which text labels were matched to classes: the positive class is a choice.
NAMED_ORDERS = ("sorted", "categorical", "given")
