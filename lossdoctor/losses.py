"""Per-row primitives every later stage shares: what each row (or cell) lost, and sums of them.

The ground floor of the package: inference reads row losses to tell what the scores are, the
metrics and the checks sum them. Nothing here knows a task or a plan; arrays in, arrays out.
"""

import numpy as np

# Keras clips probabilities into [KERAS_EPSILON, 1 - KERAS_EPSILON] before taking logs.
KERAS_EPSILON = 1e-7
# Row-wise work goes a block at a time: temporaries of a few megabytes are reused from the heap.
BLOCK_ROWS = 1 << 20


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function in float64, accurate in both tails (no overflow, no 1 - 1 cancellation)."""
    return np.exp(-np.logaddexp(0, -np.asarray(z, dtype=np.float64)))


def as_float(scores: np.ndarray) -> np.ndarray:
    """The scores as they are when floating point, else as float64."""
    scores = np.asarray(scores)
    return scores if scores.dtype.kind == "f" else scores.astype(np.float64)


def cut_in_dtype(threshold: float, scores: np.ndarray) -> np.generic:
    """The threshold in the scores' dtype, so any float compares as a Python float would."""
    return scores.dtype.type(threshold)


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


def logit_losses(is_pos: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of each cell from logits: log(1 + e^-z) for a positive,
    log(1 + e^z) for a negative, by logaddexp: exact where a sigmoid would round to 0 or 1."""
    z = np.asarray(z, dtype=np.float64)
    signed = np.where(is_pos, -z, z)
    return np.logaddexp(0, signed, out=signed)


def log_softmax_losses(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Cross-entropy of each row from logits: logsumexp of the row less its true class's
    logit, in float64 a block at a time (no probability is formed, so none rounds to 0)."""
    losses = np.empty(len(y))
    for start in range(0, len(y), BLOCK_ROWS):
        z = logits[start : start + BLOCK_ROWS].astype(np.float64)
        top = z.max(axis=1)
        z -= top[:, None]
        np.exp(z, out=z)
        log_sums = np.log(z.sum(axis=1)) + top
        true = logits[start : start + BLOCK_ROWS][
            np.arange(len(top)), y[start : start + BLOCK_ROWS]
        ]
        losses[start : start + len(top)] = log_sums - true.astype(np.float64)
    return losses


def weighted_sum(values: np.ndarray, weights: np.ndarray | None) -> float:
    """The sum of per-row (or per-cell, N x K) values; with weights, each row's times its
    weight."""
    if weights is None:
        return float(np.sum(values))
    per_row = values if values.ndim == 1 else values.sum(axis=1)
    return float(np.dot(weights, np.asarray(per_row, dtype=np.float64)))


def tally(flags: np.ndarray, weights: np.ndarray | None) -> int | float:
    """Rows (or cells, N x K) flagged: a count; with weights, their summed weights (a cell
    weighs its row's)."""
    if weights is None:
        return int(np.count_nonzero(flags))
    per_row = flags if flags.ndim == 1 else np.count_nonzero(flags, axis=1)
    return float(np.dot(weights, per_row))


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
