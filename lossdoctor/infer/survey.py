"""What inference needs to know about every row, as a summary that merges across batches.

Deciding what the labels and scores are takes the whole data: a label -1 in the last file
changes the encoding, one score above 1 in a billion makes them logits. A `Survey` of a batch
holds exactly what those decisions read (the distinct label values, the score range of the rows
of each, the non-finite rows) and two surveys merge into the survey of both, so a file in memory
and a dataset streamed in batches are decided alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import Batch, Predictions

# The scores of single-label rows count as normalised when they sum to 1 within this.
ROW_SUM_TOLERANCE = 1e-3
# The first few non-finite rows are enough to find them; all of them could be millions.
NON_FINITE_ROWS_KEPT = 10
# Past this many distinct label values the column is an id or a score, not labels.
MAX_LABEL_VALUES = 1_000_000
# Rows looked at before all of them, to tell whole-number scores: probabilities rarely are.
WHOLE_PEEK = 256


@dataclass(frozen=True)
class Survey:
    """Per distinct label value (1-D labels) or for all rows (indicator labels, one group):
    the finite rows, and the lowest and highest score and the rows off a row sum of 1 among
    them. Plus the shape of the data and its non-finite rows."""

    rows: int
    label_width: int  # 0 for 1-D labels, else the number of label columns
    score_width: int  # 0 for one score column, else the number of score columns
    label_kind: str  # numpy dtype kind of the labels: b, i, u, f, U
    declared_logits: bool
    unit: str  # rows, or tokens (token-classification outputs read as one row per token)
    columns_chosen_by: str  # how the prediction columns were found, when not by name
    # A categorical label column's classes, in their order: every distinct order seen (one,
    # unless pieces of the data were written with different categories); () for plain labels.
    category_orders: tuple[tuple[str, ...], ...]
    values: np.ndarray  # distinct finite label values (1-D labels); ones per row (indicator)
    counts: np.ndarray  # finite rows of each value
    weight_column: str  # the sample weights' column, '' without weights
    weight_by_name: bool  # ... found by its name (sample_weight, weight, weights), not given
    weight_sums: np.ndarray  # float64 sum of the finite rows' weights per value (or group)
    weighted_counts: np.ndarray  # ... and the finite rows of a positive weight
    group_low: np.ndarray  # 1-D labels: per value; indicator labels: one entry for all rows
    group_high: np.ndarray
    group_rows_off: np.ndarray  # rows whose scores do not sum to 1 (two score columns or more)
    whole_labels: bool  # every finite float label is a whole number
    rows_not_one_hot: int  # indicator labels, every row: not exactly one 1 (task inference)
    binary_cells: bool  # indicator labels, every cell 0 or 1
    whole_scores: bool  # every finite score is a whole number (class labels, not scores?)
    non_finite: int
    nan_scores: int
    inf_scores: int
    non_finite_labels: int
    first_non_finite: np.ndarray  # dataset-wide row numbers, the lowest NON_FINITE_ROWS_KEPT

    @property
    def finite_rows(self) -> int:
        return self.rows - self.non_finite

    def merge(self, other: Survey) -> Survey:
        """The survey of both batches' rows."""
        _same_shape(self, other)
        merged, inverse = np.unique(
            np.concatenate([self.values, other.values]), return_inverse=True
        )
        counts = np.zeros(len(merged), dtype=np.int64)
        np.add.at(counts, inverse, np.concatenate([self.counts, other.counts]))
        weight_sums = np.zeros(len(merged))
        np.add.at(weight_sums, inverse, np.concatenate([self.weight_sums, other.weight_sums]))
        weighted_counts = np.zeros(len(merged), dtype=np.int64)
        both = np.concatenate([self.weighted_counts, other.weighted_counts])
        np.add.at(weighted_counts, inverse, both)
        if self.label_width:  # values count ones per row; one group holds every row
            inverse = np.zeros(len(self.group_low) + len(other.group_low), dtype=np.intp)
        low, high, off = _group_statistics(
            inverse,
            len(merged) if not self.label_width else 1,
            np.concatenate([self.group_low, other.group_low]),
            np.concatenate([self.group_high, other.group_high]),
            np.concatenate([self.group_rows_off, other.group_rows_off]),
        )
        if len(merged) > MAX_LABEL_VALUES:
            raise InputError(_too_many_values())
        first = np.union1d(self.first_non_finite, other.first_non_finite)
        return Survey(
            rows=self.rows + other.rows,
            label_width=self.label_width,
            score_width=self.score_width,
            label_kind=self.label_kind,
            declared_logits=self.declared_logits,
            unit=self.unit,
            columns_chosen_by=self.columns_chosen_by,
            category_orders=tuple(sorted({*self.category_orders, *other.category_orders})),
            values=merged,
            counts=counts,
            weight_column=self.weight_column,
            weight_by_name=self.weight_by_name,
            weight_sums=weight_sums,
            weighted_counts=weighted_counts,
            group_low=low,
            group_high=high,
            group_rows_off=off,
            whole_labels=self.whole_labels and other.whole_labels,
            rows_not_one_hot=self.rows_not_one_hot + other.rows_not_one_hot,
            binary_cells=self.binary_cells and other.binary_cells,
            whole_scores=self.whole_scores and other.whole_scores,
            non_finite=self.non_finite + other.non_finite,
            nan_scores=self.nan_scores + other.nan_scores,
            inf_scores=self.inf_scores + other.inf_scores,
            non_finite_labels=self.non_finite_labels + other.non_finite_labels,
            first_non_finite=first[:NON_FINITE_ROWS_KEPT],
        )


def _same_shape(a: Survey, b: Survey) -> None:
    if (a.label_width, a.score_width) != (b.label_width, b.score_width):
        raise InputError(
            f"the files of the dataset disagree on the number of label or score columns "
            f"({a.label_width or 1} and {a.score_width or 1} vs {b.label_width or 1} and "
            f"{b.score_width or 1}); give files of one layout"
        )
    if a.label_kind != b.label_kind and {a.label_kind, b.label_kind} - set("biuf"):
        raise InputError("the files of the dataset hold labels of different types; align them")


def _too_many_values() -> str:
    return (
        f"the label column holds more than {MAX_LABEL_VALUES:,} distinct values: an id or a "
        "score, not labels; choose the label column with --label-col"
    )


def scores_and_labels(predictions: Predictions) -> tuple[np.ndarray, np.ndarray]:
    """The two arrays with a single column squeezed, scores as floats (their shapes were
    checked where the rows were read, in io)."""
    scores = as_float(predictions.y_score, predictions.source)
    labels = predictions.y_true
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return scores, labels


def finite_rows(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    finite = np.isfinite(scores)
    if finite.ndim == 2:
        finite = finite.all(axis=1)
    if labels.dtype.kind == "f":
        finite_labels = np.isfinite(labels)
        finite &= finite_labels.all(axis=1) if finite_labels.ndim == 2 else finite_labels
    return finite


def survey_batch(batch: Batch) -> Survey:
    """The survey of one batch of rows."""
    scores, labels = scores_and_labels(batch.predictions)
    finite = finite_rows(scores, labels)
    all_finite = bool(finite.all())
    kept_scores = scores if all_finite else scores[finite]
    off = _rows_off(kept_scores)
    if labels.ndim == 1:
        kept = labels if all_finite else labels[finite]
        values, counts = label_counts(kept)
        if len(values) > MAX_LABEL_VALUES:
            raise InputError(_too_many_values())
        group_low, group_high, group_off = _per_value(kept, values, kept_scores, off)
        whole = kept.dtype.kind != "f" or bool(np.array_equal(kept, np.round(kept)))
        rows_not_one_hot, binary_cells = 0, True
    else:
        hot = labels == 1
        ones = np.count_nonzero(hot, axis=1)
        values, counts = np.unique(ones[finite], return_counts=True)
        group_low, group_high, group_off = _per_value(None, values[:1], kept_scores, off)
        whole = True
        rows_not_one_hot = int(np.count_nonzero(ones != 1))
        binary_cells = bool((hot | (labels == 0)).all())
    not_finite = np.flatnonzero(~finite) if not all_finite else np.zeros(0, dtype=np.int64)
    weight_sums, weighted_counts = _weight_sums(
        batch.predictions.weights, finite, labels, values, all_finite
    )
    bad_scores = scores[not_finite]
    return Survey(
        rows=len(scores),
        label_width=0 if labels.ndim == 1 else labels.shape[1],
        score_width=0 if scores.ndim == 1 else scores.shape[1],
        label_kind="U" if labels.dtype.kind in "OUS" else labels.dtype.kind,
        declared_logits=batch.predictions.declared_logits,
        unit=batch.predictions.unit,
        columns_chosen_by=batch.predictions.chosen_by,
        category_orders=batch.predictions.category_orders,
        values=values,
        counts=counts.astype(np.int64),
        weight_column=batch.predictions.weight_column,
        weight_by_name=batch.predictions.weight_by_name,
        weight_sums=weight_sums,
        weighted_counts=weighted_counts,
        group_low=group_low,
        group_high=group_high,
        group_rows_off=group_off,
        whole_labels=whole,
        rows_not_one_hot=rows_not_one_hot,
        binary_cells=binary_cells,
        whole_scores=_whole_numbers(kept_scores),
        non_finite=len(not_finite),
        nan_scores=_rows_with(np.isnan(bad_scores)),
        inf_scores=_rows_with(np.isinf(bad_scores)),
        non_finite_labels=(
            _rows_with(~np.isfinite(labels[not_finite])) if labels.dtype.kind == "f" else 0
        ),
        first_non_finite=not_finite[:NON_FINITE_ROWS_KEPT] + batch.first_row,
    )


def survey_from_footer(
    head: Survey, rows: int, labels: Iterable[np.ndarray], score_low: float, score_high: float
) -> Survey | None:
    """The survey of a file whose footer gives the range of its scores (min/max statistics
    leave NaN out), from the survey of its first rows and a read of its labels alone.

    It is the survey of every row when no score is NaN, which statistics cannot tell: whoever
    uses it checks that every row was usable once they are read. Each label value is given
    the range of all the scores, which is its own only when every value is a class (checked
    too). None where the first rows leave it open: whole-number scores (class predictions?),
    non-finite rows, labels other than integers, several columns.
    """
    if not footer_decides(head, score_low, score_high):
        return None
    counted = [label_counts(batch) for batch in labels]
    values, inverse = np.unique(np.concatenate([v for v, _ in counted]), return_inverse=True)
    if len(values) > MAX_LABEL_VALUES:
        return None
    counts = np.zeros(len(values), dtype=np.int64)
    np.add.at(counts, inverse, np.concatenate([c for _, c in counted]).astype(np.int64))
    if counts.sum() != rows:
        return None
    n = len(values)
    return replace(
        head,
        rows=rows,
        values=values,
        counts=counts,
        weight_sums=np.zeros(n),
        weighted_counts=np.zeros(n, dtype=np.int64),
        group_low=np.full(n, score_low),
        group_high=np.full(n, score_high),
        group_rows_off=np.zeros(n, dtype=np.int64),
    )


def footer_decides(head: Survey, score_low: float, score_high: float) -> bool:
    """Whether a file's first rows and its footer's score range leave nothing open that
    survey_from_footer would need every row for."""
    plain = not (head.label_width or head.score_width or head.weight_column)
    if not plain or head.whole_scores or head.non_finite or head.label_kind not in "iu":
        return False
    return bool(np.isfinite(score_low) and np.isfinite(score_high))


def _weight_sums(
    weights: np.ndarray | None,
    finite: np.ndarray,
    labels: np.ndarray,
    values: np.ndarray,
    all_finite: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The finite rows' weights summed per label value (indicator labels: one group), and the
    rows of a positive weight among them."""
    if weights is None:
        return np.zeros(len(values)), np.zeros(len(values), dtype=np.int64)
    kept = weights if all_finite else weights[finite]
    if labels.ndim == 2:
        group = np.zeros(len(kept), dtype=np.intp)
        return _per_group(group, kept, len(values))
    kept_labels = labels if all_finite else labels[finite]
    if kept_labels.dtype.kind in "OUS":
        kept_labels = kept_labels.astype(str)
    if kept_labels.dtype.kind == "b":
        kept_labels = kept_labels.view(np.int8)
    return _per_group(np.searchsorted(values, kept_labels), kept, len(values))


def _per_group(group: np.ndarray, weights: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    sums = np.bincount(group, weights=weights, minlength=n).astype(np.float64)
    return sums, np.bincount(group[weights > 0], minlength=n).astype(np.int64)


# Up to this many integer label values, each is counted by a comparison: a byte a row read
# once per value, where a bincount first widens every label to a 64-bit index.
COMPARED_VALUES = 4


def label_counts(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts; a bincount for small integers, not a sort."""
    if labels.dtype.kind == "b":
        labels = labels.view(np.int8)
    if labels.dtype.kind in "iu" and len(labels):
        low, high = int(labels.min()), int(labels.max())
        if high - low < COMPARED_VALUES:
            values = np.arange(low, high + 1).astype(labels.dtype)
            counts = np.array([np.count_nonzero(labels == value) for value in values])
            present = np.flatnonzero(counts)
            return values[present], counts[present]
        if high - low < 1_000_000:
            counts = np.bincount((labels - low).astype(np.intp), minlength=high - low + 1)
            present = np.flatnonzero(counts)
            return (present + low).astype(labels.dtype), counts[present]
    if labels.dtype.kind in "OUS":
        labels = labels.astype(str)
    return np.unique(labels, return_counts=True)


def _rows_off(scores: np.ndarray) -> np.ndarray | None:
    """Rows of several score columns whose sum misses 1; None for a single column."""
    if scores.ndim == 1:
        return None
    return np.abs(scores.sum(axis=1, dtype=np.float64) - 1) > ROW_SUM_TOLERANCE


# Up to this many label values, each value's rows are found by a comparison, not a sort.
FEW_VALUES = 32


def _per_value(
    labels: np.ndarray | None, values: np.ndarray, scores: np.ndarray, off: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest and highest score and rows off a sum of 1, among the rows of each label value
    (labels None: every row is one group).

    A few values: each one's rows, every cell at once (a reduction along rows is slow).
    Many: per-row extremes, grouped.
    """
    if off is None:
        off = np.zeros(len(scores), dtype=bool)
    if labels is None or len(values) == 1:
        return _extremes(scores, off)
    if labels.dtype.kind == "b":
        labels = labels.view(np.int8)
    elif labels.dtype.kind in "OUS":
        labels = labels.astype(str)
    if len(values) > FEW_VALUES:
        low = scores.min(axis=1) if scores.ndim == 2 else scores
        high = scores.max(axis=1) if scores.ndim == 2 else scores
        return _group_statistics(np.searchsorted(values, labels), len(values), low, high, off)
    group_low, group_high = np.empty(len(values)), np.empty(len(values))
    group_off = np.zeros(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        rows = labels == value  # np.compress copies rows several times faster than a mask
        extremes = _extremes(np.compress(rows, scores, axis=0), np.compress(rows, off))
        group_low[i], group_high[i], group_off[i] = (e[0] for e in extremes)
    return group_low, group_high, group_off


def _extremes(scores: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One group's lowest and highest score and rows off a sum of 1, as one-entry arrays."""
    low, high = scores.min(initial=np.inf), scores.max(initial=-np.inf)
    return np.array([low], float), np.array([high], float), np.array([np.count_nonzero(off)])


def _group_statistics(
    group: np.ndarray, n: int, low: np.ndarray, high: np.ndarray, off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    group_low = np.full(n, np.inf)
    group_high = np.full(n, -np.inf)
    np.minimum.at(group_low, group, low.astype(np.float64, copy=False))
    np.maximum.at(group_high, group, high.astype(np.float64, copy=False))
    return group_low, group_high, np.bincount(group, weights=off, minlength=n).astype(np.int64)


def _whole_numbers(scores: np.ndarray) -> bool:
    """Every score a whole number; the first rows settle it for almost every probability
    (a view: reshaping a column-major batch would copy it)."""
    head = scores[:WHOLE_PEEK]
    if not np.array_equal(head, np.round(head)):
        return False
    return bool(np.array_equal(scores, np.round(scores)))


def _rows_with(hits: np.ndarray) -> int:
    return int(np.count_nonzero(hits.any(axis=1) if hits.ndim == 2 else hits))


def as_float(scores: np.ndarray, source: str) -> np.ndarray:
    """Floats as scikit-learn takes them: float16/32/64 kept, anything numeric to float64."""
    if scores.dtype.kind == "f":
        return scores
    if scores.dtype.kind in "biu":
        return scores.astype(np.float64)
    raise InputError(f"{source}: predictions are not numbers (dtype {scores.dtype})")
