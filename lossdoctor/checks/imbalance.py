"""class-imbalance: a class balance that makes accuracy meaningless.

How it decides: the rarest class under 20 % of the rows (binary), or the largest class 4 or more
times the smallest present (multi-class), is a warning; worded more strongly when the model's
accuracy is within 2 points of always answering the majority class. With sample weights the
shares are the classes' shares of the summed weights, as the weighted accuracy sees them.
"""

from __future__ import annotations

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.shared import ClassRows
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "class-imbalance"
SEVERITY = Severity.WARNING
MIN_MINORITY_SHARE = 0.20  # binary
MAX_CLASS_RATIO = 4.0  # multi-class: largest / smallest class present
BASELINE_MARGIN = 0.02  # accuracy this close to always-the-majority is no evidence of skill

FIX = "watch balanced_accuracy and pr_auc; train with class_weight='balanced'"
WHY = (
    "With 95 % negatives, a model that always answers negative scores 95 % accuracy, and a loss "
    "can keep falling while accuracy sits at that base rate. Accuracy then says nothing about "
    "the rare class, which is usually the one that matters; balanced accuracy and the area "
    "under the precision-recall curve do."
)
FIXES = {
    "keras": "model.fit(..., class_weight={0: 1.0, 1: n_neg / n_pos})",
    "pytorch": "nn.BCEWithLogitsLoss(pos_weight=torch.tensor(n_neg / n_pos))",
    "scikit-learn": "LogisticRegression(class_weight='balanced'); balanced_accuracy_score(y, p)",
}


EXAMPLES = (
    Example(
        "90 negatives and 10 positives: the baseline accuracy is 0.9",
        {"label": (0,) * 90 + (1,) * 10, "prob": (0.1,) * 85 + (0.6,) * 5 + (0.7,) * 10},
        Severity.WARNING,
    ),
    Example(
        "55 negatives and 45 positives",
        {"label": (0,) * 55 + (1,) * 45, "prob": (0.1,) * 50 + (0.6,) * 5 + (0.7,) * 45},
    ),
)

SUMMARIES = (ClassRows,)


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    if plan.task == Task.MULTILABEL:
        return []
    counts = s[ClassRows].rows
    present = counts[counts > 0]
    n = counts.sum().item()
    if len(present) < 2:
        return []
    minority_share = float(present.min() / n)
    ratio = float(present.max() / present.min())
    if plan.task == Task.BINARY:
        imbalanced = minority_share < MIN_MINORITY_SHARE
    else:
        imbalanced = ratio >= MAX_CLASS_RATIO
    if not imbalanced:
        return []
    baseline = float(counts.max() / n)
    accuracy = metrics.values["accuracy"]
    near_baseline = accuracy - baseline <= BASELINE_MARGIN
    evidence = {
        "class_counts": {str(plan.class_labels[i]): c.item() for i, c in enumerate(counts)},
        "minority_share": minority_share,
        "majority_minority_ratio": ratio,
        "baseline_accuracy": baseline,
        "accuracy": accuracy,
        "balanced_accuracy": metrics.values.get("balanced_accuracy"),
        "pr_auc": metrics.values.get("pr_auc"),
        "min_minority_share": MIN_MINORITY_SHARE,
        "max_class_ratio": MAX_CLASS_RATIO,
        "baseline_margin": BASELINE_MARGIN,
    }
    majority = plan.class_labels[int(counts.argmax())]
    if near_baseline:
        title = "Accuracy is within 2 points of always predicting the majority class"
        message = (
            f"Always answering {majority} would score {baseline:.1%}; the model scores "
            f"{accuracy:.1%}. Its accuracy says nothing here: balanced accuracy is "
            f"{_fmt(evidence['balanced_accuracy'])}."
        )
    else:
        title = "Imbalanced classes"
        message = (
            f"The rarest class is {minority_share:.1%} of the rows (largest/smallest {ratio:.1f}x);"
            f" accuracy {accuracy:.1%} compares with {baseline:.1%} for always answering "
            f"{majority}. Balanced accuracy: {_fmt(evidence['balanced_accuracy'])}."
        )
    return [Finding(ID, SEVERITY, title, message, evidence, FIX)]


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"
