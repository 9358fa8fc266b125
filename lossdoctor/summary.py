"""What the rows add up to: every number a check reads, as a summary of a batch that merges.

The metrics keep their own summary (`lossdoctor.metrics`); this one holds the rest: the range
and saturation of the scores, the cross-entropy under each clipping constant and under each
mistaken computation a check recognises, and the counts behind them. A file in memory is one
batch; a dataset streams batch by batch; a cluster merges partitions. The checks read the
merged summary, so the rules are the same at every size.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from lossdoctor.infer import ROW_SUM_TOLERANCE, Plan, Prepared
from lossdoctor.metrics import (
    KERAS_EPSILON,
    keras_loss_sum,
    row_losses,
    true_class_probability,
)

# Clipping constants the cross-entropy is recomputed under: each framework prints another.
FLOAT32_EPSILON = float(np.finfo(np.float32).eps)
FLOAT64_EPSILON = float(np.finfo(np.float64).eps)
EPSILONS = {"unclipped": 0.0, "keras": KERAS_EPSILON, "float32": FLOAT32_EPSILON}
EPSILONS["float64"] = FLOAT64_EPSILON
# Per-row losses (clipped at float64 eps, at most 36.04) binned to find the worst 1 % share.
LOSS_BINS = 4096
LOSS_CEILING = -float(np.log(FLOAT64_EPSILON))
# The rows a finding points at are kept, however many batches there are.
ISSUE_ROWS_KEPT = 10
# What a framework may take for probabilities though they are not (see keras_as_given).
SCORES_NOT_PROBABILITIES = ("logits", "log-probabilities", "probabilities squashed twice")
# Keras' clip: a logit taken as a probability and clipped costs -log(1e-7) = 16.1 per row.
CLIP_CEILING = -float(np.log(KERAS_EPSILON))


@dataclass(frozen=True)
class Issues:
    """Confident learning over the rows: how many contradict their label, and the worst."""

    flagged: int  # rows whose likeliest confident class is not their label
    flagged_tested: int  # ... leaving out rows that give their label a saturated probability
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
    y, proba = batch.y, batch.proba
    columns = [1 - proba, proba] if plan.task == "binary" else list(proba.T)
    given = true_class_probability(y, proba)
    likeliest, likeliest_p = _likeliest_confident_class(columns, thresholds)
    has_confident = likeliest >= 0
    issue = has_confident & (likeliest != y)
    tested = has_confident & (given > KERAS_EPSILON)
    miss = 1 - likeliest_p[tested].astype(np.float64)
    worst = _lowest(given, np.flatnonzero(issue), ISSUE_ROWS_KEPT)
    return Issues(
        flagged=int(np.count_nonzero(issue)),
        flagged_tested=int(np.count_nonzero(issue & tested)),
        expected=float(miss.sum()),
        variance=float(np.sum(miss * (1 - miss))),
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


def _lowest(values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The k rows of the lowest values, ties by row number: a partition, not a sort of them all."""
    if len(rows) > k:
        cut = np.partition(values[rows], k - 1)[k - 1]
        rows = rows[values[rows] <= cut]
    return rows[np.lexsort((rows, values[rows]))][:k]


@dataclass(frozen=True)
class Summary:
    """Counts and sums over the usable rows; fields left at 0 where the plan needs none."""

    cells: int  # usable rows x score columns
    cells_outside_unit: int  # raw scores < 0 or > 1
    proba_low: np.ndarray  # per probability column (binary: P(class 1) only)
    proba_high: np.ndarray
    # per score column as given where a sigmoid or softmax made the probabilities (it rounds
    # large logits alike); else the probabilities' range again
    score_low: np.ndarray
    score_high: np.ndarray
    row_sum_low: float  # several score columns: the raw row sums
    row_sum_high: float
    row_sum_total: float
    rows_off: int  # rows whose raw scores miss a sum of 1 by more than the tolerance
    at_zero: int  # probability cells within KERAS_EPSILON of 0
    at_one: int  # ... and of 1
    true_class_zero: int  # cells whose true class (or true value) has probability exactly 0
    confidently_wrong: int  # ... at most KERAS_EPSILON
    loss_cells: int  # cells of the cross-entropy (rows; multi-label: rows x labels)
    loss_sums: dict[str, float]  # EPSILONS name -> sum of -log(clip(q, eps, 1 - eps))
    loss_bins: np.ndarray  # counts of per-cell losses (float64 eps) in LOSS_BINS bins
    loss_bin_sums: np.ndarray
    class_rows: np.ndarray  # per class, its rows (multi-label: none are kept)
    self_confidence: np.ndarray  # per class, the sum of P(class) over its rows
    keras_as_given: float  # the scores as given taken for probabilities, Keras-clipped (sum)
    keras_as_given_cells: int
    loss_as_given: float  # the scores as given, scikit-learn's clip (squashed twice) (sum)
    one_hot_cells_loss: float  # binary cross-entropy over one-hot cells (multi-class) (sum)
    signed_as_given: float  # -1/+1 labels used as given in binary cross-entropy (sum)
    rows_at_clip_ceiling: int  # logits taken as probabilities: rows costing ~16.1
    accuracy_hits: dict[str, int]  # computation -> rows it counts as right (reported accuracy)
    issues: Issues | None = None  # filled by a pass of its own, once the thresholds are known

    def merge(self, other: Summary) -> Summary:
        """The summary of both batches' rows."""
        merged = {}
        for field in fields(self):
            a, b = getattr(self, field.name), getattr(other, field.name)
            if field.name == "issues":
                merged[field.name] = a.merge(b) if a and b else a or b
            elif field.name in ("proba_low", "score_low", "row_sum_low"):
                merged[field.name] = np.minimum(a, b)
            elif field.name in ("proba_high", "score_high", "row_sum_high"):
                merged[field.name] = np.maximum(a, b)
            elif isinstance(a, dict):
                merged[field.name] = {k: a[k] + b[k] for k in a}
            else:
                merged[field.name] = a + b
        merged["row_sum_low"] = float(merged["row_sum_low"])
        merged["row_sum_high"] = float(merged["row_sum_high"])
        return replace(self, **merged)

    def class_thresholds(self) -> np.ndarray:
        """Each class's mean probability over its rows, confident learning's threshold;
        infinite (never reached) for a class without rows."""
        rows = self.class_rows
        return np.divide(self.self_confidence, rows, out=np.full(len(rows), np.inf), where=rows > 0)

    @property
    def constant(self) -> bool:
        """Every row has the same scores: the model ignores its input."""
        return bool(np.all(self.score_low == self.score_high))

    def worst_share(self, share: float) -> float:
        """The share of the loss (clipped at float64 eps) carried by the worst `share` of cells.

        Read off the binned losses: whole bins from the top, then the cut bin at its mean.
        """
        total = float(self.loss_bin_sums.sum())
        if total == 0:
            return 0.0
        k = max(1, int(np.ceil(share * self.loss_cells)))
        counts, sums = self.loss_bins[::-1], self.loss_bin_sums[::-1]
        above = np.cumsum(counts)
        cut = int(np.searchsorted(above, k))
        before = int(above[cut - 1]) if cut else 0
        partial = (k - before) * sums[cut] / counts[cut] if counts[cut] else 0.0
        return float((sums[:cut].sum() + partial) / total)


def summarize(plan: Plan, batch: Prepared) -> Summary:
    """The summary of one batch of usable rows, under the plan's decisions."""
    y, proba, scores = batch.y, batch.proba, batch.scores
    options = plan.options
    columns = proba if proba.ndim == 2 else proba[:, None]
    q = true_class_probability(y, proba)
    unclipped = row_losses(q, 0.0).ravel()
    losses = np.clip(unclipped, *_loss_range(q.dtype, FLOAT64_EPSILON))
    # float64 -> int32 is vectorised where float64 -> int64 is not: ten times faster.
    bins = np.minimum((losses * (LOSS_BINS / LOSS_CEILING)).astype(np.int32), LOSS_BINS - 1)
    row_sums = scores.sum(axis=1, dtype=np.float64) if scores.ndim == 2 else np.ones(1)
    raw = _positive(plan, scores)
    checks_reported_loss = options.reported_loss is not None
    as_given = keras_loss_sum(y, raw) if plan.kind in SCORES_NOT_PROBABILITIES else (0.0, 0)
    proba_low = columns.min(axis=0, initial=np.inf).astype(np.float64)
    proba_high = columns.max(axis=0, initial=-np.inf).astype(np.float64)
    score_low, score_high = proba_low, proba_high
    if plan.transform in ("sigmoid", "softmax"):
        given = scores if scores.ndim == 2 else scores[:, None]
        score_low = given.min(axis=0, initial=np.inf).astype(np.float64)
        score_high = given.max(axis=0, initial=-np.inf).astype(np.float64)
    summary = Summary(
        cells=scores.size,
        cells_outside_unit=int(np.count_nonzero((scores < 0) | (scores > 1))),
        proba_low=proba_low,
        proba_high=proba_high,
        score_low=score_low,
        score_high=score_high,
        row_sum_low=float(row_sums.min(initial=np.inf)),
        row_sum_high=float(row_sums.max(initial=-np.inf)),
        row_sum_total=float(row_sums.sum()) if scores.ndim == 2 else 0.0,
        rows_off=int(np.count_nonzero(np.abs(row_sums - 1) > ROW_SUM_TOLERANCE))
        if scores.ndim == 2
        else 0,
        at_zero=int(np.count_nonzero(proba <= KERAS_EPSILON)),
        at_one=int(np.count_nonzero(proba >= 1 - KERAS_EPSILON)),
        true_class_zero=int(np.count_nonzero(np.isinf(unclipped))),
        confidently_wrong=int(np.count_nonzero(q <= KERAS_EPSILON)),
        loss_cells=q.size,
        loss_sums={
            name: float(np.sum(np.clip(unclipped, *_loss_range(q.dtype, eps))))
            for name, eps in EPSILONS.items()
        },
        loss_bins=np.bincount(bins, minlength=LOSS_BINS),
        loss_bin_sums=np.bincount(bins, weights=losses, minlength=LOSS_BINS),
        class_rows=_class_rows(plan, y),
        self_confidence=_self_confidence(plan, y, q),
        keras_as_given=as_given[0],
        keras_as_given_cells=as_given[1],
        loss_as_given=(
            float(np.sum(row_losses(true_class_probability(y, raw))))
            if plan.kind == "probabilities squashed twice"
            else 0.0
        ),
        one_hot_cells_loss=(
            keras_loss_sum(y, proba, one_hot_cells=True)[0]
            if checks_reported_loss and plan.task == "multiclass"
            else 0.0
        ),
        signed_as_given=(
            _signed_as_given(batch.labels, proba)
            if checks_reported_loss and plan.encoding.name == "minus-one-plus-one"
            else 0.0
        ),
        rows_at_clip_ceiling=(
            _rows_at_clip_ceiling(y, raw)
            if checks_reported_loss and plan.kind in SCORES_NOT_PROBABILITIES and raw.ndim == 1
            else 0
        ),
        accuracy_hits=_accuracy_hits(plan, batch),
    )
    return summary


def _loss_range(dtype: np.dtype, eps: float) -> tuple[float, float]:
    """The per-row losses `row_losses(q, eps)` clips to: -log of q's own clip, rounded as q is.

    Clipping -log(q) there gives row_losses' values exactly, from one logarithm for all eps.
    """
    if eps == 0:
        return 0.0, np.inf
    as_dtype = dtype.type if dtype.type(eps) != 0 else np.float64
    low, high = float(as_dtype(eps)), float(as_dtype(1 - eps))
    return -np.log(high), -np.log(low)


def _positive(plan: Plan, scores: np.ndarray) -> np.ndarray:
    """The scores as given, as P(class 1) for a binary task saved as two columns."""
    return scores[:, 1] if plan.task == "binary" and scores.ndim == 2 else scores


def _class_rows(plan: Plan, y: np.ndarray) -> np.ndarray:
    if plan.task == "multilabel":
        return np.zeros(plan.n_classes, dtype=np.int64)
    return np.bincount(y, minlength=plan.n_classes)


def _self_confidence(plan: Plan, y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per class, the summed probability its rows give it: confident learning's thresholds."""
    if plan.task == "multilabel":
        return np.zeros(plan.n_classes)
    return np.bincount(y, weights=q.astype(np.float64), minlength=plan.n_classes)


def _signed_as_given(labels: np.ndarray, proba: np.ndarray) -> float:
    """Binary cross-entropy with -1/+1 labels left as they are: -1 rewards log(1 - p) twice."""
    y_raw = labels.astype(np.float64)
    p = np.clip(proba.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    return float(-np.sum(y_raw * np.log(p) + (1 - y_raw) * np.log1p(-p)))


def _rows_at_clip_ceiling(y: np.ndarray, raw: np.ndarray) -> int:
    clipped = np.clip(raw.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    per_row = row_losses(true_class_probability(y, clipped), 0.0)
    return int(np.count_nonzero(np.abs(per_row - CLIP_CEILING) < 1e-3))


def _accuracy_hits(plan: Plan, batch: Prepared) -> dict[str, int]:
    """Rows each candidate computation of a binary accuracy counts as right."""
    options = plan.options
    if options.reported_accuracy is None or plan.task != "binary":
        return {}
    p, y, threshold = batch.proba, batch.y, options.threshold
    hits = {
        "at_or_above": int(np.count_nonzero((p >= threshold) == y)),
        "above": int(np.count_nonzero((p > threshold) == y)),
    }
    if plan.kind in SCORES_NOT_PROBABILITIES and batch.scores.ndim == 1:
        hits["raw_at_half"] = int(np.count_nonzero((batch.scores >= 0.5) == y))
    if plan.encoding.name in ("minus-one-plus-one", "one-to-k"):
        as_given = (p >= threshold).astype(np.int64) == batch.labels
        hits["labels_as_given"] = int(np.count_nonzero(as_given))
    return hits
