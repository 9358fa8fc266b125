"""What the rows add up to for the checks: every number a check reads, as totals that merge.

The metrics keep their own totals (`lossdoctor.metrics`); these hold the rest: the range
and saturation of the scores, the cross-entropy under each clipping constant and under each
mistaken computation a check recognises, and the counts behind them. A file in memory is one
batch; a dataset streams batch by batch; a cluster merges partitions. The checks read the
merged totals, so the rules are the same at every size.

With sample weights every sum over rows, and every count a check divides into a share, is a sum
of the rows' weights (a cell weighs its row's): integer weights give what the rows repeated
would give. Counts that only say whether any row is so (saturated cells) stay counts of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from lossdoctor.infer import ROW_SUM_TOLERANCE, Plan, Prepared
from lossdoctor.infer.decisions import NOT_PROBABILITIES, Kind, Task
from lossdoctor.losses import (
    KERAS_EPSILON,
    keras_loss_sum,
    row_losses,
    tally,
    true_class_probability,
    weighted_sum,
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
# Keras' clip: a logit taken as a probability and clipped costs -log(1e-7) = 16.1 per row.
CLIP_CEILING = -float(np.log(KERAS_EPSILON))


@dataclass(frozen=True)
class Issues:
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
    columns = [1 - proba, proba] if plan.task == Task.BINARY else list(proba.T)
    given = true_class_probability(y, proba)
    likeliest, likeliest_p = _likeliest_confident_class(columns, thresholds)
    has_confident = likeliest >= 0
    issue = has_confident & (likeliest != y)
    tested = has_confident & (given > KERAS_EPSILON)
    miss = 1 - likeliest_p[tested].astype(np.float64)
    tested_weights = None if weights is None else weights[tested]
    worst = _lowest(given, np.flatnonzero(issue), ISSUE_ROWS_KEPT)
    return Issues(
        flagged=tally(issue, weights),
        flagged_rows=int(np.count_nonzero(issue)),
        flagged_tested=tally(issue & tested, weights),
        expected=weighted_sum(miss, tested_weights),
        variance=weighted_sum(miss * (1 - miss), tested_weights),
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
class CheckTotals:
    """Counts and sums over the usable rows; fields left at 0 where the plan needs none."""

    cells: int | float  # usable rows x score columns
    cells_outside_unit: int | float  # raw scores < 0 or > 1
    proba_low: np.ndarray  # per probability column (binary: P(class 1) only)
    proba_high: np.ndarray
    # per score column as given where a sigmoid or softmax made the probabilities (it rounds
    # large logits alike); else the probabilities' range again
    score_low: np.ndarray
    score_high: np.ndarray
    row_sum_low: float  # several score columns: the raw row sums
    row_sum_high: float
    row_sum_total: float
    rows_off: int | float  # rows whose raw scores miss a sum of 1 by more than the tolerance
    at_zero: int  # probability cells within KERAS_EPSILON of 0
    at_one: int  # ... and of 1
    true_class_zero: int  # cells whose true class (or true value) has probability exactly 0
    confidently_wrong: int  # ... at most KERAS_EPSILON
    loss_cells: int | float  # cells of the cross-entropy (rows; multi-label: rows x labels)
    loss_sums: dict[str, float]  # EPSILONS name -> sum of -log(clip(q, eps, 1 - eps))
    loss_bins: np.ndarray  # counts of per-cell losses (float64 eps) in LOSS_BINS bins
    loss_bin_sums: np.ndarray
    class_rows: np.ndarray  # per class, its rows (multi-label: none are kept)
    self_confidence: np.ndarray  # per class, the sum of P(class) over its rows
    keras_as_given: float  # the scores as given taken for probabilities, Keras-clipped (sum)
    keras_as_given_cells: int | float
    loss_as_given: float  # the scores as given, scikit-learn's clip (squashed twice) (sum)
    one_hot_cells_loss: float  # binary cross-entropy over one-hot cells (multi-class) (sum)
    signed_as_given: float  # -1/+1 labels used as given in binary cross-entropy (sum)
    rows_at_clip_ceiling: int | float  # logits taken as probabilities: rows costing ~16.1
    # computation -> rows it counts as right (reported accuracy)
    accuracy_hits: dict[str, int | float]
    issues: Issues | None = None  # filled by a pass of its own, once the thresholds are known

    def merge(self, other: CheckTotals) -> CheckTotals:
        """The totals of both batches' rows."""
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


def check_totals(plan: Plan, batch: Prepared) -> CheckTotals:
    """The totals of one batch of usable rows, under the plan's decisions."""
    y, proba, scores, weights = batch.y, batch.proba, batch.scores, batch.weights
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
    as_given = (0.0, 0)
    if plan.kind in NOT_PROBABILITIES:
        as_given = keras_loss_sum(y, raw, weights=weights)
    proba_low = columns.min(axis=0, initial=np.inf).astype(np.float64)
    proba_high = columns.max(axis=0, initial=-np.inf).astype(np.float64)
    score_low, score_high = proba_low, proba_high
    if plan.transform in ("sigmoid", "softmax"):
        given = scores if scores.ndim == 2 else scores[:, None]
        score_low = given.min(axis=0, initial=np.inf).astype(np.float64)
        score_high = given.max(axis=0, initial=-np.inf).astype(np.float64)
    # a cell weighs its row's weight
    cell_weights = None if weights is None else np.repeat(weights, q.size // max(len(q), 1))
    return CheckTotals(
        cells=scores.size if weights is None else _width(scores) * float(weights.sum()),
        cells_outside_unit=tally((scores < 0) | (scores > 1), weights),
        proba_low=proba_low,
        proba_high=proba_high,
        score_low=score_low,
        score_high=score_high,
        row_sum_low=float(row_sums.min(initial=np.inf)),
        row_sum_high=float(row_sums.max(initial=-np.inf)),
        row_sum_total=weighted_sum(row_sums, weights) if scores.ndim == 2 else 0.0,
        rows_off=tally(np.abs(row_sums - 1) > ROW_SUM_TOLERANCE, weights)
        if scores.ndim == 2
        else 0,
        # counted in cells even when weighted: the check asks whether any row is saturated
        at_zero=int(np.count_nonzero(proba <= KERAS_EPSILON)),
        at_one=int(np.count_nonzero(proba >= 1 - KERAS_EPSILON)),
        true_class_zero=int(np.count_nonzero(np.isinf(unclipped))),
        confidently_wrong=int(np.count_nonzero(q <= KERAS_EPSILON)),
        loss_cells=q.size if weights is None else float(cell_weights.sum()),
        loss_sums={
            name: weighted_sum(np.clip(unclipped, *_loss_range(q.dtype, eps)), cell_weights)
            for name, eps in EPSILONS.items()
        },
        loss_bins=np.bincount(bins, cell_weights, minlength=LOSS_BINS),
        loss_bin_sums=np.bincount(
            bins, losses if weights is None else losses * cell_weights, minlength=LOSS_BINS
        ),
        class_rows=_class_rows(plan, y, weights),
        self_confidence=_self_confidence(plan, y, q, weights),
        keras_as_given=as_given[0],
        keras_as_given_cells=as_given[1],
        loss_as_given=(
            weighted_sum(row_losses(true_class_probability(y, raw)), weights)
            if plan.kind == Kind.SQUASHED_TWICE
            else 0.0
        ),
        one_hot_cells_loss=(
            keras_loss_sum(y, proba, one_hot_cells=True, weights=weights)[0]
            if checks_reported_loss and plan.task == Task.MULTICLASS
            else 0.0
        ),
        signed_as_given=(
            _signed_as_given(batch.labels, proba, weights)
            if checks_reported_loss and plan.encoding.name == "minus-one-plus-one"
            else 0.0
        ),
        rows_at_clip_ceiling=(
            _rows_at_clip_ceiling(y, raw, weights)
            if checks_reported_loss and plan.kind in NOT_PROBABILITIES and raw.ndim == 1
            else 0
        ),
        accuracy_hits=_accuracy_hits(plan, batch),
    )


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
    return scores[:, 1] if plan.task == Task.BINARY and scores.ndim == 2 else scores


def _width(scores: np.ndarray) -> int:
    return scores.shape[1] if scores.ndim == 2 else 1


def _class_rows(plan: Plan, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    if plan.task == Task.MULTILABEL:
        return np.zeros(plan.n_classes, dtype=np.int64 if weights is None else np.float64)
    return np.bincount(y, weights, minlength=plan.n_classes)


def _self_confidence(
    plan: Plan, y: np.ndarray, q: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """Per class, the summed probability its rows give it: confident learning's thresholds."""
    if plan.task == Task.MULTILABEL:
        return np.zeros(plan.n_classes)
    q = q.astype(np.float64)
    return np.bincount(y, q if weights is None else q * weights, minlength=plan.n_classes)


def _signed_as_given(labels: np.ndarray, proba: np.ndarray, weights: np.ndarray | None) -> float:
    """Binary cross-entropy with -1/+1 labels left as they are: -1 rewards log(1 - p) twice."""
    y_raw = labels.astype(np.float64)
    p = np.clip(proba.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    return -weighted_sum(y_raw * np.log(p) + (1 - y_raw) * np.log1p(-p), weights)


def _rows_at_clip_ceiling(
    y: np.ndarray, raw: np.ndarray, weights: np.ndarray | None
) -> int | float:
    clipped = np.clip(raw.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    per_row = row_losses(true_class_probability(y, clipped), 0.0)
    return tally(np.abs(per_row - CLIP_CEILING) < 1e-3, weights)


def _accuracy_hits(plan: Plan, batch: Prepared) -> dict[str, int | float]:
    """Rows each candidate computation of a binary accuracy counts as right."""
    options = plan.options
    if options.reported_accuracy is None or plan.task != Task.BINARY:
        return {}
    p, y, threshold, weights = batch.proba, batch.y, options.threshold, batch.weights
    hits = {
        "at_or_above": tally((p >= threshold) == y, weights),
        "above": tally((p > threshold) == y, weights),
    }
    if plan.kind in NOT_PROBABILITIES and batch.scores.ndim == 1:
        hits["raw_at_half"] = tally((batch.scores >= 0.5) == y, weights)
    if plan.encoding.name in ("minus-one-plus-one", "one-to-k"):
        as_given = (p >= threshold).astype(np.int64) == batch.labels
        hits["labels_as_given"] = tally(as_given, weights)
    return hits
