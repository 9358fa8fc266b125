"""Every number of the report, in NumPy, equal to scikit-learn's.

Scores are sorted once per class side (rows of the class, the other rows) and the ranking
metrics are read off the sorted arrays, so no metric re-sorts or re-scans the data.
Multi-class and multi-label search each class's distinct scores among the other rows'. Binary
merges its two sides once instead: where each positive lands among the negatives gives class
1's AUC, average precision and best-F1 threshold; the runs of equal 1 - p along the merged
scores, with a running count of the positives, give class 0's (rounding 1 - p can join
distinct values of p); and the calibration bins are slices of it.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

THRESHOLD_GRID: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CALIBRATION_BINS = 10
HISTOGRAM_BINS = 20
# Every name a report's metrics can hold, over all tasks: what a gate may name. Each task
# computes a subset (brier is binary only; the Keras accuracies are not binary).
METRIC_NAMES: tuple[str, ...] = (
    "log_loss",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "roc_auc",
    "pr_auc",
    "brier",
    "mcc",
    "categorical_accuracy",
    "binary_accuracy",
    "ece",
)


@dataclass(frozen=True)
class ClassMetrics:
    """One row of the per-class table; the scores are 0.0 where sklearn's zero_division=0 is."""

    index: int  # class index 0..K-1 (binary: 0 and 1)
    precision: float
    recall: float
    f1: float  # 2tp / (2tp + fp + fn)
    support: int  # rows whose true class this is
    roc_auc: float | None  # one-vs-rest; None when the class is absent or is every row
    pr_auc: float | None  # average precision; None when the class is absent


@dataclass(frozen=True)
class ThresholdRow:
    """Binary scores of `p >= threshold`."""

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int
    best_f1: bool  # True only on the extra row at the F1-maximising threshold


@dataclass(frozen=True)
class Calibration:
    """Equal-mass bins of predicted probability against what happened: a reliability diagram.

    Binary: P(class 1) against the share of positives. Multi-class: the top-label confidence
    against the share of rows whose argmax is right. Multi-label: every cell as binary.
    """

    predicted: np.ndarray  # mean predicted probability of each non-empty bin
    observed: np.ndarray  # observed frequency in each bin
    counts: np.ndarray  # rows in each bin

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean gap between the two."""
        gaps = np.abs(self.observed - self.predicted)
        return float(np.dot(self.counts, gaps) / self.counts.sum())


@dataclass(frozen=True)
class Histogram:
    """Probabilities in equal-width bins over [0, 1], one row of counts per group of rows.

    Binary: P(class 1) split by true class (overlap, saturation and squashing show at a
    glance). Multi-class: the probability of the true class. Multi-label: every cell, split by
    its true value.
    """

    edges: np.ndarray  # HISTOGRAM_BINS + 1 edges from 0 to 1
    counts: np.ndarray  # int64 (groups, HISTOGRAM_BINS)
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Metrics:
    """Everything the report shows for one task."""

    values: dict[str, float | None]  # ordered; None where sklearn's is undefined
    undefined: dict[str, str]  # for each None value, why, in plain words
    per_class: tuple[ClassMetrics, ...]
    thresholds: tuple[ThresholdRow, ...]  # binary only: the grid rows, then the best-F1 row
    confusion: np.ndarray  # int64 (K, K) true × predicted; multi-label (K, 2, 2) as sklearn
    calibration: Calibration
    histogram: Histogram


def histogram(values: np.ndarray, group: np.ndarray | None, groups: tuple[str, ...]) -> Histogram:
    """One pass of bincount: bin index plus group offset, so no loop over groups or rows."""
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    bin_of = np.minimum((values * HISTOGRAM_BINS).astype(np.intp), HISTOGRAM_BINS - 1)
    if group is not None:
        bin_of += group.astype(np.intp) * HISTOGRAM_BINS
    counts = np.bincount(bin_of, minlength=len(groups) * HISTOGRAM_BINS)
    return Histogram(edges, counts.reshape(len(groups), HISTOGRAM_BINS).astype(np.int64), groups)


def calibration(
    predicted: np.ndarray, outcome: np.ndarray, n_bins: int = CALIBRATION_BINS
) -> Calibration:
    """Bins exactly as sklearn.calibration.calibration_curve(strategy="quantile")."""
    edges = np.percentile(predicted, np.linspace(0, 1, n_bins + 1) * 100)
    bin_of = np.searchsorted(edges[1:-1], predicted)
    counts = np.bincount(bin_of, minlength=n_bins)
    sums = np.bincount(bin_of, weights=predicted, minlength=n_bins)
    hits = np.bincount(bin_of, weights=outcome, minlength=n_bins)
    kept = counts > 0
    return Calibration(sums[kept] / counts[kept], hits[kept] / counts[kept], counts[kept])


def _sorted_calibration(merged: np.ndarray, pos: np.ndarray) -> Calibration:
    """calibration() of the binary scores, merged and sorted, without a pass over the rows.

    The bins hold the same rows as calibration() gives: a value goes to the bin of the edges
    strictly below it, so each bin is a slice of the merged scores.
    """
    edges = np.percentile(merged, np.linspace(0, 1, CALIBRATION_BINS + 1) * 100)[1:-1]
    bounds = np.r_[0, np.searchsorted(merged, edges, side="right"), merged.size]
    positives = np.diff(np.r_[0, np.searchsorted(pos, edges, side="right"), pos.size])
    counts = np.diff(bounds)
    kept = counts > 0
    sums = np.add.reduceat(merged, bounds[:-1][kept], dtype=np.float64)
    counts = counts[kept]
    return Calibration(sums / counts, positives[kept] / counts, counts)


def _sorted_histogram(groups: tuple[np.ndarray, ...], names: tuple[str, ...]) -> Histogram:
    """histogram() of scores sorted per group: bin b holds [b/20, (b+1)/20), 1 in the last."""
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    counts = []
    for values in groups:
        cuts = np.searchsorted(values, edges[:-1].astype(values.dtype), side="left")
        counts.append(np.diff(np.r_[cuts, values.size]))
    return Histogram(edges, np.array(counts, dtype=np.int64), names)


def _cut(threshold: float, scores: np.ndarray) -> np.generic:
    """The threshold in the scores' dtype, so any float compares as a Python float would."""
    return scores.dtype.type(threshold)


def _as_float(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores)
    return scores if scores.dtype.kind == "f" else scores.astype(np.float64)


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Bool N×K indicator matrix of the class indices y."""
    return np.asarray(y)[:, None] == np.arange(n_classes)


def true_class_probability(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """The probability each row (or multi-label cell) gave to what was true, in proba's dtype.

    Binary and multi-label use 1 - p for the negatives, rounded in p's dtype exactly as
    scikit-learn's [1 - p, p] columns are, so log losses agree to the last bit.
    """
    y, proba = np.asarray(y), np.asarray(proba)
    if proba.ndim == 2 and y.ndim == 1:
        return proba[np.arange(y.shape[0]), y]
    return np.where(y.astype(bool, copy=False), proba, 1 - proba)


def row_losses(q: np.ndarray, eps: float | None = None) -> np.ndarray:
    """Per-entry -log(clip(q, eps, 1 - eps)) in float64; eps=None is the dtype's eps (sklearn)."""
    q = np.asarray(q)
    if eps is None:
        eps = np.finfo(q.dtype).eps
    elif eps > 0 and q.dtype.type(eps) == 0:  # float64 eps on float16 would clip at 0: inf
        q = q.astype(np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the honest loss when eps=0
        losses = np.log(np.clip(q, eps, 1 - eps), dtype=np.float64)
    return np.negative(losses, out=losses)


def log_loss(q: np.ndarray, eps: float | None = None) -> float:
    """Mean cross-entropy of the true-class probabilities q; inf if eps=0 and some q is 0."""
    return float(np.mean(row_losses(q, eps)))


def keras_binary_accuracy(y_onehot: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> float:
    """Share of the N×K cells where (proba > threshold) equals y, as keras BinaryAccuracy."""
    proba = _as_float(proba)
    return float(np.mean((proba > _cut(threshold, proba)) == np.asarray(y_onehot, dtype=bool)))


def categorical_accuracy(y_index: np.ndarray, proba: np.ndarray) -> float:
    """Share of rows whose argmax is the true index, as keras CategoricalAccuracy."""
    return float(np.mean(np.argmax(proba, axis=1) == np.asarray(y_index)))


class _Ranking(NamedTuple):
    """Counts at each distinct score of the positive rows (ascending): enough for AUC, AP, F1."""

    positives_at: np.ndarray  # positives scoring exactly that
    tp: np.ndarray  # positives scoring >= it
    fp: np.ndarray  # negatives scoring >= it
    ordered_pairs: int  # 2 × correctly ordered (positive, negative) pairs; a tie counts 1
    n_pos: int
    n_neg: int

    def roc_auc(self) -> float | None:
        """Mann–Whitney AUC, exact; None without both classes (sklearn gives nan and warns)."""
        if self.n_pos == 0 or self.n_neg == 0:
            return None
        return self.ordered_pairs / (2 * self.n_pos * self.n_neg)

    def average_precision(self) -> float | None:
        """sklearn's AP: each block of tied scores is one threshold; None without positives."""
        if self.n_pos == 0:
            return None
        precision = self.tp / (self.tp + self.fp)
        return float(np.dot(self.positives_at, precision) / self.n_pos)

    def f1(self) -> np.ndarray:
        """F1 of `score >= each distinct positive score`: 2tp / (tp + fp + n_pos)."""
        return 2 * self.tp / (self.tp + self.fp + self.n_pos)


def _rank(
    pos_sorted: np.ndarray, neg_sorted: np.ndarray, neg_below: np.ndarray | None = None
) -> _Ranking:
    """Tie-aware counts of the two ascending score arrays of one class against the rest.

    neg_below, the negatives strictly below each positive, when a merge of the two already
    gives it; otherwise each distinct positive score is searched for among the negatives.
    """
    n_pos, n_neg = pos_sorted.size, neg_sorted.size
    # A run of tied scores starts wherever the sorted value changes.
    is_start = np.ones(n_pos, dtype=bool)
    np.not_equal(pos_sorted[1:], pos_sorted[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    scores = pos_sorted[starts]
    if neg_below is None:
        neg_below = np.searchsorted(neg_sorted, scores, side="left")
    else:
        neg_below = neg_below[starts]
    # Ties across the classes are rare: search again from the right only where one exists.
    neg_not_above = neg_below.copy()
    tied = np.flatnonzero(neg_sorted[np.minimum(neg_below, n_neg - 1)] == scores) if n_neg else []
    neg_not_above[tied] = np.searchsorted(neg_sorted, scores[tied], side="right")
    positives_at = np.diff(starts, append=n_pos)
    # A negative strictly below scores 2, a tied one 1: integer sums, exact at 10 M rows.
    ordered_pairs = int(np.dot(positives_at, neg_below + neg_not_above))
    return _Ranking(positives_at, n_pos - starts, n_neg - neg_below, ordered_pairs, n_pos, n_neg)


def _rank_column(scores: np.ndarray, is_class: np.ndarray) -> _Ranking:
    return _rank(np.sort(scores[is_class]), np.sort(scores[~is_class]))


def _merge(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two sorted sides as one ascending array, and which of its entries are positives.

    A stable argsort of the sides laid end to end is one merge pass (timsort finds the two
    runs), cheaper than sorting again or searching each score among the other side's.
    """
    both = np.concatenate([pos, neg])
    order = np.argsort(both, kind="stable")
    return both[order], order < pos.size


def _runs(ordered: np.ndarray, is_hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal values in ascending scores: the rows, and the hits among them, below each.

    Hits are the rows of the class ranked. A run starts wherever the value changes, and a
    running count of the hits gives those below it; both arrays end with the totals.
    """
    boundary = np.ones(ordered.size + 1, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=boundary[1:-1])
    rows_below = np.flatnonzero(boundary)
    del boundary
    hits_below = np.zeros(ordered.size + 1, dtype=np.int64)
    np.cumsum(is_hit, out=hits_below[1:])
    return rows_below, hits_below[rows_below]


def _rank_runs(rows_below: np.ndarray, hits_below: np.ndarray) -> _Ranking:
    """_Ranking from the runs of tied scores (see _runs), with no search and no sort.

    The runs holding a hit are the thresholds; the other rows of such a run are the misses
    tied with its hits.
    """
    n_hit = int(hits_below[-1])
    n_miss = int(rows_below[-1]) - n_hit
    held = np.flatnonzero(hits_below[1:] != hits_below[:-1])
    hits = hits_below[held]
    misses = rows_below[held]
    misses -= hits
    held += 1  # the next run: what scores below it scores at or below the held one
    positives_at = hits_below[held]
    misses_not_above = rows_below[held]
    del held
    misses_not_above -= positives_at
    positives_at -= hits
    # A miss strictly below scores 2, a tied one 1: integer sums, exact at 10 M rows.
    misses_not_above += misses
    ordered_pairs = int(np.dot(positives_at, misses_not_above))
    del misses_not_above
    tp = np.subtract(n_hit, hits, out=hits)
    fp = np.subtract(n_miss, misses, out=misses)
    return _Ranking(positives_at, tp, fp, ordered_pairs, n_hit, n_miss)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0.0 where the denominator is 0 (sklearn's zero_division=0)."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _precision_recall_f1(
    tp: np.ndarray | int, n_predicted: np.ndarray | int, support: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 = 2tp / (2tp + fp + fn), each 0.0 when undefined."""
    return _ratio(tp, n_predicted), _ratio(tp, support), _ratio(2 * tp, n_predicted + support)


def _matthews(confusion: np.ndarray) -> float:
    """Multi-class MCC by sklearn's formula (float64 sums), 0.0 when the denominator is 0."""
    t_sum = confusion.sum(axis=1, dtype=np.float64)
    p_sum = confusion.sum(axis=0, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = np.trace(confusion, dtype=np.float64) * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    denominator = cov_ypyp * cov_ytyt
    return 0.0 if denominator == 0 else float(cov_ytyp / np.sqrt(denominator))


def _label_summary(confusion: np.ndarray) -> tuple[dict[str, float], tuple[np.ndarray, ...]]:
    """accuracy, balanced_accuracy, f1_macro and mcc of a K×K confusion, and per-class P/R/F1.

    balanced accuracy averages recall over the classes in y only; f1_macro averages over the
    classes in y or in the predictions: sklearn's default labels, not all K.
    """
    tp = np.diag(confusion)
    support, n_predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    precision, recall, f1 = _precision_recall_f1(tp, n_predicted, support)
    summary = {
        "accuracy": float(tp.sum() / support.sum()),
        "balanced_accuracy": float(np.mean(recall[support > 0])),
        "f1_macro": float(np.mean(f1[(support > 0) | (n_predicted > 0)])),
        "mcc": _matthews(confusion),
    }
    return summary, (precision, recall, f1, support)


def _class_table(
    prf_support: tuple[np.ndarray, ...], aucs: list, aps: list
) -> tuple[ClassMetrics, ...]:
    precision, recall, f1, support = prf_support
    return tuple(
        ClassMetrics(
            k, float(precision[k]), float(recall[k]), float(f1[k]), int(support[k]), auc, ap
        )
        for k, (auc, ap) in enumerate(zip(aucs, aps, strict=True))
    )


def _naming(noun: str, indices: list[int]) -> str:
    """'class 3' or 'classes 3, 7', for a reason in plain words."""
    shown = ", ".join(str(i) for i in indices[:5]) + (", …" if len(indices) > 5 else "")
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{plural if len(indices) > 1 else noun} {shown}"


def _set_macro(
    values: dict, undefined: dict, key: str, per_class: list, missing: list[int], reason: str
) -> None:
    """Mean over the classes, or None and the reason when some class has no value.

    sklearn warns and returns nan there (AUC), or averages in a 0.0 (AP) that reads as a score.
    """
    if missing:
        values[key] = None
        undefined[key] = reason
    else:
        values[key] = float(np.mean(per_class))


def _threshold_row(
    threshold: float, tp: int, fp: int, n_pos: int, n_neg: int, best_f1: bool = False
) -> ThresholdRow:
    tp, fp = int(tp), int(fp)
    fn, tn = n_pos - tp, n_neg - fp
    precision, recall, f1 = (float(v) for v in _precision_recall_f1(tp, tp + fp, n_pos))
    accuracy = (tp + tn) / (n_pos + n_neg)
    return ThresholdRow(float(threshold), accuracy, precision, recall, f1, tp, fp, fn, tn, best_f1)


def _best_f1_row(ranking: _Ranking, merged: np.ndarray) -> ThresholdRow:
    """Row at the distinct score maximising F1, the highest such score on ties.

    Raising the threshold from a score held only by negatives up to the next positive score
    keeps tp and drops fp, so the maximum always sits at a positive score. merged holds every
    score ascending: the tp + fp rows at or above a threshold are its last ones.
    """
    n_pos, n_neg = ranking.n_pos, ranking.n_neg
    if n_pos == 0:
        top = merged[-1]
        n_top = n_neg - int(np.searchsorted(merged, top, side="left"))
        return _threshold_row(top, 0, n_top, 0, n_neg, best_f1=True)
    f1 = ranking.f1()
    best = f1.size - 1 - int(np.argmax(f1[::-1]))
    tp, fp = int(ranking.tp[best]), int(ranking.fp[best])
    return _threshold_row(merged[merged.size - tp - fp], tp, fp, n_pos, n_neg, best_f1=True)


def _rank_binary(pos: np.ndarray, neg: np.ndarray) -> tuple[list, list, ThresholdRow, Calibration]:
    """AUC and AP of class 0 and class 1, the best-F1 row and the calibration, off one merge.

    Each ranking is as long as the data: it is read, then dropped before the next is built.
    """
    merged, merged_is_pos = _merge(pos, neg)
    # The merge puts positives before the negatives they tie with, so the negatives ahead of
    # each positive are those scoring strictly below it.
    neg_below = np.flatnonzero(merged_is_pos)
    neg_below -= np.arange(pos.size)
    ranking = _rank(pos, neg, neg_below)
    del neg_below
    best_f1_row = _best_f1_row(ranking, merged)
    auc_1, ap_1 = ranking.roc_auc(), ranking.average_precision()
    del ranking
    reliability = _sorted_calibration(merged, pos)
    # Class 0 is scored by 1 - p rounded in p's dtype, as sklearn's [1 - p, p] columns are:
    # reversed, that ascends. Rounding can give neighbouring values of p one value of 1 - p,
    # so its runs are found on 1 - p itself.
    runs = _runs(1 - merged[::-1], ~merged_is_pos[::-1])
    del merged, merged_is_pos
    ranking = _rank_runs(*runs)
    aucs, aps = [ranking.roc_auc(), auc_1], [ranking.average_precision(), ap_1]
    return aucs, aps, best_f1_row, reliability


def _sum_squares(x: np.ndarray) -> float:
    x = x.astype(np.float64, copy=False)
    return float(np.dot(x, x))


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> Metrics:
    """All binary numbers: p = P(class 1), predicted positive when p >= threshold.

    The threshold is compared in p's dtype, as `p >= threshold` does for a Python float.
    """
    p = _as_float(p)
    is_pos = np.asarray(y).astype(bool, copy=False)
    # np.compress copies the rows several times faster than indexing with the mask does.
    pos, neg = np.compress(is_pos, p), np.compress(~is_pos, p)
    del is_pos
    pos.sort()
    neg.sort()
    n_pos, n_neg = pos.size, neg.size
    aucs, aps, best_f1_row, reliability = _rank_binary(pos, neg)

    cuts = np.asarray([*THRESHOLD_GRID, threshold], dtype=p.dtype)
    tps = n_pos - np.searchsorted(pos, cuts, side="left")
    fps = n_neg - np.searchsorted(neg, cuts, side="left")
    grid_counts = zip(THRESHOLD_GRID, tps[:-1], fps[:-1], strict=True)
    rows = [_threshold_row(t, tp, fp, n_pos, n_neg) for t, tp, fp in grid_counts]
    rows.append(best_f1_row)

    tp, fp = int(tps[-1]), int(fps[-1])
    confusion = np.array([[n_neg - fp, fp], [n_pos - tp, tp]], dtype=np.int64)
    summary, prf_support = _label_summary(confusion)
    precision, recall, f1, _ = prf_support

    # Class 0 is scored by 1 - p rounded in p's dtype (sklearn's view); 1 - x reverses order.
    pos_of_0, neg_of_0 = 1 - neg[::-1], 1 - pos[::-1]
    total_loss = np.sum(row_losses(pos)) + np.sum(row_losses(pos_of_0))
    # sklearn averages the squared errors of both columns [1 - p, p]; for a negative the class-0
    # term is 1 - (1 - p), which rounds for tiny p, so mirror it rather than use p**2 twice.
    squared_errors = 2 * _sum_squares(neg_of_0) + _sum_squares(neg) + _sum_squares(1 - pos_of_0)
    brier = squared_errors / (2 * p.size)

    values: dict[str, float | None] = {
        "log_loss": float(total_loss / p.size),
        "accuracy": summary["accuracy"],
        "balanced_accuracy": summary["balanced_accuracy"],
        "precision": float(precision[1]),
        "recall": float(recall[1]),
        "f1": float(f1[1]),
        "f1_macro": summary["f1_macro"],
        "roc_auc": aucs[1],
        "pr_auc": aps[1],
        "brier": float(brier),
        "mcc": summary["mcc"],
    }
    values["ece"] = reliability.ece
    undefined: dict[str, str] = {}
    if values["roc_auc"] is None:
        undefined["roc_auc"] = "only one class in the labels"
    if values["pr_auc"] is None:
        undefined["pr_auc"] = "no positive rows in the labels"
    per_class = _class_table(prf_support, aucs, aps)
    spread = _sorted_histogram((neg, pos), ("true class 0", "true class 1"))
    return Metrics(values, undefined, per_class, tuple(rows), confusion, reliability, spread)


def multiclass_metrics(y: np.ndarray, proba: np.ndarray) -> Metrics:
    """All multi-class numbers: proba is N×K (K >= 2), the prediction is the first argmax."""
    proba = _as_float(proba)
    y = np.asarray(y).astype(np.intp, copy=False)
    n_classes = proba.shape[1]
    predicted = np.argmax(proba, axis=1)
    confusion = np.bincount(y * n_classes + predicted, minlength=n_classes * n_classes)
    confusion = confusion.reshape(n_classes, n_classes).astype(np.int64, copy=False)
    summary, prf_support = _label_summary(confusion)
    rankings = [_rank_column(proba[:, k], y == k) for k in range(n_classes)]
    aucs = [ranking.roc_auc() for ranking in rankings]
    aps = [ranking.average_precision() for ranking in rankings]
    # A class every row is would leave the others absent, so absence is the one reason.
    absent = [k for k, ap in enumerate(aps) if ap is None]
    reason = f"{_naming('class', absent)} absent from the labels"
    true_class = true_class_probability(y, proba)

    values: dict[str, float | None] = {
        "log_loss": log_loss(true_class),
        "accuracy": summary["accuracy"],
        "balanced_accuracy": summary["balanced_accuracy"],
        "f1_macro": summary["f1_macro"],
    }
    undefined: dict[str, str] = {}
    _set_macro(values, undefined, "roc_auc", aucs, absent, reason)
    _set_macro(values, undefined, "pr_auc", aps, absent, reason)
    values["mcc"] = summary["mcc"]
    values["categorical_accuracy"] = summary["accuracy"]
    values["binary_accuracy"] = keras_binary_accuracy(one_hot(y, n_classes), proba)
    reliability = calibration(np.max(proba, axis=1), predicted == y)
    values["ece"] = reliability.ece
    per_class = _class_table(prf_support, aucs, aps)
    spread = histogram(true_class, None, ("P(true class)",))
    return Metrics(values, undefined, per_class, (), confusion, reliability, spread)


def multilabel_metrics(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> Metrics:
    """All multi-label numbers: Y and proba are N×K, each cell predicted when p >= threshold."""
    proba = _as_float(proba)
    actual = np.asarray(y).astype(bool, copy=False)
    predicted = proba >= _cut(threshold, proba)
    n_rows, n_labels = proba.shape
    tp = np.count_nonzero(actual & predicted, axis=0)
    support, n_predicted = np.count_nonzero(actual, axis=0), np.count_nonzero(predicted, axis=0)
    fp, fn = n_predicted - tp, support - tp
    # Laid out as sklearn.metrics.multilabel_confusion_matrix: [[tn, fp], [fn, tp]] per label.
    confusion = np.stack([n_rows - tp - fp - fn, fp, fn, tp], axis=1).reshape(n_labels, 2, 2)
    precision, recall, f1 = _precision_recall_f1(tp, n_predicted, support)
    rankings = [_rank_column(proba[:, k], actual[:, k]) for k in range(n_labels)]
    aucs = [ranking.roc_auc() for ranking in rankings]
    aps = [ranking.average_precision() for ranking in rankings]
    one_sided = [k for k, auc in enumerate(aucs) if auc is None]
    never_positive = [k for k, ap in enumerate(aps) if ap is None]

    values: dict[str, float | None] = {
        "log_loss": log_loss(true_class_probability(actual, proba)),
        "accuracy": float(np.mean(np.all(actual == predicted, axis=1))),
        "binary_accuracy": keras_binary_accuracy(actual, proba, threshold),
        "categorical_accuracy": categorical_accuracy(np.argmax(actual, axis=1), proba),
        "f1_macro": float(np.mean(f1)),
    }
    undefined: dict[str, str] = {}
    one_sided_reason = f"{_naming('label', one_sided)} all 0 or all 1"
    _set_macro(values, undefined, "roc_auc", aucs, one_sided, one_sided_reason)
    absent_reason = f"{_naming('label', never_positive)} never positive"
    _set_macro(values, undefined, "pr_auc", aps, never_positive, absent_reason)
    reliability = calibration(proba.ravel(), actual.ravel())
    values["ece"] = reliability.ece
    per_class = _class_table((precision, recall, f1, support), aucs, aps)
    confusion = confusion.astype(np.int64, copy=False)
    spread = histogram(proba.ravel(), actual.ravel(), ("cells 0", "cells 1"))
    return Metrics(values, undefined, per_class, (), confusion, reliability, spread)


# ---- what frameworks compute -------------------------------------------------------------------

KERAS_EPSILON = 1e-7


def keras_crossentropy(y: np.ndarray, scores: np.ndarray, *, one_hot_cells: bool = False) -> float:
    """The loss Keras prints for `scores` taken as probabilities (from_logits=False).

    Keras clips into [1e-7, 1 - 1e-7]; categorical cross-entropy first divides each row by its
    sum. With `one_hot_cells`, binary cross-entropy over every cell of the one-hot labels: what
    `loss='binary_crossentropy'` computes on a multi-class problem.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 2 and not one_hot_cells:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = scores / scores.sum(axis=1, keepdims=True)
        scores = np.nan_to_num(scores, nan=0.0)
    clipped = np.clip(scores, KERAS_EPSILON, 1 - KERAS_EPSILON)
    if one_hot_cells:
        return log_loss(true_class_probability(one_hot(y, scores.shape[1]), clipped), 0.0)
    return log_loss(true_class_probability(y, clipped), 0.0)
