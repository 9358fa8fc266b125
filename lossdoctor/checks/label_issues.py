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
With sample weights the thresholds are weighted means, and the counts, the expectation and the
5 % share are sums of weights (integer weights decide as the rows repeated would); the message
still counts rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity, counted
from lossdoctor.checks.shared import ClassRows
from lossdoctor.checks.summaries import Summaries, Summary
from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import Task
from lossdoctor.losses import KERAS_EPSILON, choose, tally, weighted_sum
from lossdoctor.metrics import Metrics

ID = "label-issues"
SEVERITY = Severity.INFO
# Flags beyond what the model's own uncertainty explains, in standard deviations.
WARNING_Z = 3.0
WARNING_MIN_ROWS = 5
WARNING_MIN_SHARE = 0.05
ROWS_SHOWN = 10
# The rows a finding points at are kept, however many batches there are.
ISSUE_ROWS_KEPT = 10

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


# A class's threshold is a mean: its last bits depend on the order of its sum (rows, batches,
# weights), so a probability this close below it (relatively) is taken as at it.
MEAN_ROUNDING = 1e-12


@dataclass(frozen=True)
class SelfConfidence(Summary):
    """Per class, the summed probability its rows give it (weighted: times their weights)."""

    sums: np.ndarray

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> SelfConfidence:
        if plan.task == Task.MULTILABEL:
            return cls(np.zeros(plan.n_classes))
        q, weights = batch.true_class.astype(np.float64), batch.weights
        return cls(np.bincount(batch.y, q if weights is None else q * weights, plan.n_classes))


EXAMPLES = (
    Example(
        "a confident model (0.95 on the true class) and 9 of 60 labels flipped: those rows listed",
        {
            "label": tuple(1 if i < 18 and i % 2 == 0 else i % 2 for i in range(60)),
            "prob": tuple(0.95 if i % 2 else 0.05 for i in range(60)),
        },
        Severity.WARNING,
    ),
    Example(
        "one label of 60 against a confident model: listed for review",
        {"label": (1,) + (1, 0) * 29 + (1,), "prob": (0.1, 0.9) * 30},
        Severity.INFO,
    ),
    Example(
        "labels that agree with a confident model",
        {"label": (0, 1) * 30, "prob": (0.1, 0.9) * 30},
    ),
)

SUMMARIES = (SelfConfidence, ClassRows)


def class_thresholds(s: Summaries) -> np.ndarray:
    """Each class's mean probability over its rows, confident learning's threshold; infinite
    (never reached) for a class without rows."""
    rows, sums = s[ClassRows].rows, s[SelfConfidence].sums
    return np.divide(sums, rows, out=np.full(len(rows), np.inf), where=rows > 0)


@dataclass(frozen=True)
class Issues(Summary):
    """Confident learning over the rows: how many contradict their label, and the worst."""

    flagged: int | float  # rows whose likeliest confident class is not their label
    flagged_rows: int  # ... counted as rows even when weighted (flagged: their weights)
    flagged_tested: int | float  # ... leaving out rows giving their label a saturated probability
    expected: float  # flags expected were the labels drawn from the model's probabilities
    variance: float  # ... and their variance
    worst_rows: np.ndarray  # dataset-wide rows of the lowest given-label probability, ascending
    worst_given: np.ndarray  # their probability of the given label
    worst_labels: np.ndarray  # their given class
    worst_model: np.ndarray  # the class the model is confident in

    def merge(self, other: Issues) -> Issues:
        given = np.concatenate([self.worst_given, other.worst_given])
        rows = np.concatenate([self.worst_rows, other.worst_rows])
        keep = np.lexsort((rows, given))[:ISSUE_ROWS_KEPT]
        return Issues(
            self.flagged + other.flagged,
            self.flagged_rows + other.flagged_rows,
            self.flagged_tested + other.flagged_tested,
            self.expected + other.expected,
            self.variance + other.variance,
            rows[keep],
            given[keep],
            np.concatenate([self.worst_labels, other.worst_labels])[keep],
            np.concatenate([self.worst_model, other.worst_model])[keep],
        )


def find_issues(plan: Plan, batch: Prepared, thresholds: np.ndarray) -> Issues:
    """Confident learning on one batch: thresholds are each class's mean self-confidence.

    A row labelled i is flagged when its likeliest class j among those at or above their
    threshold is not i. Were the labels drawn from the model, it would be flagged with
    probability 1 - P(j): the expectation and variance the check compares the count with.
    """
    y, proba, weights = batch.y, batch.proba, batch.weights
    given = batch.true_class
    at_threshold = thresholds * (1 - MEAN_ROUNDING)
    if plan.task == Task.BINARY:
        likeliest, likeliest_p, has_confident = _binary_likeliest_confident_class(
            proba, at_threshold
        )
        issue = np.not_equal(likeliest, y.astype(bool, copy=False))
        issue &= has_confident
    else:
        likeliest, likeliest_p = _likeliest_confident_class(list(proba.T), at_threshold)
        has_confident = likeliest >= 0
        issue = has_confident & (likeliest != y)
    tested = has_confident & (given > KERAS_EPSILON)
    # np.compress copies the rows several times faster than indexing with the mask does
    miss = np.subtract(1, np.compress(tested, likeliest_p), dtype=np.float64)
    tested_weights = None if weights is None else weights[tested]
    expected = weighted_sum(miss, tested_weights)
    spread = np.subtract(1, miss)
    spread *= miss  # miss * (1 - miss), with one temporary
    worst = _lowest(given, np.flatnonzero(issue), ISSUE_ROWS_KEPT)
    return Issues(
        flagged=tally(issue, weights),
        flagged_rows=int(np.count_nonzero(issue)),
        flagged_tested=tally(issue & tested, weights),
        expected=expected,
        variance=weighted_sum(spread, tested_weights),
        worst_rows=batch.row_numbers(worst),
        worst_given=given[worst].astype(np.float64),
        worst_labels=y[worst].astype(np.int64),
        worst_model=likeliest[worst].astype(np.int64),
    )


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


def _binary_likeliest_confident_class(
    proba: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_likeliest_confident_class of the columns [1 - p, p] as masks, with no choice per row,
    and thresholds compared in p's own dtype: a whole pass over a dataset runs this on every
    row. Whether the likeliest confident class is 1 (else 0), its probability (on a row
    without a confident class: 1 - p, never read), and whether the row has one."""
    negative = 1 - proba
    confident_0 = negative >= _at_least(thresholds[0], proba.dtype)
    # class 1 must beat what class 0 offers: 1 - p where confident, else -1; the first class
    # wins a tie
    beats_0 = np.greater(proba, negative)
    beats_0 &= confident_0
    beats_0 |= ~confident_0 & (proba > -1)
    confident_1 = proba >= _at_least(thresholds[1], proba.dtype)
    confident_1 &= beats_0
    has_confident = confident_0 | confident_1
    return confident_1, choose(confident_1, proba, negative), has_confident


def _at_least(threshold: float, dtype: np.dtype) -> np.floating:
    """The least value of dtype at or above threshold: x >= threshold exactly when
    x >= _at_least(threshold) for every x of that dtype, with no cast of x to float64."""
    rounded = dtype.type(threshold)
    return np.nextafter(rounded, dtype.type(np.inf)) if rounded < threshold else rounded


def _lowest(values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The k rows of the lowest values, ties by row number: a partition, not a sort of them all."""
    if len(rows) > k:
        cut = np.partition(values[rows], k - 1)[k - 1]
        rows = rows[values[rows] <= cut]
    return rows[np.lexsort((rows, values[rows]))][:k]


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    """Reads the Issues of a pass of their own, which the pipeline adds once the thresholds
    are known (none for multi-label)."""
    issues = s.get(Issues)
    if plan.task == Task.MULTILABEL or issues is None or issues.flagged == 0:
        return []
    count, count_tested, expected = issues.flagged, issues.flagged_tested, issues.expected
    z = (count_tested - expected) / max(float(np.sqrt(issues.variance)), 1e-12)
    thresholds = class_thresholds(s)
    worst = slice(0, ROWS_SHOWN)
    file_rows = issues.worst_rows[worst]
    share = count / plan.weighted_rows
    names = plan.class_labels
    evidence = {
        "rows_flagged": issues.flagged_rows,
        "share_flagged": share,
        "class_thresholds": {
            str(names[k]): (float(t) if np.isfinite(t) else None) for k, t in enumerate(thresholds)
        },
        "worst_rows": [int(r) for r in file_rows],
        "worst_given_labels": [str(names[k]) for k in issues.worst_labels[worst]],
        "worst_model_labels": [str(names[k]) for k in issues.worst_model[worst]],
        "worst_given_label_probability": [float(p) for p in issues.worst_given[worst]],
        "rows_saturated_not_tested": count - count_tested,
        "expected_if_labels_followed_the_model": expected,
        "z": z,
        "warning_z": WARNING_Z,
        "warning_min_rows": WARNING_MIN_ROWS,
        "warning_min_share": WARNING_MIN_SHARE,
    }
    many = (
        count_tested >= WARNING_MIN_ROWS and count_tested / plan.weighted_rows >= WARNING_MIN_SHARE
    )
    severity = Severity.WARNING if z > WARNING_Z and many else Severity.INFO
    shown = ", ".join(str(r) for r in file_rows)
    return [
        Finding(
            ID,
            severity,
            counted(issues.flagged_rows, "row looks mislabelled", "rows look mislabelled"),
            "The model confidently contradicts the label of "
            f"{counted(issues.flagged_rows, 'row', 'rows')} "
            f"({share:.1%}{' by weight' if plan.weight_column else ''}; its own "
            f"probabilities explain about {expected:.0f}); "
            f"the worst {'is row' if len(file_rows) == 1 else 'are rows'} {shown}.",
            evidence,
            FIXES["numpy"],
        )
    ]
