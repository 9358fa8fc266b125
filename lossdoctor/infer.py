"""What the arrays hold: the task, what the scores are, and how the labels are encoded.

Validation happens here, once. Everything downstream (metrics, checks) trusts what this module
returns: labels as class indices 0..K-1, scores on the probability scale, and a mask of the rows
that can be used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import Predictions
from lossdoctor.metrics import log_loss, true_class_probability

TASKS = ("binary", "multiclass", "multilabel")
KINDS = ("probabilities", "logits", "log-probabilities", "probabilities squashed twice")

# Rows of probabilities count as normalised when they sum to 1 within this (float32 sums drift).
ROW_SUM_TOLERANCE = 1e-3
# Fewer rows than this can sit inside the band of a double squash by chance.
DOUBLE_SQUASH_MIN_ROWS = 20
# A few distinct label values are shown in evidence; a thousand would drown the report.
MAX_LABEL_VALUES_SHOWN = 20
# The metrics hold a K x K confusion matrix and rank every class: past this many classes that
# costs gigabytes (100,000 columns would be 80 GB), so the input is refused instead.
MAX_CLASSES = 5_000


@dataclass(frozen=True)
class Options:
    """What the user told us, on the command line or as keyword arguments of `diagnose`."""

    task: str | None = None
    from_logits: bool | None = None
    threshold: float = 0.5
    loss: str | None = None
    reported_accuracy: float | None = None
    reported_loss: float | None = None
    positive_label: str | None = None


@dataclass(frozen=True)
class LabelEncoding:
    """How the labels were stored, and how they were mapped onto class indices."""

    name: str  # indices, booleans, strings, minus-one-plus-one, one-to-k, one-hot, multi-hot, soft
    values: tuple  # distinct raw values (at most MAX_LABEL_VALUES_SHOWN)
    counts: tuple[int, ...]  # rows of each value in `values`
    n_distinct: int
    out_of_range: int  # rows whose label is no class of the predictions (left out of the metrics)
    not_one_hot: int  # one-hot rows without exactly one 1


@dataclass(frozen=True)
class Prepared:
    """What metrics and checks need, computed once: clean, remapped, on the probability scale."""

    task: str
    n_classes: int
    class_labels: tuple  # the label shown for each class index
    kind: str  # what the scores are: one of KINDS
    kind_source: str  # inferred, a column named logit, --from-logits, --from-probabilities
    transform: str  # none, sigmoid, softmax, exp, normalize
    raw_scores: np.ndarray  # every row's scores as given
    raw_labels: np.ndarray  # every row's labels as given
    scores: np.ndarray  # the usable rows' scores as given
    labels: np.ndarray  # the usable rows' labels as given
    usable: np.ndarray  # bool (N,): rows that are finite and whose label is a class
    y: np.ndarray  # usable rows: class index (N',), or (N', K) bool for multi-label
    proba: np.ndarray  # usable rows: P(class 1) (N',) for binary, (N', K) otherwise
    encoding: LabelEncoding
    options: Options
    n_rows: int
    non_finite_rows: np.ndarray  # indices of rows with a NaN or infinite score or label


def prepare(predictions: Predictions, options: Options) -> Prepared:
    """Decide the task, the label mapping and the prediction kind, and put scores on one scale."""
    scores = _as_float(predictions.y_score, predictions.source)
    labels = predictions.y_true
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    _check_shapes(labels, scores, predictions.source)

    raw_scores, raw_labels = scores, labels
    finite = _finite_rows(scores, labels)
    task = _task(labels, scores, options.task, predictions.source)
    n_classes = 2 if task == "binary" else scores.shape[1]
    y, in_range, encoding, class_labels = _encode_labels(
        labels, finite, task, n_classes, options.positive_label
    )
    usable = finite & in_range
    if not usable.any():
        raise InputError(_nothing_usable(predictions.source, finite, encoding, task, n_classes))
    if not usable.all():  # copies only when some rows must go
        scores, labels, y = scores[usable], labels[usable], y[usable]
    kind, source = _kind(scores, y, task, options, predictions)
    proba, transform = _to_probabilities(scores, kind, task)
    if task == "binary" and proba.ndim == 2:
        proba = proba[:, 1]
    return Prepared(
        task=task,
        n_classes=n_classes,
        class_labels=class_labels,
        kind=kind,
        kind_source=source,
        transform=transform,
        raw_scores=raw_scores,
        raw_labels=raw_labels,
        scores=scores,
        labels=labels,
        usable=usable,
        y=y,
        proba=proba,
        encoding=encoding,
        options=options,
        n_rows=len(usable),
        non_finite_rows=np.flatnonzero(~finite),
    )


def _as_float(scores: np.ndarray, source: str) -> np.ndarray:
    """Floats as scikit-learn takes them: float16/32/64 kept, anything numeric to float64."""
    if scores.dtype.kind == "f":
        return scores
    if scores.dtype.kind in "biu":
        return scores.astype(np.float64)
    raise InputError(f"{source}: predictions are not numbers (dtype {scores.dtype})")


def _check_shapes(labels: np.ndarray, scores: np.ndarray, source: str) -> None:
    if scores.ndim not in (1, 2) or labels.ndim not in (1, 2):
        raise InputError(f"{source}: labels and predictions must be 1-D or 2-D arrays")
    if len(labels) != len(scores):
        raise InputError(
            f"{source}: {len(labels)} labels but {len(scores)} predictions; align their rows"
        )
    if len(scores) == 0:
        raise InputError(f"{source}: no rows")
    if labels.ndim == 2 and scores.ndim == 2 and labels.shape[1] != scores.shape[1]:
        raise InputError(
            f"{source}: {labels.shape[1]} label columns but {scores.shape[1]} prediction columns"
        )
    if scores.ndim == 1 and labels.ndim == 2 and labels.shape[1] != 2:
        raise InputError(
            f"{source}: {labels.shape[1]} label columns but a single prediction column; "
            "give one prediction column per class"
        )
    if scores.ndim == 2 and scores.shape[1] > MAX_CLASSES:
        raise InputError(
            f"{source}: {scores.shape[1]:,} prediction columns, more than the {MAX_CLASSES:,} "
            "classes lossdoctor diagnoses; save one column per class, and only those"
        )


def _nothing_usable(
    source: str, finite: np.ndarray, encoding: LabelEncoding, task: str, n_classes: int
) -> str:
    """Why no row is left to diagnose: a report of empty metrics would say nothing."""
    if not finite.any():
        return (
            f"{source}: every row holds a NaN or infinite score or label, so there is nothing "
            "to diagnose; find where the NaNs come from (a diverged model, a failed join?)"
        )
    seen = ", ".join(str(v) for v in encoding.values[:5])
    classes = "0 and 1" if task == "binary" else f"0..{n_classes - 1}"
    return (
        f"{source}: no label is a class of the predictions (labels seen: {seen}"
        f"{', ...' if encoding.n_distinct > 5 else ''}; classes: {classes}); fix the labels, "
        "or choose other columns with --label-col and --pred-col"
    )


def _finite_rows(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    finite = np.isfinite(scores)
    if finite.ndim == 2:
        finite = finite.all(axis=1)
    if labels.dtype.kind == "f":
        finite_labels = np.isfinite(labels)
        finite &= finite_labels.all(axis=1) if finite_labels.ndim == 2 else finite_labels
    return finite


def _task(labels: np.ndarray, scores: np.ndarray, forced: str | None, source: str) -> str:
    """Binary for one score column (or two complementary ones), multi-label for multi-hot labels."""
    if forced is not None:
        if forced not in TASKS:
            raise InputError(f"unknown task {forced!r}; use one of {', '.join(TASKS)}")
        if forced != "binary" and scores.ndim == 1:
            raise InputError(f"{source}: --task {forced} needs one prediction column per class")
        if forced == "multilabel" and labels.ndim == 1:
            raise InputError(f"{source}: --task multilabel needs one label column per class")
        if forced == "binary" and scores.ndim == 2 and scores.shape[1] > 2:
            raise InputError(
                f"{source}: --task binary needs one prediction column (or two), not "
                f"{scores.shape[1]}; drop --task to diagnose a multi-class problem"
            )
        return forced
    if scores.ndim == 1:
        return "binary"
    if labels.ndim == 2 and labels.dtype.kind in "biuf":
        ones = np.count_nonzero(labels == 1, axis=1)
        binary_cells = ((labels == 0) | (labels == 1)).all()
        if binary_cells and (ones != 1).any():
            return "multilabel"
    return "binary" if scores.shape[1] == 2 else "multiclass"


def _encode_labels(
    labels: np.ndarray, finite: np.ndarray, task: str, n_classes: int, positive: str | None
) -> tuple[np.ndarray, np.ndarray, LabelEncoding, tuple]:
    """Labels -> class indices, and a mask of the rows whose label is a class of the predictions."""
    if labels.ndim == 2:
        return _encode_indicator_labels(labels, finite, task)
    if labels.dtype.kind in "OUS" or positive is not None:
        return _encode_named_labels(labels.astype(str), finite, task, n_classes, positive)
    if labels.dtype.kind == "b":
        labels = labels.view(np.int8)
        name = "booleans"
    elif labels.dtype.kind == "f":
        usable = labels[finite]
        if not np.array_equal(usable, np.round(usable)):
            return _encode_soft_labels(labels, finite, task)
        # Whole numbers beyond int64 (1e30) are no class either: clipped, they stay out of range.
        labels = np.where(finite, labels, 0).astype(np.float64).clip(-(2**62), 2**62)
        labels = labels.astype(np.int64)
        name = "indices"
    else:
        name = "indices"
    return _encode_integer_labels(labels, finite, n_classes, name)


def _value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts; bincount when the range is small (no sort of N rows)."""
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < 1_000_000:
            counts = np.bincount((values - low).astype(np.intp), minlength=high - low + 1)
            present = np.flatnonzero(counts)
            return present + low, counts[present]
    return np.unique(values, return_counts=True)


def _encoding(name: str, values, counts, out_of_range: int = 0, not_one_hot: int = 0):
    shown = slice(0, MAX_LABEL_VALUES_SHOWN)
    return LabelEncoding(
        name=name,
        values=tuple(v.item() if hasattr(v, "item") else v for v in values[shown]),
        counts=tuple(int(c) for c in counts[shown]),
        n_distinct=len(values),
        out_of_range=int(out_of_range),
        not_one_hot=int(not_one_hot),
    )


def _encode_integer_labels(labels: np.ndarray, finite: np.ndarray, n_classes: int, name: str):
    values, counts = _value_counts(labels[finite])
    present = set(values.tolist())
    offset = 0
    if n_classes == 2 and present == {-1, 1}:
        name, offset = "minus-one-plus-one", None
    elif present and 0 not in present and min(present) >= 1 and max(present) == n_classes:
        name, offset = "one-to-k", 1
    if offset is None:  # {-1, +1}: -1 is the negative class
        y = (labels == 1).astype(np.int8)
        class_labels: tuple = (-1, 1)
        in_range = finite.copy()
    else:
        y = labels - offset if offset else labels
        in_range = finite & (y >= 0) & (y < n_classes)
        y = np.where(in_range, y, 0).astype(_index_dtype(n_classes))
        class_labels = tuple(range(offset, n_classes + offset))
    out_of_range = int(np.count_nonzero(finite & ~in_range))
    return y, in_range, _encoding(name, values, counts, out_of_range), class_labels


def _encode_named_labels(
    labels: np.ndarray, finite: np.ndarray, task: str, n_classes: int, positive: str | None
):
    """String labels: sorted, as scikit-learn's LabelEncoder; the positive class can be named."""
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    names = [str(v) for v in values]
    if task == "binary" and positive is not None:
        if positive not in names:
            raise InputError(
                f"--positive-label {positive!r} is not among the labels ({', '.join(names[:10])})"
            )
        y = (labels == positive).astype(np.int8)
        others = [n for n in names if n != positive]
        class_labels = (others[0] if len(others) == 1 else "not " + positive, positive)
        return y, finite, _encoding("strings", values, counts), class_labels
    in_range = finite & (inverse < n_classes)
    y = np.where(in_range, inverse, 0).astype(_index_dtype(n_classes))
    class_labels = tuple(names[:n_classes]) + tuple(range(len(names), n_classes))
    out_of_range = int(np.count_nonzero(finite & ~in_range))
    return y, in_range, _encoding("strings", values, counts, out_of_range), class_labels


def _encode_soft_labels(labels: np.ndarray, finite: np.ndarray, task: str):
    """Non-integer labels (label smoothing, averaged annotators): hard metrics use label >= 0.5."""
    values, counts = np.unique(labels[finite], return_counts=True)
    in_range = finite & (labels >= 0) & (labels <= 1) if task == "binary" else finite & False
    y = (np.where(in_range, labels, 0) >= 0.5).astype(np.int8)
    out_of_range = int(np.count_nonzero(finite & ~in_range))
    return y, in_range, _encoding("soft", values, counts, out_of_range), (0, 1)


def _encode_indicator_labels(labels: np.ndarray, finite: np.ndarray, task: str):
    """One-hot (single-label) or multi-hot (multi-label) label columns."""
    n_classes = labels.shape[1]
    hot = labels == 1
    ones_per_row = np.count_nonzero(hot, axis=1)
    values, counts = np.unique(np.where(finite, ones_per_row, 0), return_counts=True)
    if task == "multilabel":
        return hot, finite, _encoding("multi-hot", values, counts), tuple(range(n_classes))
    not_one_hot = int(np.count_nonzero(finite & (ones_per_row != 1)))
    y = np.argmax(labels, axis=1).astype(_index_dtype(n_classes))
    encoding = _encoding("one-hot", values, counts, not_one_hot=not_one_hot)
    return y, finite, encoding, tuple(range(n_classes))


def _index_dtype(n_classes: int) -> np.dtype:
    """The smallest signed integer type that holds every class index (labels stay compact)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_classes <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _kind(
    scores: np.ndarray, y: np.ndarray, task: str, options: Options, predictions: Predictions
) -> tuple[str, str]:
    """What the scores are: probabilities, logits or log-probabilities, and who said so."""
    low, high = float(scores.min()), float(scores.max())
    if options.from_logits is True:
        return "logits", "--from-logits"
    if options.from_logits is False:
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


def _to_probabilities(scores: np.ndarray, kind: str, task: str) -> tuple[np.ndarray, str]:
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


def row_sums(scores: np.ndarray) -> np.ndarray:
    """Sum of each row in float64: probabilities should give 1."""
    return scores.sum(axis=1, dtype=np.float64)
