"""What the scores are (probabilities, logits, log-probabilities, squashed twice), and the
transform that puts them on the probability scale."""

from __future__ import annotations

import math

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import Predictions
from lossdoctor.metrics import log_loss, true_class_probability

KINDS = ("probabilities", "logits", "log-probabilities", "probabilities squashed twice")
# Rows of probabilities count as normalised when they sum to 1 within this (float32 sums drift).
ROW_SUM_TOLERANCE = 1e-3
# Fewer rows than this can sit inside the band of a double squash by chance.
DOUBLE_SQUASH_MIN_ROWS = 20


def score_kind(
    scores: np.ndarray, y: np.ndarray, task: str, from_logits: bool | None, predictions: Predictions
) -> tuple[str, str]:
    """What the scores are: probabilities, logits or log-probabilities, and who said so."""
    low, high = float(scores.min()), float(scores.max())
    if from_logits is True:
        return "logits", "--from-logits"
    if from_logits is False:
        if low < 0 or high > 1:
            raise InputError(
                f"{predictions.source}: --from-probabilities was given but the scores range from "
                f"{low:.4g} to {high:.4g}; drop the option to let lossdoctor infer what they are"
            )
        return "probabilities", "--from-probabilities"
    if predictions.declared_logits:
        return "logits", "a column named " + predictions.prediction_columns[0]
    if low >= 0 and high <= 1:
        if _squashed_twice(scores, y, task, low, high):
            return "probabilities squashed twice", "inferred"
        return "probabilities", "inferred"
    if high <= 0:
        if scores.ndim == 2 and task != "multilabel":
            if np.all(np.abs(_logsumexp_rows(scores)) <= ROW_SUM_TOLERANCE):
                return "log-probabilities", "inferred"
        elif scores.ndim == 1 and _exp_fits_better_than_sigmoid(scores, y):
            return "log-probabilities", "inferred"
    return "logits", "inferred"


def squash_band(scores: np.ndarray) -> tuple[float, float]:
    """Where a sigmoid (one column) or softmax (K columns) of probabilities in [0, 1] lands."""
    if scores.ndim == 1:
        return 0.5, 1 / (1 + math.exp(-1))
    k = scores.shape[1]
    return 1 / (k - 1 + math.e), math.e / (k - 1 + math.e)


def _squashed_twice(scores: np.ndarray, y: np.ndarray, task: str, low: float, high: float) -> bool:
    """Every score in the band a second squash leaves, and undoing it fits the labels better.

    A weak but honest model can sit in the band too; it fits worse once "unsquashed".
    """
    if task == "multilabel" or len(scores) < DOUBLE_SQUASH_MIN_ROWS:
        return False
    band_low, band_high = squash_band(scores)
    if low < band_low or high > band_high:
        return False
    undone = _undo_squash(scores)
    return log_loss(true_class_probability(y, undone)) < log_loss(true_class_probability(y, scores))


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


def _exp_fits_better_than_sigmoid(scores: np.ndarray, y: np.ndarray) -> bool:
    """One column of scores <= 0: log P(class 1) or a logit? Whichever fits the labels better."""
    s = scores.astype(np.float64)
    positive = y == 1
    with np.errstate(divide="ignore"):
        as_log_proba = -np.where(positive, s, np.log(-np.expm1(s))).mean()
    as_logit = np.where(positive, np.logaddexp(0, -s), np.logaddexp(0, s)).mean()
    return bool(as_log_proba < as_logit)


def to_probabilities(scores: np.ndarray, kind: str, task: str) -> tuple[np.ndarray, str]:
    """Scores -> probabilities. Logits go through float64 so that large ones do not round to 1."""
    if kind == "logits":
        z = scores.astype(np.float64)
        if z.ndim == 1 or task == "multilabel":
            return _sigmoid(z), "sigmoid"
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True), "softmax"
    if kind == "log-probabilities":
        return np.exp(scores.astype(np.float64)), "exp"
    if kind == "probabilities squashed twice":
        return _undo_squash(scores), "inverse sigmoid" if scores.ndim == 1 else "inverse softmax"
    if scores.ndim == 2 and task != "multilabel":
        sums = scores.sum(axis=1, dtype=np.float64)
        if np.any(np.abs(sums - 1) > ROW_SUM_TOLERANCE):
            with np.errstate(invalid="ignore", divide="ignore"):
                normalised = scores / sums[:, None].astype(scores.dtype)
            uniform = np.full_like(scores, 1 / scores.shape[1])
            return np.where(sums[:, None] > 0, normalised, uniform), "normalize"
    return scores, "none"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, accurate in both tails (no overflow, no 1 - 1 cancellation)."""
    return np.exp(-np.logaddexp(0, -z))
