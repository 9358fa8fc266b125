"""accuracy-mismatch: the accuracy a framework printed is not the one you meant.

How it decides: for multi-class and multi-label, both Keras accuracies are computed: binary
(threshold 0.5, strictly greater, over every cell of the one-hot matrix) and categorical
(argmax). Warning when --reported-accuracy is closer to the wrong one (binary on single-label,
categorical on multi-label), or when --loss binary_crossentropy is given for a single-label
multi-class problem; otherwise an info with both.
"""

from __future__ import annotations

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "accuracy-mismatch"
SEVERITY = Severity.WARNING

SINGLE_LABEL_FIX = "metrics=[keras.metrics.CategoricalAccuracy()]  # and categorical_crossentropy"
MULTI_LABEL_FIX = "metrics=[keras.metrics.BinaryAccuracy()]"
WHY = (
    "Keras' binary accuracy thresholds every cell of a one-hot matrix at 0.5 and averages all "
    "N x K cells: on ten classes, the nine zeros of each row are easy, so a model right 90 % of "
    "the time shows about 98 %. Keras up to 2.3 picked it for metrics=['accuracy'] with "
    "binary_crossentropy; today an explicit 'binary_accuracy' does it. The reverse trap is argmax "
    "accuracy on multi-label sigmoid outputs, which ignores every label but one."
)
FIXES = {
    "keras": SINGLE_LABEL_FIX,
    "pytorch": "(logits.argmax(dim=1) == targets).float().mean()",
    "scikit-learn": "accuracy_score(y, proba.argmax(axis=1))",
}


# 10 classes, 20 rows: the two rows of class 0 are predicted 1, every other row right.
_TEN_CLASSES = {
    "label": tuple(i % 10 for i in range(20)),
    **{
        f"prob_{k}": tuple(0.55 if k == (i % 10 or 1) else 0.05 for i in range(20))
        for k in range(10)
    },
}
EXAMPLES = (
    Example(
        "10 classes, categorical accuracy 0.90, --reported-accuracy 0.98: the binary accuracy",
        _TEN_CLASSES,
        Severity.WARNING,
        {"reported_accuracy": 0.98},
    ),
    Example(
        "the same file without --reported-accuracy: both accuracies side by side",
        _TEN_CLASSES,
        Severity.INFO,
    ),
    Example("a binary file", {"label": (0, 1, 1, 0), "prob": (0.2, 0.8, 0.6, 0.3)}),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    if plan.task not in (Task.MULTICLASS, Task.MULTILABEL):
        return []
    binary = metrics.values["binary_accuracy"]
    categorical = metrics.values["categorical_accuracy"]
    single_label = plan.task == Task.MULTICLASS
    right, wrong = (categorical, binary) if single_label else (binary, categorical)
    right_name, wrong_name = (
        ("categorical", "binary") if single_label else ("binary", "categorical")
    )
    reported = plan.options.reported_accuracy
    loss = (plan.options.loss or "").lower().replace("-", "_")
    evidence = {
        "binary_accuracy": binary,
        "categorical_accuracy": categorical,
        "reported_accuracy": reported,
        "right_accuracy": right_name,
        "closer_to": None,
        "loss": plan.options.loss,
    }
    fix = SINGLE_LABEL_FIX if single_label else MULTI_LABEL_FIX
    if reported is not None:
        closer_wrong = abs(reported - wrong) < abs(reported - right)
        evidence["closer_to"] = wrong_name if closer_wrong else right_name
        if closer_wrong:
            return [
                Finding(
                    ID,
                    Severity.WARNING,
                    f"The reported accuracy is {wrong_name} accuracy",
                    f"The accuracy you saw ({reported:.4f}) matches {wrong_name} accuracy "
                    f"({wrong:.4f}), not the {right_name} accuracy this "
                    f"{'single' if single_label else 'multi'}-label problem needs "
                    f"({right:.4f}).",
                    evidence,
                    fix,
                )
            ]
    if single_label and loss == "binary_crossentropy":
        return [
            Finding(
                ID,
                Severity.WARNING,
                "binary_crossentropy on a single-label multi-class problem",
                f"With binary_crossentropy, metrics=['accuracy'] can resolve to binary accuracy "
                f"({binary:.4f}) where categorical accuracy ({categorical:.4f}) is meant.",
                evidence,
                "loss='categorical_crossentropy', " + SINGLE_LABEL_FIX.split("  #")[0],
            )
        ]
    return [
        Finding(
            ID,
            Severity.INFO,
            "Categorical and binary accuracy",
            f"{right_name.capitalize()} accuracy, the one that applies, is {right:.4f}; "
            f"{wrong_name} accuracy would read {wrong:.4f}.",
            evidence,
            fix,
        )
    ]
