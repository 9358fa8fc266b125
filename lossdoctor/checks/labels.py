"""label-encoding: labels that do not index the prediction columns.

How it decides: binary labels that are exactly {-1, +1} or {1, 2}, multi-class labels 1..K
against K columns (no 0, maximum K), and labels outside 0..K-1 are errors; the first two are
remapped for the metrics, the last are left out. Non-integer labels, one-hot rows without
exactly one 1, and classes with no row are warnings. Labels matched by name (text, or
--classes) get an info saying the order: a categorical column's categories, sorted text (as
scikit-learn's LabelEncoder), or the order given. Rows labelled -100 (PyTorch's ignore_index)
are left out with an info.
"""

from __future__ import annotations

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity, counted
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import IGNORE_INDEX, Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "label-encoding"
SEVERITY = Severity.ERROR
WHY = (
    "Losses and metrics read a label as the index of a prediction column. Labels of -1/+1 put a "
    "weight of -1 on log(p); labels 1..K point every row one column too far, so the loss "
    "measures the model against its neighbour class. Nothing crashes, and every number is wrong."
)
FIXES = {
    "numpy": "y = (y + 1) // 2  # -1/+1 -> 0/1;  y = y - 1  # 1..K -> 0..K-1",
    "pytorch": "targets = targets - 1  # CrossEntropyLoss wants class indices 0..K-1",
    "scikit-learn": "y = LabelEncoder().fit_transform(y)",
}


EXAMPLES = (
    Example(
        "labels -1 and +1 with one score column: fix y = (y + 1) // 2",
        {"label": (-1, 1, 1, -1, 1), "prob": (0.2, 0.7, 0.9, 0.4, 0.6)},
        Severity.ERROR,
    ),
    Example("labels 0 and 1", {"label": (0, 1, 1, 0, 1), "prob": (0.2, 0.7, 0.9, 0.4, 0.6)}),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    encoding = plan.encoding
    evidence = {
        "encoding": encoding.name,
        "values": {str(v): c for v, c in zip(encoding.values, encoding.counts, strict=True)},
        "distinct_values": encoding.n_distinct,
        "n_classes": plan.n_classes,
    }
    findings = []

    def add(severity: Severity, title: str, message: str, fix: str, **extra) -> None:
        findings.append(Finding(ID, severity, title, message, {**evidence, **extra}, fix))

    if encoding.name == "minus-one-plus-one":
        add(
            Severity.ERROR,
            "Labels are -1/+1",
            "Binary labels are stored as -1/+1; a loss that expects 0/1 reads -1 as a weight of "
            "-1 on log(p). They were mapped -1 -> 0, +1 -> 1 for the metrics.",
            "y = (y + 1) // 2",
        )
    elif encoding.name == "one-to-k":
        add(
            Severity.ERROR,
            f"Labels are 1..{plan.n_classes}, the columns 0..{plan.n_classes - 1}",
            f"Labels run from 1 to {plan.n_classes} but there are {plan.n_classes} prediction "
            "columns indexed from 0: every label points one column too far. They were shifted "
            "down by one for the metrics.",
            "y = y - 1",
        )
    if encoding.out_of_range:
        add(
            Severity.ERROR,
            "Labels outside the prediction columns",
            f"{counted(encoding.out_of_range, 'row has', 'rows have')} a label that is none of "
            f"the {plan.n_classes} "
            "classes the predictions cover; the metrics leave them out.",
            f"assert set(np.unique(y)) <= set(range({plan.n_classes}))",
            rows_out_of_range=encoding.out_of_range,
        )
    if encoding.name == "soft":
        add(
            Severity.WARNING,
            "Soft labels",
            "Labels are not whole numbers (label smoothing or averaged annotations?); hard "
            "metrics use label >= 0.5.",
            "y = (y >= 0.5).astype(int)",
        )
    if encoding.not_one_hot:
        add(
            Severity.WARNING,
            "One-hot rows that are not one-hot",
            f"{encoding.not_one_hot} label rows do not hold exactly one 1; the metrics take "
            "the argmax of each row.",
            "y = np.argmax(y_onehot, axis=1)",
            rows_not_one_hot=encoding.not_one_hot,
        )
    if plan.task == Task.MULTICLASS:
        support = np.array([c.support for c in metrics.per_class])
        absent = [plan.class_labels[i] for i in np.flatnonzero(support == 0)]
        if absent:
            add(
                Severity.WARNING,
                "Classes that never occur",
                f"{len(absent)} of {plan.n_classes} prediction columns have no row of their "
                f"class ({', '.join(map(str, absent[:10]))}); per-class and macro metrics for "
                "them are undefined, or the labels and columns are misaligned.",
                "check that column k holds the probability of label k",
                absent_classes=[str(a) for a in absent],
            )
    if plan.labels.rule in ("named", "positive"):
        mapping = ", ".join(f"{label} -> {i}" for i, label in enumerate(plan.class_labels[:20]))
        more = ", ..." if plan.n_classes > 20 else ""
        add(
            Severity.INFO,
            "Labels mapped to class indices by name",
            f"Labels are matched by name, {ORDER_WORDS[plan.class_order]}: {mapping}{more}.",
            ORDER_FIX,
            class_order=plan.class_order,
        )
    if encoding.ignored:
        add(
            Severity.INFO,
            f"{plan.unit.capitalize()} labelled {IGNORE_INDEX} left out",
            f"{encoding.ignored:,} {plan.unit} have the label {IGNORE_INDEX}, PyTorch's "
            "ignore_index "
            "(padding tokens, sub-words the Trainer does not score); the metrics leave them out, "
            "as the loss does.",
            "nothing to fix: these rows are not examples",
            rows_ignored=encoding.ignored,
        )
    return findings


ORDER_WORDS = {
    "sorted": "in sorted order (as scikit-learn's LabelEncoder)",
    "categorical": "in the order of the label column's categories",
    "given": "in the order given",
    "columns": "in the order of the prediction columns, which are named by them",
}
ORDER_FIX = (
    "--classes A,B,C  # the classes in the order of the prediction columns; "
    "--positive-label NAME for binary"
)
