"""label-order: the labels and the prediction columns name the classes in different orders.

How it decides: multi-class only (binary: inverted-scores). The best one-to-one relabelling of
the confusion matrix (an exact assignment, Hungarian method) is compared with the labels as
given. Over the rows of the classes it moves, b rows are right under the relabelling and c as
given; it fires (error) when the accuracy rises by at least MIN_ACCURACY_GAIN and McNemar's
z = (b - c) / sqrt(b + c) exceeds sqrt(2 (ln K! + ln(1 / FALSE_ALARM_RATE))): by the Gaussian
tail bound, a model without skill beats that by chance under any of the K! relabellings with
probability below FALSE_ALARM_RATE. Evidence: the mapping, both accuracies, b, c, z and its limit.
"""

from __future__ import annotations

import math

import numpy as np

from lossdoctor.assignment import best_assignment
from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "label-order"
SEVERITY = Severity.ERROR
# Chance that a model without skill fires, bounded over every relabelling of its K classes.
FALSE_ALARM_RATE = 1e-6
# The relabelling must matter, not only be significant: an absolute rise in accuracy.
MIN_ACCURACY_GAIN = 0.10
# Classes named in the message; the evidence holds the whole mapping.
MAPPING_SHOWN = 8

WHY = (
    "Column k of the predictions is the probability of class k, and the labels are turned into "
    "class indices by some order: sorted text, a categorical's categories, model.classes_, a "
    "tokenizer's id2label. When the two orders differ, every row is scored against the wrong "
    "column: accuracy collapses while the model is fine, and every finding that follows (label "
    "issues, calibration, saturation) describes the mismatch, not the model."
)
FIXES = {
    "lossdoctor": "--classes A,B,C  # the classes in the order of the prediction columns",
    "scikit-learn": "pd.DataFrame(model.predict_proba(X), columns=model.classes_)",
    "pandas": "y = pd.Categorical(y, categories=list(model.classes_))",
    "transformers": "labels = [model.config.id2label[i] for i in range(model.config.num_labels)]",
}


_LEVELS = ("low", "medium", "high")
# Columns prob_0..prob_2 for low, medium, high; a right and confident model.
_IN_LEVEL_ORDER = {
    "label": tuple(_LEVELS[i % 3] for i in range(60)),
    **{f"prob_{k}": tuple(0.8 if i % 3 == k else 0.1 for i in range(60)) for k in range(3)},
}
EXAMPLES = (
    Example(
        "prob_0..prob_2 in the order low, medium, high, the labels' classes sorted (high, low, "
        "medium): accuracy 0 as given, 1 relabelled, fix --classes low,medium,high",
        _IN_LEVEL_ORDER,
        Severity.ERROR,
    ),
    Example(
        "the same file with --classes low,medium,high", _IN_LEVEL_ORDER, None, {"classes": _LEVELS}
    ),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    if plan.task != Task.MULTICLASS:
        return []
    confusion = metrics.confusion.astype(np.float64)
    k, rows = len(confusion), confusion.sum()
    limit = z_limit(k)
    as_given = np.trace(confusion)
    at_most = confusion.max(axis=1).sum()  # no relabelling does better than each row's best
    if rows == 0 or (at_most - as_given) / rows < MIN_ACCURACY_GAIN or math.sqrt(at_most) < limit:
        return []
    mapping = best_assignment(confusion)
    moved = np.flatnonzero(mapping != np.arange(k))
    right_relabelled = confusion[moved, mapping[moved]].sum()
    right_as_given = confusion[moved, moved].sum()
    gain = (right_relabelled - right_as_given) / rows
    if gain < MIN_ACCURACY_GAIN:  # the best relabelling may be the labels as given
        return []
    z = (right_relabelled - right_as_given) / math.sqrt(right_relabelled + right_as_given)
    if z <= limit:
        return []
    names = [str(label) for label in plan.class_labels]
    column_class = np.empty(k, dtype=np.intp)
    column_class[mapping] = np.arange(k)  # column j predicts the rows of this label
    order = ",".join(names[c] for c in column_class)
    fits = {names[i]: int(mapping[i]) for i in moved}
    shown = ", ".join(f"{label} -> column {j}" for label, j in list(fits.items())[:MAPPING_SHOWN])
    more = f", ... ({len(fits)} in all)" if len(fits) > MAPPING_SHOWN else ""
    accuracy, relabelled = as_given / rows, (as_given + gain * rows) / rows
    evidence = {
        "accuracy_as_given": accuracy,
        "accuracy_relabelled": relabelled,
        "label_to_column": fits,
        "column_classes": [names[c] for c in column_class],
        "rows_right_only_relabelled": right_relabelled.item(),
        "rows_right_only_as_given": right_as_given.item(),
        "mcnemar_z": z,
        "z_limit": limit,
        "false_alarm_rate": FALSE_ALARM_RATE,
        "min_accuracy_gain": MIN_ACCURACY_GAIN,
        "class_order": plan.class_order,
    }
    return [
        Finding(
            ID,
            SEVERITY,
            "Labels and prediction columns in different class orders",
            f"Accuracy is {accuracy:.3f} as the labels are mapped ({plan.class_order} order) but "
            f"{relabelled:.3f} if the columns are the classes {_short(column_class, names)}: "
            f"{shown}{more}. The predictions are likely fine and the class order wrong.",
            evidence,
            _fix(plan, mapping, order),
        )
    ]


def _fix(plan: Plan, mapping: np.ndarray, order: str) -> str:
    """--classes names which label each prediction column is; one-hot label columns have no
    names to give, so the prediction columns are put in the labels' order instead."""
    if plan.labels.rule == "one-hot":
        return f"p = p[:, [{', '.join(map(str, mapping))}]]  # in the label columns' order"
    return f"--classes {order}"


def z_limit(k: int) -> float:
    """McNemar's z that chance exceeds under some relabelling of K classes with probability at
    most FALSE_ALARM_RATE: P(Z > t) <= exp(-t^2 / 2), times the K! relabellings."""
    return math.sqrt(2 * (math.lgamma(k + 1) + math.log(1 / FALSE_ALARM_RATE)))


def _short(column_class: np.ndarray, names: list[str]) -> str:
    shown = ", ".join(names[c] for c in column_class[:MAPPING_SHOWN])
    return shown + (", ..." if len(column_class) > MAPPING_SHOWN else "")
