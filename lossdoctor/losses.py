"""Per-row primitives every later stage shares: what each row (or cell) lost, and sums of them.

The ground floor of the package: inference reads row losses to tell what the scores are, the
metrics and the checks sum them. Nothing here knows a task or a plan; arrays in, arrays out.
"""

import numpy as np

# Keras clips probabilities into [KERAS_EPSILON, 1 - KERAS_EPSILON] before taking logs.
KERAS_EPSILON = 1e-7
# Row-wise work goes a block at a time: temporaries of a few megabytes are reused from the heap.
BLOCK_ROWS = 1 << 20
# Rows whose few columns stay in cache while a row-major matrix is read a column at a time.
_CACHED_ROWS = 1 << 14
# Values of a row-major matrix reduced down the columns at once (see column_range).
_FOLDED_VALUES = 4096


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function in float64, accurate in both tails (no overflow, no 1 - 1 cancellation)."""
    return np.exp(-np.logaddexp(0, -np.asarray(z, dtype=np.float64)))


def as_float(scores: np.ndarray) -> np.ndarray:
    """The scores as they are when floating point, else as float64."""
    scores = np.asarray(scores)
    return scores if scores.dtype.kind == "f" else scores.astype(np.float64)


def column_range(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value of each column of an N x K matrix, in float64 (inf and
    -inf for no rows).

    A row-major matrix of a few columns is folded into long lines of _FOLDED_VALUES, so the
    reduction runs down columns thousands of values wide, not ten: several times faster, and
    a minimum is a minimum whichever way it is taken.
    """
    n_rows, n_columns = columns.shape
    lines = max(_FOLDED_VALUES // max(n_columns, 1), 1)
    whole = n_rows - n_rows % lines if columns.flags.c_contiguous else 0
    folded = columns[:whole].reshape(-1, lines * n_columns)
    rest = columns[whole:]
    low = np.minimum(
        folded.min(axis=0, initial=np.inf).reshape(lines, n_columns).min(axis=0),
        rest.min(axis=0, initial=np.inf),
    )
    high = np.maximum(
        folded.max(axis=0, initial=-np.inf).reshape(lines, n_columns).max(axis=0),
        rest.max(axis=0, initial=-np.inf),
    )
    return low.astype(np.float64), high.astype(np.float64)


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
    q = 1 - proba
    return choose(y.astype(bool, copy=False), proba, q)


# Unsigned integers of each float's width: a choice made on the bits, with no branch per row.
_SAME_WIDTH = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def choose(where: np.ndarray, chosen: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`chosen` where `where`, else `out`'s own value, written into `out` and returned:
    np.copyto(out, chosen, where=where) bit for bit, by masks of the values' bits. A choice
    per row mispredicts on labels in random order; the masks run several times faster."""
    if out.dtype != chosen.dtype or out.dtype.itemsize not in _SAME_WIDTH or out.ndim != 1:
        np.copyto(out, chosen, where=where)
        return out
    unsigned = _SAME_WIDTH[out.dtype.itemsize]
    signed = np.dtype(unsigned).str.replace("u", "i")
    mask = np.negative(where.view(np.int8), dtype=signed).view(unsigned)  # all ones where chosen
    bits = out.view(unsigned)
    difference = np.bitwise_xor(chosen.view(unsigned), bits)
    difference &= mask
    bits ^= difference
    return out


def row_losses(q: np.ndarray, eps: float | None = None) -> np.ndarray:
    """Per-entry -log(clip(q, eps, 1 - eps)) in float64; eps=None is the dtype's eps (sklearn)."""
    q = np.asarray(q)
    if eps is None:
        eps = np.finfo(q.dtype).eps
    elif eps > 0 and q.dtype.type(eps) == 0:  # float64 eps on float16 would clip at 0: inf
        q = q.astype(np.float64)
    # clipped in q's dtype, widened as it is written: one temporary, the losses themselves
    losses = np.clip(q, eps, 1 - eps, out=np.empty(q.shape, dtype=np.float64))
    with np.errstate(divide="ignore"):  # log(0) = -inf is the honest loss when eps=0
        np.log(losses, out=losses)
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


def multiclass_brier_rows(proba: np.ndarray, true_class: np.ndarray) -> np.ndarray:
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
