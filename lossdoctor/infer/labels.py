"""How the labels were stored, and their mapping onto class indices 0..K-1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError

# A few distinct label values are shown in evidence; a thousand would drown the report.
MAX_LABEL_VALUES_SHOWN = 20


@dataclass(frozen=True)
class LabelEncoding:
    """How the labels were stored, and how they were mapped onto class indices."""

    name: str  # indices, booleans, strings, minus-one-plus-one, one-to-k, one-hot, multi-hot, soft
    values: tuple  # distinct raw values (at most MAX_LABEL_VALUES_SHOWN)
    counts: tuple[int, ...]  # rows of each value in `values`
    n_distinct: int
    out_of_range: int  # rows whose label is no class of the predictions (left out of the metrics)
    not_one_hot: int  # one-hot rows without exactly one 1


def encode_labels(
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
