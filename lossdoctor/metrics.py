"""Every number of the report, in NumPy, equal to scikit-learn's, from summaries that merge.

summarize() reduces a batch of rows to a MetricSummary: row counts, loss and Brier sums, the
confusion matrix, counts at fixed thresholds and histogram edges, and a value table per score
column (lossdoctor.tables). Summaries of batches merge, and metrics_from() reads every metric
off one, so a file in memory (one batch), a stream of batches and the partitions of a cluster
share one code path. Ranking metrics and calibration come from the tables: exact unless a
capacity turned them into grids, whose values then carry error bounds.

Sample weights (scikit-learn's sample_weight) turn every count into a sum of weights: the
confusion matrix, the tables, the threshold rows and the histograms hold float64 sums, and
every mean is weighted. Calibration bins are the weighted quantiles: the bins of the rows
repeated as many times as their weight says (scikit-learn's calibration_curve takes no weights).
"""

from dataclasses import dataclass, field, replace

import numpy as np

from lossdoctor.curves import Curve, curve, operating_point
from lossdoctor.stats.means import Moments, sum_of_products
from lossdoctor.tables import (
    GRID_BITS,
    BestF1,
    ValueTable,
    at_or_above,
    complement,
    dense,
    grid_bits,
    merge,
    merge_all,
    quantile_bins,
    rank,
    rows_at_or_above,
    tabulate,
    tabulate_sides,
)

# The metrics that read the scores beyond their order at one threshold: undefined for class
# labels saved as scores (see without_scores).
SCORE_METRICS = ("log_loss", "roc_auc", "pr_auc", "brier", "ece")
THRESHOLD_GRID: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CALIBRATION_BINS = 10
HISTOGRAM_BINS = 20
# ROC and precision-recall curves: every class up to MAX_CURVES (the colours a chart tells
# apart), else the CURVE_EXTREMES worst and best by ROC-AUC.
MAX_CURVES = 8
CURVE_EXTREMES = 3
_HISTOGRAM_EDGES = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
# Every name a report's metrics can hold, over all tasks: what a gate may name. Each task
# computes a subset (brier is not multi-label; the Keras accuracies are not binary).
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
    support: int | float  # rows whose true class this is (weighted: their summed weights)
    roc_auc: float | None  # one-vs-rest; None when the class is absent or is every row
    # average precision; 0.0 when the class is absent, as scikit-learn's; None without scores
    pr_auc: float | None


@dataclass(frozen=True)
class ThresholdRow:
    """Binary scores of `p >= threshold`."""

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    tp: int | float  # float: summed weights
    fp: int | float
    fn: int | float
    tn: int | float
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
    # int64 (K, K) true × predicted; multi-label (K, 2, 2) as sklearn; float64 when weighted
    confusion: np.ndarray
    calibration: Calibration
    histogram: Histogram
    # metrics read off a grid (lossdoctor.tables) and how far each can be from the exact value;
    # empty when every table is exact
    error_bound: dict[str, float] = field(default_factory=dict)
    # a defined value that holds by convention rather than by measure, and why (average
    # precision of a class without positive rows is 0.0, as scikit-learn returns it)
    notes: dict[str, str] = field(default_factory=dict)
    # ROC and precision-recall curves, thinned, of the classes a chart shows (see _curves_of)
    curves: tuple[Curve, ...] = ()


def without_scores(metrics: Metrics, reason: str) -> Metrics:
    """The metrics of class labels saved as scores: those that need scores undefined, with the
    reason; the label metrics (accuracy, the confusion matrix, F1, ...) as they are."""
    dropped = [name for name in SCORE_METRICS if name in metrics.values]
    return replace(
        metrics,
        values={k: None if k in dropped else v for k, v in metrics.values.items()},
        undefined=metrics.undefined | dict.fromkeys(dropped, reason),
        per_class=tuple(replace(c, roc_auc=None, pr_auc=None) for c in metrics.per_class),
        error_bound={
            k: v for k, v in metrics.error_bound.items() if k.split("[")[0] not in dropped
        },
        notes={k: v for k, v in metrics.notes.items() if k not in dropped},
        curves=(),
    )


def histogram(
    values: np.ndarray,
    group: np.ndarray | None,
    groups: tuple[str, ...],
    weights: np.ndarray | None = None,
) -> Histogram:
    """One pass of bincount: bin index plus group offset, so no loop over groups or rows."""
    bin_of = np.minimum((values * HISTOGRAM_BINS).astype(np.intp), HISTOGRAM_BINS - 1)
    if group is not None:
        bin_of += group.astype(np.intp) * HISTOGRAM_BINS
    counts = np.bincount(bin_of, weights, minlength=len(groups) * HISTOGRAM_BINS)
    counts = _counts(counts.reshape(len(groups), HISTOGRAM_BINS))
    return Histogram(_HISTOGRAM_EDGES.copy(), counts, groups)


def _counts(counts: np.ndarray) -> np.ndarray:
    """int64 counts, or float64 sums of weights."""
    return counts if counts.dtype.kind == "f" else counts.astype(np.int64, copy=False)


def weighted_sum(values: np.ndarray, weights: np.ndarray | None) -> float:
    """The sum of per-row (or per-cell, N x K) values; with weights, each row's times its
    weight."""
    if weights is None:
        return float(np.sum(values))
    per_row = values if values.ndim == 1 else values.sum(axis=1)
    return float(np.dot(weights, np.asarray(per_row, dtype=np.float64)))


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
            k, float(precision[k]), float(recall[k]), float(f1[k]), support[k].item(), auc, ap
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

    sklearn warns and returns nan there (AUC with a class absent).
    """
    if missing:
        values[key] = None
        undefined[key] = reason
    else:
        values[key] = float(np.mean(per_class))


def _without_positives_note(noun: str, indices: list[int]) -> str:
    """Why an average precision holds a 0.0 that measures nothing."""
    its = "their" if len(indices) > 1 else "its"
    return (
        f"{_naming(noun, indices)} without positive rows: {its} average precision is 0, "
        "as scikit-learn returns it"
    )


def _threshold_row(
    threshold: float,
    tp: int | float,
    fp: int | float,
    n_pos: int | float,
    n_neg: int | float,
    best_f1: bool = False,
) -> ThresholdRow:
    tp, fp = np.asarray(tp).item(), np.asarray(fp).item()
    fn, tn = n_pos - tp, n_neg - fp
    precision, recall, f1 = (float(v) for v in _precision_recall_f1(tp, tp + fp, n_pos))
    accuracy = (tp + tn) / (n_pos + n_neg)
    return ThresholdRow(float(threshold), accuracy, precision, recall, f1, tp, fp, fn, tn, best_f1)


# ---- summaries that merge ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MetricSummary:
    """Everything the metrics of a batch of rows need, in a form where batches add up.

    Counts and sums add, and value tables merge (lossdoctor.tables), so the summary of a file
    in batches, merged in any order, gives the metrics of the whole file. Fields a task does
    not use stay 0 or empty.
    """

    task: str  # "binary", "multiclass" or "multilabel"
    threshold: float  # binary and multi-label: a cell is predicted when p >= threshold
    rows: int | float  # weighted: the rows' summed weights
    loss_sum: float  # row_losses of the true-class probabilities (every cell for multi-label)
    confusion: np.ndarray  # int64: binary (2, 2) at the threshold; (K, K); multi-label (K, 2, 2)
    tables: tuple[ValueTable, ...]  # binary: P(class 1) by positives; else one per class column
    histogram: np.ndarray  # int64 (groups, HISTOGRAM_BINS)
    # binary: positives and negatives with p >= each of THRESHOLD_GRID, then the threshold
    cut_counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    # squared errors of the one-hot truth, summed over the columns (binary: sklearn's [1 - p, p])
    brier_sum: float = 0.0
    cell_hits: int | float = 0  # cells where (p > threshold) == y: Keras' binary accuracy
    top_hits: int | float = 0  # multi-label: rows where the argmax of y is the argmax of p
    exact_rows: int | float = 0  # multi-label: rows with every cell predicted right
    # multi-class: top-label confidence, a hit where the argmax is right (binary calibrates
    # on its one table, multi-label on all of them)
    calibration_table: ValueTable | None = None
    # Squared deviations of the per-row log loss (multi-label: a row's mean over its labels)
    # and Brier score from their means: the t intervals of both (lossdoctor.stats.means).
    loss_squares: float = 0.0
    brier_squares: float = 0.0
    weighted: bool = False  # rows carry sample weights: counts and sums are sums of weights

    def loss_moments(self) -> Moments:
        """Count, sum and squared deviations of the per-row losses."""
        cells = self.rows * len(self.tables) if self.task == "multilabel" else self.rows
        per_row_total = self.loss_sum * self.rows / cells if cells else 0.0
        return Moments(float(self.rows), per_row_total, self.loss_squares)

    def brier_moments(self) -> Moments:
        """Count, sum and squared deviations of the per-row Brier scores: the squared errors
        of a row's classes, halved for two classes (scikit-learn's brier_score_loss)."""
        classes = 2 if self.task == "binary" else self.confusion.shape[0]
        per_row_total = self.brier_sum / (2 if classes == 2 else 1)
        return Moments(float(self.rows), per_row_total, self.brier_squares)


def summarize(
    task: str,
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float = 0.5,
    capacity: int | None = None,
    bits: int = GRID_BITS,
    logits: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> MetricSummary:
    """The summary of one batch: y and proba as infer.Prepared holds them; `weights`, positive
    sample weights of the rows, as scikit-learn's sample_weight (None: every row counts 1).

    Binary: y 0/1 and p = P(class 1), (N,). Multi-class: y the class index, proba (N, K).
    Multi-label: y bool and proba, both (N, K). capacity=None keeps every table exact; past
    it a table becomes a grid of `bits` mantissa bits (fewer per class when there are many).
    `logits`, when proba is their sigmoid (binary, multi-label) or softmax (multi-class): the
    log loss comes from them by a stable log-sigmoid / log-softmax, and a sigmoid's tables
    rank them in their own order, so distinct logits never tie (see lossdoctor.tables).
    """
    proba = _as_float(proba)
    if task == "binary":
        summary = _summarize_binary(y, proba, threshold, capacity, bits, logits, weights)
    elif task == "multiclass":
        summary = _summarize_multiclass(y, proba, capacity, bits, logits, weights)
    else:
        summary = _summarize_multilabel(y, proba, threshold, capacity, bits, logits, weights)
    return summary if weights is None else replace(summary, weighted=True)


def _logit_losses(is_pos: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of each cell from logits: log(1 + e^-z) for a positive,
    log(1 + e^z) for a negative, by logaddexp: exact where a sigmoid would round to 0 or 1."""
    z = np.asarray(z, dtype=np.float64)
    signed = np.where(is_pos, -z, z)
    return np.logaddexp(0, signed, out=signed)


# Row-wise sums go a block at a time: temporaries of a few megabytes are reused from the heap.
_BLOCK_ROWS = 1 << 20
_CACHED_ROWS = 1 << 14


def _capacity_each(capacity: int | None, n_tables: int) -> int | None:
    """The distinct scores each of n per-class tables keeps exactly: together, as many as one
    table would, so memory stays bounded however many classes there are."""
    return None if capacity is None else max(capacity // n_tables, 1)


def _binary_sums(is_pos: np.ndarray, p: np.ndarray) -> tuple[float, float, Moments, Moments]:
    """The summed log loss and squared errors, and the moments of both per row, block by
    block (small temporaries, reused)."""
    loss_sum = brier_sum = 0.0
    loss_moments = brier_moments = Moments(0.0, 0.0, 0.0)
    for start in range(0, p.size, _BLOCK_ROWS):
        part = slice(start, start + _BLOCK_ROWS)
        pos, neg = np.compress(is_pos[part], p[part]), np.compress(~is_pos[part], p[part])
        # Class 0 is scored by 1 - p rounded in p's dtype, as sklearn's [1 - p, p] columns are.
        pos_of_0, neg_of_0 = 1 - neg, 1 - pos
        losses = row_losses(pos), row_losses(pos_of_0)
        block_loss = float(np.sum(losses[0]) + np.sum(losses[1]))
        loss_sum += block_loss
        with np.errstate(over="ignore"):  # an infinite spread leaves the interval out
            squared_losses = sum(sum_of_products(x, x) for x in losses)
        loss_moments = loss_moments.merge(_moments(pos.size + neg.size, block_loss, squared_losses))
        # sklearn averages the squared errors of both columns; for a negative the class-0
        # term is 1 - (1 - p), which rounds for tiny p, so mirror it rather than use p**2.
        positive_rows = np.square(neg_of_0, dtype=np.float64)  # both columns' error alike
        negative_rows = np.square(neg, dtype=np.float64)
        negative_rows += np.square(1 - pos_of_0, dtype=np.float64)
        negative_rows *= 0.5
        block_brier = float(positive_rows.sum() + negative_rows.sum())
        brier_sum += 2 * block_brier
        squares = sum_of_products(positive_rows, positive_rows) + sum_of_products(
            negative_rows, negative_rows
        )
        brier_moments = brier_moments.merge(_moments(p[part].size, block_brier, squares))
    return loss_sum, brier_sum, loss_moments, brier_moments


def _moments(count: int, total: float, sum_of_squares: float) -> Moments:
    """The moments of one block from its sums: per-row losses and squared errors vary
    enough against their mean that the block's sum of squares keeps the digits."""
    squares = max(float(sum_of_squares) - total * total / count, 0.0) if count else 0.0
    return Moments(float(count), total, squares)


def _summarize_binary(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    capacity: int | None,
    bits: int,
    logits: np.ndarray | None,
    weights: np.ndarray | None,
) -> MetricSummary:
    is_pos = np.asarray(y).astype(bool, copy=False)
    squash = logits is not None
    if weights is None:
        loss_sum, brier_sum, loss_moments, brier_moments = _binary_sums(is_pos, p)
    else:
        loss_sum, brier_sum = _weighted_binary_sums(is_pos, p, weights)
        loss_moments = brier_moments = Moments(0.0, 0.0, 0.0)  # no intervals when weighted
    if squash:
        losses = _logit_losses(is_pos, logits)
        loss_sum, loss_moments = weighted_sum(losses, weights), Moments.of(losses)
        del losses
    ranked = logits if squash else p
    # np.compress copies the rows several times faster than indexing with the mask does.
    pos, neg = np.compress(is_pos, ranked), np.compress(~is_pos, ranked)
    n_pos, n_neg = pos.size, neg.size

    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)[:-1]
    cuts = np.asarray([*edges, *THRESHOLD_GRID, threshold], dtype=p.dtype)
    if capacity is not None and p.size > capacity:
        table = tabulate(ranked, is_pos, capacity, bits, squash, weights)
        above_pos, above_neg = rows_at_or_above(p, is_pos, cuts, weights)
    elif weights is not None:
        table = tabulate(ranked, is_pos, None, bits, squash, weights)
        above_pos, above_neg = at_or_above(table, cuts)
    else:
        pos.sort()
        neg.sort()
        table = tabulate_sides(pos, neg, bits, squash)
        above_pos, above_neg = at_or_above(table, cuts)
    del pos, neg

    # A histogram bin holds the scores from its edge (in p's dtype) to the next one's.
    at_edges = np.stack([above_neg[:HISTOGRAM_BINS], above_pos[:HISTOGRAM_BINS]])
    spread = at_edges - np.pad(at_edges[:, 1:], ((0, 0), (0, 1)))
    cut_counts = np.stack([above_pos[HISTOGRAM_BINS:], above_neg[HISTOGRAM_BINS:]], axis=1)
    tp, fp = (v.item() for v in cut_counts[-1])
    if weights is not None:
        n_pos, n_neg = table.hits, table.misses
    confusion = _counts(np.array([[n_neg - fp, fp], [n_pos - tp, tp]]))
    return MetricSummary(
        "binary",
        threshold,
        p.size if weights is None else table.rows,
        loss_sum,
        confusion,
        (table,),
        _counts(spread),
        _counts(cut_counts),
        brier_sum,
        loss_squares=loss_moments.squares,
        brier_squares=brier_moments.squares,
    )


def _weighted_binary_sums(
    is_pos: np.ndarray, p: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """_binary_sums with each row's terms times its weight: the same terms, row by row."""
    of_0 = (1 - p).astype(np.float64)  # class 0's score, rounded in p's dtype as sklearn's
    wide = p.astype(np.float64)
    losses = row_losses(true_class_probability(is_pos, p))
    # positive: both columns miss by 1 - p; negative: p, and 1 - (class 0's score)
    squares = np.where(is_pos, 2 * of_0 * of_0, wide * wide + (1 - of_0) ** 2)
    return float(np.dot(weights, losses)), float(np.dot(weights, squares))


def _summarize_multiclass(
    y: np.ndarray,
    proba: np.ndarray,
    capacity: int | None,
    bits: int,
    logits: np.ndarray | None,
    weights: np.ndarray | None,
) -> MetricSummary:
    y = np.asarray(y).astype(np.intp, copy=False)
    n_rows, n_classes = proba.shape
    predicted = np.argmax(proba, axis=1)
    confusion = np.bincount(y * n_classes + predicted, weights, minlength=n_classes * n_classes)
    confusion = _counts(confusion.reshape(n_classes, n_classes))
    true_class = true_class_probability(y, proba)
    losses = row_losses(true_class) if logits is None else _log_softmax_losses(y, logits)
    loss_sum = weighted_sum(losses, weights)
    brier_rows = _multiclass_brier_rows(proba, true_class)
    brier_sum = weighted_sum(brier_rows, weights)
    brier_rows /= 2 if n_classes == 2 else 1  # each row's share of the Brier score
    cell_hits = tally((proba > _cut(0.5, proba)) == one_hot(y, n_classes), weights)
    per_class = grid_bits(n_classes, bits)
    share = _capacity_each(capacity, n_classes)
    tables = tuple(
        tabulate(proba[:, k], y == k, share, per_class, weights=weights) for k in range(n_classes)
    )
    confidence = tabulate(np.max(proba, axis=1), predicted == y, capacity, bits, weights=weights)
    spread = histogram(true_class, None, ("P(true class)",), weights).counts
    return MetricSummary(
        "multiclass",
        0.5,
        n_rows if weights is None else confusion.sum(),
        loss_sum,
        confusion,
        tables,
        spread,
        brier_sum=brier_sum,
        cell_hits=cell_hits,
        calibration_table=confidence,
        loss_squares=Moments.of(losses).squares,
        brier_squares=Moments.of(brier_rows).squares,
    )


def tally(flags: np.ndarray, weights: np.ndarray | None) -> int | float:
    """Rows (or cells, N x K) flagged: a count; with weights, their summed weights (a cell
    weighs its row's)."""
    if weights is None:
        return int(np.count_nonzero(flags))
    per_row = flags if flags.ndim == 1 else np.count_nonzero(flags, axis=1)
    return float(np.dot(weights, per_row))


def _log_softmax_losses(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Cross-entropy of each row from logits: logsumexp of the row less its true class's
    logit, in float64 a block at a time (no probability is formed, so none rounds to 0)."""
    losses = np.empty(len(y))
    for start in range(0, len(y), _BLOCK_ROWS):
        z = logits[start : start + _BLOCK_ROWS].astype(np.float64)
        top = z.max(axis=1)
        z -= top[:, None]
        np.exp(z, out=z)
        log_sums = np.log(z.sum(axis=1)) + top
        true = logits[start : start + _BLOCK_ROWS][
            np.arange(len(top)), y[start : start + _BLOCK_ROWS]
        ]
        losses[start : start + len(top)] = log_sums - true.astype(np.float64)
    return losses


def _multiclass_brier_rows(proba: np.ndarray, true_class: np.ndarray) -> np.ndarray:
    """Each row's sum over classes of (one-hot truth - p)^2: every p^2, the true class's as
    (1 - q)^2 instead. Squared in float64 a class at a time, in class order, so the memory
    layout of proba does not change the sums (einsum's kernels differ by layout)."""
    squares = np.zeros(len(true_class))
    # A few rows at a time: a row-major proba's columns stay in cache while read by stride.
    for start in range(0, len(squares), _CACHED_ROWS):
        part = squares[start : start + _CACHED_ROWS]
        for column in proba[start : start + _CACHED_ROWS].T:
            part += np.square(column, dtype=np.float64)
    q = true_class.astype(np.float64)
    squares -= q * q
    squares += (1 - q) ** 2  # 1 - q is exact in float64 for float32 and float16 probabilities
    return squares


def _summarize_multilabel(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    capacity: int | None,
    bits: int,
    logits: np.ndarray | None,
    weights: np.ndarray | None,
) -> MetricSummary:
    actual = np.asarray(y).astype(bool, copy=False)
    predicted = proba >= _cut(threshold, proba)
    n_rows, n_labels = proba.shape
    if weights is None:
        tp = np.count_nonzero(actual & predicted, axis=0)
        support, n_predicted = np.count_nonzero(actual, axis=0), np.count_nonzero(predicted, axis=0)
    else:
        n_rows = float(np.sum(weights))
        tp, support = weights @ (actual & predicted), weights @ actual
        n_predicted = weights @ predicted
    fp, fn = n_predicted - tp, support - tp
    # Laid out as sklearn.metrics.multilabel_confusion_matrix: [[tn, fp], [fn, tp]] per label.
    confusion = np.stack([n_rows - tp - fp - fn, fp, fn, tp], axis=1).reshape(n_labels, 2, 2)
    if logits is None:
        losses = row_losses(true_class_probability(actual, proba))
    else:
        losses = _logit_losses(actual, logits)
    loss_sum = weighted_sum(losses, weights)
    loss_squares = Moments.of(losses.mean(axis=1)).squares
    exact_rows = tally(np.all(actual == predicted, axis=1), weights)
    del predicted
    cell_hits = tally((proba > _cut(threshold, proba)) == actual, weights)
    top_hits = tally(np.argmax(actual, axis=1) == np.argmax(proba, axis=1), weights)
    per_label = grid_bits(n_labels, bits)
    ranked = proba if logits is None else logits
    tables = tuple(
        tabulate(
            ranked[:, k],
            actual[:, k],
            _capacity_each(capacity, n_labels),
            per_label,
            logits is not None,
            weights,
        )
        for k in range(n_labels)
    )
    cell_weights = None if weights is None else np.repeat(weights, n_labels)
    spread = histogram(proba.ravel(), actual.ravel(), ("cells 0", "cells 1"), cell_weights).counts
    return MetricSummary(
        "multilabel",
        threshold,
        n_rows,
        loss_sum,
        _counts(confusion),
        tables,
        spread,
        cell_hits=cell_hits,
        top_hits=top_hits,
        exact_rows=exact_rows,
        loss_squares=loss_squares,
    )


def merge_summaries(
    a: MetricSummary, b: MetricSummary, capacity: int | None = None
) -> MetricSummary:
    """The summary of both batches: counts and sums add, tables merge (see tables.merge)."""
    if (a.task, a.threshold, a.confusion.shape) != (b.task, b.threshold, b.confusion.shape):
        raise ValueError("summaries of different tasks, thresholds or classes do not merge")
    share = _capacity_each(capacity, len(a.tables)) if len(a.tables) > 1 else capacity
    tables = tuple(merge(s, t, share) for s, t in zip(a.tables, b.tables, strict=True))
    confidence = None
    if a.calibration_table is not None and b.calibration_table is not None:
        confidence = merge(a.calibration_table, b.calibration_table, capacity)
    return MetricSummary(
        a.task,
        a.threshold,
        a.rows + b.rows,
        a.loss_sum + b.loss_sum,
        a.confusion + b.confusion,
        tables,
        a.histogram + b.histogram,
        a.cut_counts + b.cut_counts,
        a.brier_sum + b.brier_sum,
        a.cell_hits + b.cell_hits,
        a.top_hits + b.top_hits,
        a.exact_rows + b.exact_rows,
        confidence,
        a.loss_moments().merge(b.loss_moments()).squares,
        a.brier_moments().merge(b.brier_moments()).squares,
        a.weighted,
    )


# ---- metrics off a summary --------------------------------------------------------------------


def metrics_from(summary: MetricSummary) -> Metrics:
    """Every metric of the summarised rows; error_bound names those read off a grid."""
    calibration = summary.calibration_table
    summary = replace(
        summary,
        tables=tuple(dense(table) for table in summary.tables),
        calibration_table=None if calibration is None else dense(calibration),
    )
    if summary.task == "binary":
        return _binary_from(summary)
    if summary.task == "multiclass":
        return _multiclass_from(summary)
    return _multilabel_from(summary)


def _calibration(table: ValueTable) -> tuple[Calibration, float]:
    bins = quantile_bins(table, CALIBRATION_BINS)
    kept = bins.counts > 0
    counts = bins.counts[kept]
    reliability = Calibration(bins.sums[kept] / counts, bins.hits[kept] / counts, counts)
    return reliability, bins.bound


def _rankings(
    tables: tuple[ValueTable, ...], bounds: dict[str, float]
) -> tuple[list, list, list[BestF1]]:
    """Per-class AUC, AP and best-F1 threshold, each bound of a grid table in bounds as
    'roc_auc[k]'."""
    aucs, aps, bests = [], [], []
    for k, table in enumerate(tables):
        ranking = rank(table)
        aucs.append(ranking.roc_auc)
        aps.append(ranking.average_precision)
        bests.append(ranking.best_f1)
        if table.is_grid:
            if ranking.roc_auc is not None:
                bounds[f"roc_auc[{k}]"] = ranking.roc_auc_bound
            bounds[f"pr_auc[{k}]"] = ranking.average_precision_bound
    return aucs, aps, bests


def _curves_of(
    tables: tuple[ValueTable, ...],
    aucs: list,
    bests: list[BestF1],
    chosen: tuple[np.ndarray, np.ndarray],
    threshold: float | None,
) -> tuple[Curve, ...]:
    """The curves of every class, or of the CURVE_EXTREMES worst and best by ROC-AUC when
    there are more than MAX_CURVES: what a chart can show apart. `chosen` holds each class's
    true and false positives under the report's rule (threshold None: the argmax)."""
    ranked = sorted((auc, k) for k, auc in enumerate(aucs) if auc is not None)
    if len(tables) > MAX_CURVES:
        ranked = ranked[:CURVE_EXTREMES] + ranked[-CURVE_EXTREMES:]
    shown = sorted({k for _, k in ranked})
    drawn = (
        _class_curve(k, tables[k], bests[k], (chosen[0][k], chosen[1][k]), threshold) for k in shown
    )
    return tuple(c for c in drawn if c is not None)


def _class_curve(
    k: int, table: ValueTable, best: BestF1, chosen: tuple, threshold: float | None
) -> Curve | None:
    """Class k's curve, marked with the report's rule (tp, fp) and the best-F1 threshold."""
    positives, negatives = table.hits, table.misses
    if not positives or not negatives or not np.isfinite(table.rows):
        return None
    tp, fp = (float(n) for n in chosen)  # counts, or sums of sample weights
    rule = operating_point(tp, fp, positives, negatives, threshold)
    top = operating_point(best.tp, best.fp, positives, negatives, best.threshold)
    return curve(k, table, rule, top)


def _macro_bounds(bounds: dict[str, float], values: dict, n_classes: int) -> None:
    """A macro average's bound: the mean of its classes' (0.0 for an exact table)."""
    for key in ("roc_auc", "pr_auc"):
        per_class = [bounds.get(f"{key}[{k}]", 0.0) for k in range(n_classes)]
        if values.get(key) is not None and any(f"{key}[{k}]" in bounds for k in range(n_classes)):
            bounds[key] = float(np.mean(per_class))


def _binary_from(summary: MetricSummary) -> Metrics:
    table = summary.tables[0]
    n_pos, n_neg = table.hits, table.misses
    bounds: dict[str, float] = {}
    ranking = rank(table)
    best = ranking.best_f1
    best_f1_row = _threshold_row(best.threshold, best.tp, best.fp, n_pos, n_neg, best_f1=True)
    aucs, aps, _ = _rankings((complement(table),), bounds)
    aucs.append(ranking.roc_auc)
    aps.append(ranking.average_precision)
    reliability, ece_bound = _calibration(table)

    grid_counts = zip(THRESHOLD_GRID, summary.cut_counts[:-1], strict=True)
    rows = [_threshold_row(t, tp, fp, n_pos, n_neg) for t, (tp, fp) in grid_counts]
    rows.append(best_f1_row)
    confusion = summary.confusion
    label_summary, prf_support = _label_summary(confusion)
    precision, recall, f1, _ = prf_support

    values: dict[str, float | None] = {
        "log_loss": summary.loss_sum / summary.rows,
        "accuracy": label_summary["accuracy"],
        "balanced_accuracy": label_summary["balanced_accuracy"],
        "precision": float(precision[1]),
        "recall": float(recall[1]),
        "f1": float(f1[1]),
        "f1_macro": label_summary["f1_macro"],
        "roc_auc": aucs[1],
        "pr_auc": aps[1],
        "brier": summary.brier_sum / (2 * summary.rows),
        "mcc": label_summary["mcc"],
        "ece": reliability.ece,
    }
    undefined: dict[str, str] = {}
    notes: dict[str, str] = {}
    if values["roc_auc"] is None:
        undefined["roc_auc"] = "only one class in the labels"
    if n_pos == 0:
        notes["pr_auc"] = _without_positives_note("class", [1])
    if table.is_grid:
        if ranking.roc_auc is not None:
            bounds["roc_auc"] = bounds["roc_auc[1]"] = ranking.roc_auc_bound
        bounds["pr_auc"] = bounds["pr_auc[1]"] = ranking.average_precision_bound
        bounds["best_f1"] = best.bound
        bounds["ece"] = ece_bound
    per_class = _class_table(prf_support, aucs, aps)
    spread = Histogram(_HISTOGRAM_EDGES.copy(), summary.histogram, ("true class 0", "true class 1"))
    tp, fp = confusion[1, 1], confusion[0, 1]
    drawn = _class_curve(1, table, best, (tp, fp), summary.threshold)
    curves = () if drawn is None else (drawn,)
    return Metrics(
        values,
        undefined,
        per_class,
        tuple(rows),
        confusion,
        reliability,
        spread,
        bounds,
        notes,
        curves,
    )


def _multiclass_from(summary: MetricSummary) -> Metrics:
    confusion = summary.confusion
    n_classes = confusion.shape[0]
    label_summary, prf_support = _label_summary(confusion)
    bounds: dict[str, float] = {}
    aucs, aps, bests = _rankings(summary.tables, bounds)
    # A class every row is would leave the others absent, so absence is the one reason.
    absent = [k for k, table in enumerate(summary.tables) if table.hits == 0]
    reason = f"{_naming('class', absent)} absent from the labels"

    values: dict[str, float | None] = {
        "log_loss": summary.loss_sum / summary.rows,
        "accuracy": label_summary["accuracy"],
        "balanced_accuracy": label_summary["balanced_accuracy"],
        "f1_macro": label_summary["f1_macro"],
    }
    undefined: dict[str, str] = {}
    notes: dict[str, str] = {}
    _set_macro(values, undefined, "roc_auc", aucs, absent, reason)
    values["pr_auc"] = float(np.mean(aps))
    if absent:
        notes["pr_auc"] = _without_positives_note("class", absent)
    # sklearn's brier_score_loss keeps the [0, 2] range of the sum over classes past two
    values["brier"] = summary.brier_sum / summary.rows / (2 if n_classes == 2 else 1)
    values["mcc"] = label_summary["mcc"]
    values["categorical_accuracy"] = label_summary["accuracy"]
    values["binary_accuracy"] = summary.cell_hits / (summary.rows * n_classes)
    reliability, ece_bound = _calibration(summary.calibration_table)
    values["ece"] = reliability.ece
    _macro_bounds(bounds, values, n_classes)
    if summary.calibration_table.is_grid:
        bounds["ece"] = ece_bound
    per_class = _class_table(prf_support, aucs, aps)
    spread = Histogram(_HISTOGRAM_EDGES.copy(), summary.histogram, ("P(true class)",))
    tp = np.diag(confusion)
    curves = _curves_of(summary.tables, aucs, bests, (tp, confusion.sum(axis=0) - tp), None)
    return Metrics(
        values, undefined, per_class, (), confusion, reliability, spread, bounds, notes, curves
    )


def _multilabel_from(summary: MetricSummary) -> Metrics:
    confusion = summary.confusion
    n_rows, n_labels = summary.rows, confusion.shape[0]
    fp, fn, tp = (confusion.reshape(n_labels, 4)[:, i] for i in (1, 2, 3))  # [[tn, fp], [fn, tp]]
    support, n_predicted = tp + fn, tp + fp
    precision, recall, f1 = _precision_recall_f1(tp, n_predicted, support)
    bounds: dict[str, float] = {}
    aucs, aps, bests = _rankings(summary.tables, bounds)
    one_sided = [k for k, auc in enumerate(aucs) if auc is None]
    never_positive = [k for k, table in enumerate(summary.tables) if table.hits == 0]

    values: dict[str, float | None] = {
        "log_loss": summary.loss_sum / (n_rows * n_labels),
        "accuracy": summary.exact_rows / n_rows,
        "binary_accuracy": summary.cell_hits / (n_rows * n_labels),
        "categorical_accuracy": summary.top_hits / n_rows,
        "f1_macro": float(np.mean(f1)),
    }
    undefined: dict[str, str] = {}
    notes: dict[str, str] = {}
    one_sided_reason = f"{_naming('label', one_sided)} all 0 or all 1"
    _set_macro(values, undefined, "roc_auc", aucs, one_sided, one_sided_reason)
    values["pr_auc"] = float(np.mean(aps))
    if never_positive:
        notes["pr_auc"] = _without_positives_note("label", never_positive)
    # Every cell as binary: the labels' tables together.
    cells = merge_all(summary.tables)
    reliability, ece_bound = _calibration(cells)
    del cells
    values["ece"] = reliability.ece
    _macro_bounds(bounds, values, n_labels)
    if any(table.is_grid for table in summary.tables):
        bounds["ece"] = ece_bound
    per_class = _class_table((precision, recall, f1, support), aucs, aps)
    spread = Histogram(_HISTOGRAM_EDGES.copy(), summary.histogram, ("cells 0", "cells 1"))
    curves = _curves_of(summary.tables, aucs, bests, (tp, fp), summary.threshold)
    return Metrics(
        values, undefined, per_class, (), confusion, reliability, spread, bounds, notes, curves
    )


# ---- the whole of an in-memory file as one batch ----------------------------------------------


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> Metrics:
    """All binary numbers: p = P(class 1), predicted positive when p >= threshold (p's dtype)."""
    return metrics_from(summarize("binary", y, p, threshold))


def multiclass_metrics(y: np.ndarray, proba: np.ndarray) -> Metrics:
    """All multi-class numbers: proba is N×K (K >= 2), the prediction is the first argmax."""
    return metrics_from(summarize("multiclass", y, proba))


def multilabel_metrics(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> Metrics:
    """All multi-label numbers: Y and proba are N×K, each cell predicted when p >= threshold."""
    return metrics_from(summarize("multilabel", y, proba, threshold))


# ---- what frameworks compute -------------------------------------------------------------------

KERAS_EPSILON = 1e-7


def keras_loss_sum(
    y: np.ndarray,
    scores: np.ndarray,
    *,
    one_hot_cells: bool = False,
    weights: np.ndarray | None = None,
) -> tuple[float, int | float]:
    """The cross-entropy Keras prints for `scores` taken as probabilities (from_logits=False),
    as a sum and the number of cells it averages over, so batches add up.

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
    truth = one_hot(y, scores.shape[1]) if one_hot_cells else y
    losses = row_losses(true_class_probability(truth, clipped), 0.0)
    if weights is not None:
        per_row = losses if losses.ndim == 1 else losses.sum(axis=1)
        return float(np.dot(weights, per_row)), float(weights.sum()) * (losses.size // len(y))
    return float(np.sum(losses)), losses.size
