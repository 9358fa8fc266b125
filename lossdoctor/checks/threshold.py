"""threshold: the 0.5 threshold costs F1 that another threshold would keep.

How it decides: binary only. The F1 at --threshold (default 0.5) is compared with the best F1
over every distinct score (the threshold table's best row); warning when the difference is more
than 5 points. Common under class imbalance, where the best threshold sits far below 0.5.
"""

from __future__ import annotations

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "threshold"
SEVERITY = Severity.WARNING
F1_COST = 0.05

WHY = (
    "0.5 is the right threshold only for calibrated probabilities when both errors cost the "
    "same. Under imbalance the best threshold for F1 often sits far lower, and at 0.5 the model "
    "looks useless although it ranks well. Choose the threshold on validation data, not on the "
    "set you report: the best threshold here is optimistic."
)
FIXES = {
    "scikit-learn": "TunedThresholdClassifierCV(model, scoring='f1').fit(X_val, y_val)",
    "numpy": "y_pred = p >= best_threshold  # chosen on validation data",
}


EXAMPLES = (
    Example(
        "10 % positives scored 0.3, the negatives 0.05: F1 0 at 0.5, 1 at 0.3",
        {"label": (0,) * 90 + (1,) * 10, "prob": (0.05,) * 90 + (0.3,) * 10},
        Severity.WARNING,
    ),
    Example(
        "balanced classes whose best threshold is near 0.5",
        {"label": (0,) * 50 + (1,) * 50, "prob": (0.2,) * 45 + (0.7,) * 5 + (0.8,) * 50},
    ),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    if plan.task != Task.BINARY or not metrics.thresholds:
        return []
    best = next(row for row in metrics.thresholds if row.best_f1)
    values = metrics.values
    cost = best.f1 - values["f1"]
    if cost <= F1_COST:
        return []
    threshold = plan.options.threshold
    evidence = {
        "threshold": threshold,
        "f1_at_threshold": values["f1"],
        "precision_at_threshold": values["precision"],
        "recall_at_threshold": values["recall"],
        "best_threshold": best.threshold,
        "best_f1": best.f1,
        "precision_at_best": best.precision,
        "recall_at_best": best.recall,
        "f1_cost": cost,
        "f1_cost_limit": F1_COST,
    }
    return [
        Finding(
            ID,
            SEVERITY,
            f"The threshold {threshold:g} costs {cost * 100:.0f} points of F1",
            f"F1 is {values['f1']:.3f} at p >= {threshold:g} but {best.f1:.3f} at "
            f"p >= {best.threshold:.4g} (precision {best.precision:.3f}, recall "
            f"{best.recall:.3f}). Tune the threshold on validation data.",
            evidence,
            f"y_pred = p >= {best.threshold:.4g}  # tuned on validation data, not this set",
        )
    ]
