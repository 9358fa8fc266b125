"""How the labels were stored, and their mapping onto class indices 0..K-1.

The mapping is decided once, from the survey of every row (`decide_labels`), then applied to
each batch (`LabelMap.apply`), so every batch of a dataset maps its labels alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.decisions import Task
from lossdoctor.infer.survey import Survey
from lossdoctor.io import IGNORE_INDEX

# A few distinct label values are shown in evidence; a thousand would drown the report.
MAX_LABEL_VALUES_SHOWN = 20
# Why class i is the class it is (the report says which):
#   indices      integer labels are the column indices (1..K and -1/+1 remapped)
#   sorted       text labels in sorted order, as scikit-learn's LabelEncoder
#   categorical  a categorical label column's categories, in their declared order
#   given        --classes (or --positive-label for binary)
#   columns      the columns' order: one label column per class, or prediction columns named
#                by the classes (DataFrame(model.predict_proba(X), columns=model.classes_))
CLASS_ORDERS = ("indices", "sorted", "categorical", "given", "columns")


@dataclass(frozen=True)
class LabelEncoding:
    """How the labels were stored, and how they were mapped onto class indices."""

    name: str  # indices, booleans, strings, minus-one-plus-one, one-to-k, one-hot, multi-hot, soft
    values: tuple  # distinct raw values (at most MAX_LABEL_VALUES_SHOWN)
    counts: tuple[int, ...]  # rows of each value in `values`
    n_distinct: int
    out_of_range: int  # rows whose label is no class of the predictions (left out of the metrics)
    not_one_hot: int  # one-hot rows without exactly one 1
    ignored: int = 0  # rows labelled IGNORE_INDEX (left out of the metrics, not an error)


@dataclass(frozen=True)
class LabelMap:
    """The decided mapping: which raw values are which class, for any batch of the labels."""

    encoding: LabelEncoding
    class_labels: tuple  # the label shown for each class index
    n_classes: int
    rule: str  # integer, signed, named, positive, soft, one-hot, multi-hot
    order: str  # one of CLASS_ORDERS
    offset: int = 0  # integer labels: class index = label - offset
    names: tuple[str, ...] = ()  # named labels: every name seen or declared, sorted (a lookup)
    name_classes: np.ndarray | None = None  # named labels: class of each name; -1: no class
    positive: str | None = None
    usable_values: np.ndarray | None = None  # per survey value: is it a class (1-D labels)

    def apply(self, labels: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class indices (bool (N, K) for multi-label) and the rows whose label is a class."""
        if self.rule == "multi-hot":
            return labels == 1, finite
        if self.rule == "one-hot":
            return np.argmax(labels, axis=1).astype(_index_dtype(self.n_classes)), finite
        if self.rule == "positive":
            return (_as_text(labels) == self.positive).astype(np.int8), finite
        if self.rule == "signed":
            return (labels == 1).astype(np.int8), finite & ((labels == 1) | (labels == -1))
        if self.rule == "soft":
            in_range = finite & (labels >= 0) & (labels <= 1)
            if self.n_classes != 2:
                in_range = finite & False
            return (np.where(in_range, labels, 0) >= 0.5).astype(np.int8), in_range
        if self.rule == "named":
            index = self._named_classes(_as_text(labels))
        elif self.offset == 0 and labels.dtype.kind in "biu" and self.usable_values.all():
            # Every label is a class index already: the column is used as it is, no copy.
            return (labels.view(np.int8) if labels.dtype.kind == "b" else labels), finite
        else:
            index = _whole(labels, finite) - self.offset
        in_range = finite & (index >= 0) & (index < self.n_classes)
        return np.where(in_range, index, 0).astype(_index_dtype(self.n_classes)), in_range

    def _named_classes(self, text: np.ndarray) -> np.ndarray:
        """The class of each text label; -1 for a name that is no class."""
        names = np.asarray(self.names, dtype=str)
        found = np.minimum(np.searchsorted(names, text), len(names) - 1)
        return np.where(names[found] == text, self.name_classes[found], -1)


def decide_labels(
    survey: Survey,
    task: str,
    n_classes: int,
    positive: str | None,
    classes: tuple[str, ...] = (),
    column_classes: tuple[str, ...] = (),
) -> LabelMap:
    """The encoding of every row's labels, from the survey of them all; `classes` (--classes)
    gives the class order, as scikit-learn's `labels=`, and so do prediction columns named by
    the classes (`column_classes`)."""
    values, counts = survey.values, survey.counts
    if survey.label_width:
        not_one_hot = int(counts[values != 1].sum())
        shown = _given(classes, n_classes) if classes else tuple(range(n_classes))
        order = "given" if classes else "columns"
        if task == Task.MULTILABEL:
            encoding = _encoding("multi-hot", values, counts)
            return LabelMap(encoding, shown, n_classes, "multi-hot", order)
        encoding = _encoding("one-hot", values, counts, not_one_hot=not_one_hot)
        return LabelMap(encoding, shown, n_classes, "one-hot", order)
    if classes or column_classes or survey.label_kind == "U" or positive is not None:
        name = "strings" if survey.label_kind == "U" else "indices"
        return _named(
            _as_text(values),
            counts,
            name,
            task,
            n_classes,
            positive,
            classes,
            column_classes,
            survey,
        )
    if survey.label_kind == "f" and not survey.whole_labels:
        usable = (values >= 0) & (values <= 1) if task == Task.BINARY else values != values
        encoding = _encoding("soft", values, counts, counts[~usable].sum())
        return LabelMap(encoding, (0, 1), n_classes, "soft", "indices", usable_values=usable)
    name = "booleans" if survey.label_kind == "b" else "indices"
    if survey.label_kind == "f":
        values = values.astype(np.float64).clip(-(2.0**62), 2.0**62).astype(np.int64)
    ignored = values == IGNORE_INDEX
    present = set(values[~ignored].tolist())
    if n_classes == 2 and present == {-1, 1}:
        encoding = _encoding("minus-one-plus-one", values, counts, ignored=counts[ignored].sum())
        usable = ~ignored
        return LabelMap(encoding, (-1, 1), n_classes, "signed", "indices", usable_values=usable)
    offset = 0
    if present and 0 not in present and min(present) >= 1 and max(present) == n_classes:
        name, offset = "one-to-k", 1
    usable = (values - offset >= 0) & (values - offset < n_classes)
    outside = counts[~usable & ~ignored].sum()
    encoding = _encoding(name, values, counts, outside, ignored=counts[ignored].sum())
    class_labels = tuple(range(offset, n_classes + offset))
    return LabelMap(
        encoding, class_labels, n_classes, "integer", "indices", offset, usable_values=usable
    )


def _named(
    values: np.ndarray,
    counts: np.ndarray,
    name: str,
    task: str,
    n_classes: int,
    positive: str | None,
    classes: tuple[str, ...],
    column_classes: tuple[str, ...],
    survey: Survey,
) -> LabelMap:
    """Labels matched by name: in the order given (--classes), a categorical column's order, or
    sorted, as scikit-learn's LabelEncoder; for binary, the positive class can be named."""
    names, inverse = np.unique(values, return_inverse=True)  # numbers shown as text join here
    merged = np.bincount(inverse, weights=counts, minlength=len(names)).astype(np.int64)
    names_list = [str(v) for v in names]
    if classes:
        order, source = _given(classes, n_classes), "given"
    elif column_classes:
        order, source = column_classes, "columns"
    elif survey.category_orders:
        order, source = _categorical(survey.category_orders), "categorical"
    else:
        order, source = tuple(names_list), "sorted"
    given = classes or column_classes
    if task == Task.BINARY and positive is not None:
        if given and positive != order[1]:
            raise InputError(
                f"--positive-label {positive!r} is not the second of --classes "
                f"({', '.join(order)}); give one of them, or put the positive class second"
            )
        if not given and positive not in names_list:
            raise InputError(
                f"--positive-label {positive!r} is not among the labels "
                f"({', '.join(names_list[:10])})"
            )
        if not given:
            others = [n for n in names_list if n != positive]
            class_labels = (others[0] if len(others) == 1 else "not " + positive, positive)
            return LabelMap(
                _encoding(name, names, merged),
                class_labels,
                n_classes,
                "positive",
                "given",
                positive=positive,
                usable_values=np.ones(len(values), dtype=bool),
            )
    lookup, lookup_classes = _lookup(names_list, order[:n_classes])
    name_classes = lookup_classes[np.searchsorted(lookup, names)]
    usable = name_classes[inverse] >= 0
    ignored = (names == str(IGNORE_INDEX)) if name != "strings" else np.zeros(len(names), bool)
    outside = merged[(name_classes < 0) & ~ignored].sum()
    encoding = _encoding(name, names, merged, outside, ignored=merged[ignored].sum())
    class_labels = tuple(order[:n_classes]) + tuple(range(len(order), n_classes))
    return LabelMap(
        encoding,
        class_labels,
        n_classes,
        "named",
        source,
        names=tuple(lookup.tolist()),
        name_classes=lookup_classes,
        usable_values=usable,
    )


def _categorical(orders: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """The one order of the categories; pieces of data that disagree on it are refused."""
    if len(orders) > 1:
        shown = " vs ".join(
            "[" + ", ".join(order[:5]) + (", ...]" if len(order) > 5 else "]")
            for order in orders[:2]
        )
        raise InputError(
            f"the label column's categories come in different orders in different parts of the "
            f"data ({shown}); write every file with one categorical type, or give the class "
            "order with --classes"
        )
    return orders[0]


def _lookup(seen: list[str], order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Every name seen or declared, sorted, and the class of each (-1: no class)."""
    lookup = np.unique(np.array([*seen, *order], dtype=str))
    classes = np.full(len(lookup), -1, dtype=np.int64)
    classes[np.searchsorted(lookup, np.array(order, dtype=str))] = np.arange(len(order))
    return lookup, classes


def _given(classes: tuple[str, ...], n_classes: int) -> tuple[str, ...]:
    """--classes, checked against the prediction columns."""
    if len(set(classes)) != len(classes):
        twice = next(c for c in classes if classes.count(c) > 1)
        raise InputError(f"--classes names {twice!r} twice; name each class once")
    if len(classes) != n_classes:
        raise InputError(
            f"--classes names {len(classes)} classes but the predictions have {n_classes}; "
            "name every class once, in the order of the prediction columns"
        )
    return tuple(classes)


def _as_text(labels: np.ndarray) -> np.ndarray:
    """Labels as the text they are matched by: whole floats and booleans as integers."""
    if labels.dtype.kind == "U":
        return labels
    if labels.dtype.kind == "b":
        labels = labels.view(np.int8)
    elif labels.dtype.kind == "f":
        finite = np.isfinite(labels)
        whole = np.where(finite, labels, 0).astype(np.float64)
        if np.array_equal(whole, np.round(whole)):
            text = whole.clip(-(2.0**62), 2.0**62).astype(np.int64).astype(str)
            return np.where(finite, text, "nan")
    return labels.astype(str)


def _whole(labels: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Integer class labels as int64; whole floats too (beyond int64 they stay out of range)."""
    if labels.dtype.kind == "b":
        return labels.view(np.int8).astype(np.int64)
    if labels.dtype.kind == "f":
        whole = np.where(finite, labels, 0).astype(np.float64)
        return whole.clip(-(2.0**62), 2.0**62).astype(np.int64)
    return labels.astype(np.int64, copy=False)


def _encoding(name: str, values, counts, out_of_range=0, not_one_hot=0, ignored=0):
    shown = slice(0, MAX_LABEL_VALUES_SHOWN)
    return LabelEncoding(
        name=name,
        values=tuple(v.item() if hasattr(v, "item") else v for v in values[shown]),
        counts=tuple(int(c) for c in counts[shown]),
        n_distinct=len(values),
        out_of_range=int(out_of_range),
        not_one_hot=int(not_one_hot),
        ignored=int(ignored),
    )


def _index_dtype(n_classes: int) -> np.dtype:
    """The smallest signed integer type that holds every class index (labels stay compact)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_classes <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)
