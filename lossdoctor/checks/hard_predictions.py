"""hard-predictions: class labels saved where scores belong.

How it decides: every score is a class label: 0 or 1 in one column, 0/1 cells across the
columns (one-hot or multi-hot predictions), or whole numbers 0..K-1 in one column of a
problem whose labels are class indices 0..K-1 (K >= 3). Those are `model.predict` outputs:
an error. The metrics that need scores (log loss, ROC-AUC, average precision, Brier, ECE) are
left undefined with this reason; accuracy and the confusion matrix are given. The findings
that follow from it alone (saturated probabilities, label issues, logits, calibration) are
not reported.
"""

from __future__ import annotations

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Kind
from lossdoctor.metrics import SCORE_METRICS, Metrics

ID = "hard-predictions"
SEVERITY = Severity.ERROR
# Checks whose findings on class labels only restate this one: they are not run.
FOLLOWS = ("logits-vs-probabilities", "probability-saturation", "calibration", "label-issues")

WHY = (
    "Class labels carry no confidence: the log loss of a wrong 0/1 prediction is infinite "
    "(clipped to 36), ROC-AUC and average precision reduce to one threshold, and calibration "
    "has nothing to measure. Every score metric then describes the rounding, not the model."
)
FIXES = {
    "scikit-learn": "p = model.predict_proba(X)  # not model.predict(X)",
    "keras": "p = model.predict(x)  # save it before np.argmax(p, axis=1) or p > 0.5",
    "pytorch": "p = torch.softmax(logits, dim=1)  # not logits.argmax(dim=1)",
}
FIX = "save model.predict_proba(X) (probabilities), not model.predict(X) (class labels)"


EXAMPLES = (
    Example(
        "y = [0, 1, 1, 0], predictions [0, 1, 0, 0]: save predict_proba",
        {"label": (0, 1, 1, 0), "prob": (0, 1, 0, 0)},
        Severity.ERROR,
    ),
    Example(
        "probabilities such as 0.12 and 0.93, even where some are exactly 0 or 1",
        {"label": (0, 1, 1, 0), "prob": (0.12, 0.93, 1.0, 0.0)},
    ),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    if plan.kind != Kind.CLASS_PREDICTIONS:
        return []
    if plan.transform == "one-hot":
        held = f"class indices 0..{plan.n_classes - 1} in one column"
    elif plan.score_width:
        held = "0/1 cells, one row per prediction"
    else:
        held = "only 0 and 1"
    evidence = {
        "score_min": plan.score_low,
        "score_max": plan.score_high,
        "rows": plan.rows_used,
        "accuracy": metrics.values.get("accuracy"),
        "undefined": [name for name in SCORE_METRICS if name in metrics.values],
    }
    return [
        Finding(
            ID,
            SEVERITY,
            "Class labels saved instead of probabilities",
            f"The scores hold {held}: these are model.predict outputs, not probabilities. "
            "Metrics that need scores (log loss, ROC-AUC, average precision, Brier, ECE) are "
            "left undefined; accuracy and the confusion matrix are given. Save predict_proba.",
            evidence,
            FIX,
        )
    ]
