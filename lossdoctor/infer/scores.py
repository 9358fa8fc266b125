"""What the scores are (probabilities, logits, log-probabilities, squashed twice), and the
transform that puts them on the probability scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.decisions import Kind, Task
from lossdoctor.infer.survey import ROW_SUM_TOLERANCE
from lossdoctor.losses import row_losses, sigmoid, true_class_probability

# Fewer rows than this can sit inside the band of a double squash by chance.
DOUBLE_SQUASH_MIN_ROWS = 20
# Probabilities computed in float32 can land a few rounding steps above 1 (one step is 1.2e-7:
# a softmax row summing to 1.0000001): up to this far above 1 they are probabilities, clipped.
ABOVE_ONE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class KindEvidence:
    """Sums over the usable rows that settle an ambiguous range; they merge by adding."""

    loss_as_given: float = 0.0  # squashed twice? cross-entropy as given, and undone
    loss_undone: float = 0.0
    worst_log_row_sum: float = 0.0  # log-probabilities? the largest |logsumexp| of a row
    loss_as_log_proba: float = 0.0  # one column <= 0: log P(class 1), or a logit?
    loss_as_logit: float = 0.0

    def merge(self, other: KindEvidence) -> KindEvidence:
        return KindEvidence(
            self.loss_as_given + other.loss_as_given,
            self.loss_undone + other.loss_undone,
            max(self.worst_log_row_sum, other.worst_log_row_sum),
            self.loss_as_log_proba + other.loss_as_log_proba,
            self.loss_as_logit + other.loss_as_logit,
        )


def kind_from_range(
    low: float,
    high: float,
    *,
    task: str,
    score_width: int,
    rows: int,
    from_logits: bool | None,
    declared: str | None,
    source: str,
) -> tuple[Kind, str] | str:
    """What the scores are, from their range: (kind, who said so); or, where the range alone
    cannot tell, the question that sums over the rows answer (see `evidence`)."""
    if from_logits is True:
        return Kind.LOGITS, "--from-logits"
    if from_logits is False:
        if low < 0 or high > 1 + ABOVE_ONE_TOLERANCE:
            raise InputError(
                f"{source}: --from-probabilities was given but the scores range from "
                f"{low:.4g} to {high:.4g}; drop the option to let lossdoctor infer what they are"
            )
        return Kind.PROBABILITIES, "--from-probabilities"
    if declared:
        return Kind.LOGITS, declared
    if low >= 0 and high <= 1 + ABOVE_ONE_TOLERANCE:
        band_low, band_high = squash_band(score_width)
        if task == Task.MULTILABEL or rows < DOUBLE_SQUASH_MIN_ROWS:
            return Kind.PROBABILITIES, "inferred"
        if low < band_low or high > band_high:
            return Kind.PROBABILITIES, "inferred"
        return "squashed twice?"
    if high <= 0:
        if score_width and task != Task.MULTILABEL:
            return "log-probability rows?"
        if not score_width:
            return "log-probability column?"
    return Kind.LOGITS, "inferred"


def evidence(question: str, scores: np.ndarray, y: np.ndarray) -> KindEvidence:
    """The sums `decide_kind` needs, over one batch of usable rows."""
    if question == "squashed twice?":
        undone = _undo_squash(scores)
        return KindEvidence(
            loss_as_given=_loss_sum(true_class_probability(y, scores)),
            loss_undone=_loss_sum(true_class_probability(y, undone)),
        )
    if question == "log-probability rows?":
        return KindEvidence(worst_log_row_sum=float(np.abs(_logsumexp_rows(scores)).max(initial=0)))
    s = scores.astype(np.float64)
    positive = y == 1
    with np.errstate(divide="ignore"):
        as_log_proba = -np.where(positive, s, np.log(-np.expm1(s))).sum()
    as_logit = np.where(positive, np.logaddexp(0, -s), np.logaddexp(0, s)).sum()
    return KindEvidence(loss_as_log_proba=float(as_log_proba), loss_as_logit=float(as_logit))


def decide_kind(question: str, found: KindEvidence) -> tuple[Kind, str]:
    """Whichever reading of the scores fits the labels better."""
    if question == "squashed twice?":
        if found.loss_undone < found.loss_as_given:
            return Kind.SQUASHED_TWICE, "inferred"
        return Kind.PROBABILITIES, "inferred"
    if question == "log-probability rows?":
        if found.worst_log_row_sum <= ROW_SUM_TOLERANCE:
            return Kind.LOG_PROBABILITIES, "inferred"
        return Kind.LOGITS, "inferred"
    if found.loss_as_log_proba < found.loss_as_logit:
        return Kind.LOG_PROBABILITIES, "inferred"
    return Kind.LOGITS, "inferred"


def squash_band(score_width: int) -> tuple[float, float]:
    """Where a sigmoid (one column) or softmax (K columns) of probabilities in [0, 1] lands."""
    if not score_width:
        return 0.5, 1 / (1 + math.exp(-1))
    k = score_width
    return 1 / (k - 1 + math.e), math.e / (k - 1 + math.e)


def _loss_sum(q: np.ndarray) -> float:
    return float(np.sum(row_losses(q)))


def _undo_squash(scores: np.ndarray) -> np.ndarray:
    """sigmoid and softmax are invertible: the probabilities before the second squash."""
    s = scores.astype(np.float64)
    if s.ndim == 1:
        with np.errstate(divide="ignore"):
            return np.clip(np.log(s / (1 - s)), 0, 1)
    log_s = np.log(s)
    return np.clip(log_s - log_s.mean(axis=1, keepdims=True) + 1 / s.shape[1], 0, 1)


def _logsumexp_rows(scores: np.ndarray) -> np.ndarray:
    top = scores.max(axis=1)
    return top + np.log(np.exp(scores - top[:, None]).sum(axis=1))


def transform_of(kind: Kind, task: Task, score_width: int, rows_off: int, high: float) -> str:
    """The transform that puts these scores on the probability scale, for every batch alike;
    `high` is the highest score, which probabilities may exceed by ABOVE_ONE_TOLERANCE."""
    if kind == Kind.LOGITS:
        return "sigmoid" if not score_width or task == Task.MULTILABEL else "softmax"
    if kind == Kind.LOG_PROBABILITIES:
        return "exp"
    if kind == Kind.SQUASHED_TWICE:
        return "inverse sigmoid" if not score_width else "inverse softmax"
    if score_width and task != Task.MULTILABEL and rows_off:
        return "normalize"
    return "clip" if high > 1 else "none"


def to_probabilities(scores: np.ndarray, transform: str) -> np.ndarray:
    """Scores -> probabilities. Logits go through float64 so that large ones do not round to 1."""
    if transform == "sigmoid":
        return sigmoid(scores)
    if transform == "softmax":
        z = scores.astype(np.float64)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
    if transform == "exp":
        return np.exp(scores.astype(np.float64))
    if transform.startswith("inverse"):
        return _undo_squash(scores)
    if transform == "clip":
        return np.minimum(scores, scores.dtype.type(1))
    if transform == "normalize":
        sums = scores.sum(axis=1, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalised = scores / sums[:, None].astype(scores.dtype)
        uniform = np.full_like(scores, 1 / scores.shape[1])
        return np.where(sums[:, None] > 0, normalised, uniform)
    return scores
