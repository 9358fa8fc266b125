"""label-issues: rows whose given label the model contradicts with confidence.

How it decides: confident learning (Northcutt et al., 2021). Each class j gets a threshold t_j,
the mean probability of class j over the rows labelled j (its self-confidence). A row labelled i
is a likely label issue when some class j != i has P(j) >= t_j and is the likeliest such class.
Info with the count and the worst rows (lowest probability of their given label). Warning when
far more rows are flagged than the model's own probabilities explain: were the labels drawn from
them, a row with a confident class c would be flagged with probability 1 - P(c); the observed
count must exceed that expectation by more than 3 standard deviations, and be at least 5 rows and
5 % of all (an overconfident model's handful of confident mistakes is not label noise). Rows that
give their label a probability within 1e-7 of 0 are listed but not counted towards the warning:
saturated probabilities carry no confidence to test (probability-saturation reports them).

Example: a confident, accurate model and 15 % of labels flipped -> warning, flipped rows listed.
Quiet: labels drawn from the model's own probabilities (info at most).
"""

from __future__ import annotations

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.checks.saturation import SATURATION_EPSILON
from lossdoctor.infer import Prepared
from lossdoctor.metrics import Metrics, true_class_probability

ID = "label-issues"
SEVERITY = Severity.INFO
# Flags beyond what the model's own uncertainty explains, in standard deviations.
WARNING_Z = 3.0
WARNING_MIN_ROWS = 5
WARNING_MIN_SHARE = 0.05
ROWS_SHOWN = 10

WHY = (
    "Every data set has some wrong labels, and a model that is confident and right on them is "
    "punished by the loss and the accuracy. The rows where a good model most confidently "
    "disagrees with the label are the ones worth a second look: relabel them, or drop them, "
    "before trusting small differences between models."
)
FIXES = {
    "numpy": "review the listed rows; relabel or drop them, then evaluate again",
    "cleanlab": "cleanlab.find_label_issues(labels=y, pred_probs=proba)  # the same method",
}


def check(data: Prepared, metrics: Metrics) -> list[Finding]:
    if data.task == "multilabel":
        return []
    y = data.y
    given = true_class_probability(y, data.proba)
    support = np.bincount(y, minlength=data.n_classes)
    self_confidence = np.bincount(y, weights=given, minlength=data.n_classes)
    thresholds = np.divide(
        self_confidence, support, out=np.full(data.n_classes, np.inf), where=support > 0
    )
    likeliest, likeliest_p = _likeliest_confident_class(_class_columns(data), thresholds)
    has_confident = likeliest >= 0
    issue = has_confident & (likeliest != y)
    count = int(np.count_nonzero(issue))
    if count == 0:
        return []
    # Were labels drawn from the model, row i would be flagged with probability 1 - P(c_i).
    tested = has_confident & (given > SATURATION_EPSILON)
    miss = 1 - likeliest_p[tested]
    expected = float(miss.sum())
    count_tested = int(np.count_nonzero(issue & tested))
    z = (count_tested - expected) / max(float(np.sqrt(np.sum(miss * (1 - miss)))), 1e-12)
    worst = _lowest(given, np.flatnonzero(issue), ROWS_SHOWN)
    file_rows = np.flatnonzero(data.usable)[worst]
    share = count / len(y)
    evidence = {
        "rows_flagged": count,
        "share_flagged": share,
        "class_thresholds": {
            str(data.class_labels[k]): (float(t) if np.isfinite(t) else None)
            for k, t in enumerate(thresholds)
        },
        "worst_rows": [int(r) for r in file_rows],
        "worst_given_labels": [str(data.class_labels[k]) for k in y[worst]],
        "worst_model_labels": [str(data.class_labels[k]) for k in likeliest[worst]],
        "worst_given_label_probability": [float(given[i]) for i in worst],
        "rows_saturated_not_tested": count - count_tested,
        "expected_if_labels_followed_the_model": expected,
        "z": z,
        "warning_z": WARNING_Z,
        "warning_min_rows": WARNING_MIN_ROWS,
        "warning_min_share": WARNING_MIN_SHARE,
    }
    many = count_tested >= WARNING_MIN_ROWS and count_tested / len(y) >= WARNING_MIN_SHARE
    severity = Severity.WARNING if z > WARNING_Z and many else Severity.INFO
    shown = ", ".join(str(r) for r in file_rows)
    return [
        Finding(
            ID,
            severity,
            f"{count} rows look mislabelled",
            f"The model confidently contradicts the label of {count} rows ({share:.1%}; its own "
            f"probabilities explain about {expected:.0f}); the worst are rows {shown}.",
            evidence,
            FIXES["numpy"],
        )
    ]


def _class_columns(data: Prepared) -> list[np.ndarray]:
    """One probability column per class; binary as [1 - p, p]."""
    if data.task == "binary":
        return [1 - data.proba, data.proba]
    return [data.proba[:, k] for k in range(data.n_classes)]


def _likeliest_confident_class(
    columns: list[np.ndarray], thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the likeliest class at or above its threshold (-1 if none) and its probability.

    A loop over classes, never an N x K temporary: the first class wins a tie, as argmax does.
    """
    likeliest = np.full(len(columns[0]), -1, dtype=np.int16)  # K is at most MAX_CLASSES
    likeliest_p = np.full(len(columns[0]), -1.0, dtype=columns[0].dtype)
    for k, column in enumerate(columns):
        better = (column >= thresholds[k]) & (column > likeliest_p)
        np.copyto(likeliest, k, where=better)
        np.copyto(likeliest_p, column, where=better)
    return likeliest, likeliest_p


def _lowest(values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The k rows of the lowest values, ties by row number: a partition, not a sort of them all."""
    if len(rows) > k:
        cut = np.partition(values[rows], k - 1)[k - 1]
        rows = rows[values[rows] <= cut]
    return rows[np.lexsort((rows, values[rows]))][:k]
