"""How the labels were stored, and their mapping onto class indices 0..K-1.

The mapping is decided once, from the survey of every row (`decide_labels`), then applied to
each batch (`LabelMap.apply`), so every batch of a dataset maps its labels alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.survey import Survey

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


@dataclass(frozen=True)
class LabelMap:
    """The decided mapping: which raw values are which class, for any batch of the labels."""

    encoding: LabelEncoding
    class_labels: tuple  # the label shown for each class index
    n_classes: int
    rule: str  # integer, signed, named, positive, soft, one-hot, multi-hot
    offset: int = 0  # integer labels: class index = label - offset
    names: tuple[str, ...] = ()  # named labels: sorted, as scikit-learn's LabelEncoder
    positive: str | None = None
    usable_values: np.ndarray | None = None  # per survey value: is it a class (1-D labels)

    def apply(self, labels: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class indices (bool (N, K) for multi-label) and the rows whose label is a class."""
        if self.rule == "multi-hot":
            return labels == 1, finite
        if self.rule == "one-hot":
            return np.argmax(labels, axis=1).astype(_index_dtype(self.n_classes)), finite
        if self.rule == "positive":
            return (labels.astype(str) == self.positive).astype(np.int8), finite
        if self.rule == "signed":
            return (labels == 1).astype(np.int8), finite
        if self.rule == "soft":
            in_range = finite & (labels >= 0) & (labels <= 1)
            if self.n_classes != 2:
                in_range = finite & False
            return (np.where(in_range, labels, 0) >= 0.5).astype(np.int8), in_range
        if self.rule == "named":
            index = np.searchsorted(np.asarray(self.names), labels.astype(str))
        elif self.offset == 0 and labels.dtype.kind in "biu" and self.usable_values.all():
            # Every label is a class index already: the column is used as it is, no copy.
            return (labels.view(np.int8) if labels.dtype.kind == "b" else labels), finite
        else:
            index = _whole(labels, finite) - self.offset
        in_range = finite & (index >= 0) & (index < self.n_classes)
        return np.where(in_range, index, 0).astype(_index_dtype(self.n_classes)), in_range


def decide_labels(survey: Survey, task: str, n_classes: int, positive: str | None) -> LabelMap:
    """The encoding of every row's labels, from the survey of them all."""
    values, counts = survey.values, survey.counts
    if survey.label_width:
        not_one_hot = int(counts[values != 1].sum())
        if task == "multilabel":
            encoding = _encoding("multi-hot", values, counts)
            return LabelMap(encoding, tuple(range(n_classes)), n_classes, "multi-hot")
        encoding = _encoding("one-hot", values, counts, not_one_hot=not_one_hot)
        return LabelMap(encoding, tuple(range(n_classes)), n_classes, "one-hot")
    if survey.label_kind == "U" or positive is not None:
        return _named(values.astype(str), counts, task, n_classes, positive)
    if survey.label_kind == "f" and not survey.whole_labels:
        usable = (values >= 0) & (values <= 1) if task == "binary" else values != values
        encoding = _encoding("soft", values, counts, counts[~usable].sum())
        return LabelMap(encoding, (0, 1), n_classes, "soft", usable_values=usable)
    name = "booleans" if survey.label_kind == "b" else "indices"
    if survey.label_kind == "f":
        values = values.astype(np.float64).clip(-(2.0**62), 2.0**62).astype(np.int64)
    present = set(values.tolist())
    if n_classes == 2 and present == {-1, 1}:
        encoding = _encoding("minus-one-plus-one", values, counts)
        usable = np.ones(len(values), dtype=bool)
        return LabelMap(encoding, (-1, 1), n_classes, "signed", usable_values=usable)
    offset = 0
    if present and 0 not in present and min(present) >= 1 and max(present) == n_classes:
        name, offset = "one-to-k", 1
    usable = (values - offset >= 0) & (values - offset < n_classes)
    encoding = _encoding(name, values, counts, counts[~usable].sum())
    class_labels = tuple(range(offset, n_classes + offset))
    return LabelMap(encoding, class_labels, n_classes, "integer", offset, usable_values=usable)


def _named(
    values: np.ndarray, counts: np.ndarray, task: str, n_classes: int, positive: str | None
) -> LabelMap:
    """String labels: sorted, as scikit-learn's LabelEncoder; the positive class can be named."""
    names, inverse = np.unique(values, return_inverse=True)  # numbers shown as text join here
    merged = np.bincount(inverse, weights=counts, minlength=len(names)).astype(np.int64)
    names_list = [str(v) for v in names]
    if task == "binary" and positive is not None:
        if positive not in names_list:
            raise InputError(
                f"--positive-label {positive!r} is not among the labels "
                f"({', '.join(names_list[:10])})"
            )
        others = [n for n in names_list if n != positive]
        class_labels = (others[0] if len(others) == 1 else "not " + positive, positive)
        usable = np.ones(len(values), dtype=bool)
        return LabelMap(
            _encoding("strings", names, merged),
            class_labels,
            n_classes,
            "positive",
            positive=positive,
            usable_values=usable,
        )
    usable = inverse < n_classes
    encoding = _encoding("strings", names, merged, merged[n_classes:].sum())
    class_labels = tuple(names_list[:n_classes]) + tuple(range(len(names), n_classes))
    return LabelMap(
        encoding, class_labels, n_classes, "named", names=tuple(names_list), usable_values=usable
    )


def _whole(labels: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Integer class labels as int64; whole floats too (beyond int64 they stay out of range)."""
    if labels.dtype.kind == "b":
        return labels.view(np.int8).astype(np.int64)
    if labels.dtype.kind == "f":
        whole = np.where(finite, labels, 0).astype(np.float64)
        return whole.clip(-(2.0**62), 2.0**62).astype(np.int64)
    return labels.astype(np.int64, copy=False)


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


def _index_dtype(n_classes: int) -> np.dtype:
    """The smallest signed integer type that holds every class index (labels stay compact)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_classes <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)
