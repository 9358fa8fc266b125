"""The survey of each segment (lossdoctor.infer.survey), kept beside the whole data's: what
`inconsistent-segments` compares (a stream's in its survey pass, a file in memory beside its
metric totals). A batch of one segment (the usual batch of
a file) costs nothing more, its survey is the batch's; a batch of several is grouped by
(segment, label value) with bincounts, a block of rows at a time, not surveyed segment by
segment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from lossdoctor.infer import ROW_SUM_TOLERANCE, Survey, survey_batch
from lossdoctor.infer.survey import finite_rows, scores_and_labels
from lossdoctor.io import Batch
from lossdoctor.io.segments import MAX_SEGMENTS, Coding, distinct
from lossdoctor.losses import BLOCK_ROWS
from lossdoctor.threads import ordered_map

# segmentation (a --by column, or file) -> segment value -> its survey
SegmentSurveys = dict[str, dict[Any, Survey] | None]
# Segments times label values counted at once; past it, each segment is surveyed alone.
MAX_CELLS = 1 << 22


def survey_segments(
    names: Sequence[str],
    batch: Batch,
    whole: Survey,
    coded: Coding | None = None,
    together: bool = True,
) -> SegmentSurveys:
    """The survey of each segment of the batch, for each segmentation it carries; `coded`:
    a column's distinct values and each row's index into them (io.segments.distinct); not
    `together`: on the calling thread alone (the other core is busy)."""
    found: SegmentSurveys = {}
    columns = batch.predictions.segments
    coded = coded or (lambda _, column: distinct(column))
    for name in names:
        if name not in columns:
            continue
        values, codes = coded(name, columns[name])
        keys = [_key(v) for v in values]
        if len(values) > MAX_SEGMENTS:
            found[name] = None
        elif len(values) == 1:
            found[name] = {keys[0]: whole}
        elif not len(codes) or (np.diff(codes) >= 0).all():  # runs: a batch of a few files
            starts = np.searchsorted(codes, np.arange(len(values) + 1))
            found[name] = {
                key: survey_batch(_slice(batch, starts[i], starts[i + 1]))
                for i, key in enumerate(keys)
            }
        elif whole.label_width or len(values) * max(len(whole.values), 1) > MAX_CELLS:
            found[name] = _one_by_one(batch, keys, codes)
        else:
            grouped = _grouped(batch, whole, codes, len(values), together)
            found[name] = dict(zip(keys, grouped, strict=True))
    return found


def _one_by_one(batch: Batch, keys: list[Any], codes: np.ndarray) -> dict[Any, Survey]:
    """Each segment's rows surveyed as a batch of their own (indicator labels, or more
    segments times label values than MAX_CELLS)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
    return {
        key: survey_batch(_rows(batch, order[bounds[i] : bounds[i + 1]]))
        for i, key in enumerate(keys)
    }


def _grouped(
    batch: Batch, whole: Survey, codes: np.ndarray, n: int, together: bool = True
) -> list[Survey]:
    """The surveys of n segments of a batch of 1-D labels at once, grouped by (segment, label
    value) with bincounts: per segment its label values and their rows, the score range of
    each, the rows off a sum of 1, and whether its labels are whole numbers. The rest of a
    segment's survey is the batch's (the shape of the data, how its columns were chosen).

    Counted a block of rows at a time (temporaries of a few megabytes), the blocks' counts
    added in their order; a batch larger than a stream's (a file in memory, which leaves the
    second core free, `together`) two blocks at a time on two threads."""
    width = max(len(whole.values), 1)
    starts = range(0, len(codes), BLOCK_ROWS)
    scores, labels = scores_and_labels(batch.predictions)  # once: integer scores are converted
    weights = batch.predictions.weights

    def counted(start: int) -> _Counts:
        block = slice(start, start + BLOCK_ROWS)
        held = None if weights is None else weights[block]
        return _block_counts(
            scores[block], labels[block], held, whole.values, codes[block], n, width
        )

    blocks = ordered_map(counted, starts, together and len(codes) > BLOCK_ROWS)
    cells = n * width
    counts = np.zeros(cells, dtype=np.int64)
    low = np.full(cells, np.inf, dtype=np.float32)
    high = np.full(cells, -np.inf, dtype=np.float32)
    off = np.zeros(cells, dtype=np.int64)
    sums = np.zeros(cells)
    positive = np.zeros(cells, dtype=np.int64)
    fractional = np.zeros(n)
    dropped = np.zeros(n, dtype=np.int64)
    for block in blocks:  # in the rows' order: float sums add as a loop over the blocks would
        counts += block.counts
        np.minimum(low, block.low, out=low)
        np.maximum(high, block.high, out=high)
        if block.off is not None:
            off += block.off
        if block.sums is not None:
            sums += block.sums
            positive += block.positive
        if block.fractional is not None:
            fractional += block.fractional
        if block.dropped is not None:
            dropped += block.dropped
    counts, off = counts.reshape(n, width), off.reshape(n, width)
    kept_rows = counts.sum(axis=1)
    rows = kept_rows + dropped
    sums, positive = sums.reshape(n, width), positive.reshape(n, width)
    low = low.astype(np.float64).reshape(n, width)
    high = high.astype(np.float64).reshape(n, width)
    surveys = []
    for s in range(n):
        held = counts[s] > 0
        surveys.append(
            replace(
                whole,
                rows=int(rows[s]),
                values=whole.values[held],
                counts=counts[s][held].astype(np.int64),
                weight_sums=sums[s][held],
                weighted_counts=positive[s][held],
                group_low=low[s][held],
                group_high=high[s][held],
                group_rows_off=off[s][held],
                whole_labels=bool(fractional[s] == 0),
                non_finite=int(dropped[s]),
                nan_scores=0,
                inf_scores=0,
                non_finite_labels=0,
                first_non_finite=np.zeros(0, dtype=np.int64),
            )
        )
    return surveys


class _Counts(NamedTuple):
    """One block's counts per (segment, label value) cell; None where nothing is counted."""

    counts: np.ndarray
    low: np.ndarray
    high: np.ndarray
    off: np.ndarray | None  # rows off a sum of 1 (2-D scores)
    sums: np.ndarray | None  # summed weights
    positive: np.ndarray | None  # rows of positive weight
    fractional: np.ndarray | None  # per segment: labels that are not whole numbers
    dropped: np.ndarray | None  # per segment: rows with a non-finite score or label


def _block_counts(
    block_scores: np.ndarray,
    block_labels: np.ndarray,
    block_weights: np.ndarray | None,
    values: np.ndarray,
    segment: np.ndarray,
    n: int,
    width: int,
) -> _Counts:
    """The counts of a block of rows (`segment`: their codes)."""
    finite = finite_rows(block_scores, block_labels)
    dropped = None
    if not finite.all():
        dropped = np.bincount(segment[~finite], minlength=n)
        segment, block_labels = segment[finite], block_labels[finite]
        block_scores = block_scores[finite]
    if block_labels.dtype.kind == "b":
        block_labels = block_labels.view(np.int8)
    elif block_labels.dtype.kind in "OUS":
        block_labels = block_labels.astype(str)
    cells = n * width
    cell = segment.astype(np.intp) * width + _label_index(values, block_labels)
    two_d = block_scores.ndim == 2
    lows = block_scores.min(axis=1) if two_d else block_scores
    highs = block_scores.max(axis=1) if two_d else block_scores
    low = np.full(cells, np.inf, dtype=np.float32)
    high = np.full(cells, -np.inf, dtype=np.float32)
    np.minimum.at(low, cell, _outward(lows, True) + np.float32(0))  # -0.0 is 0.0
    np.maximum.at(high, cell, _outward(highs, False) + np.float32(0))
    off = sums = positive = fractional = None
    if two_d:
        missed = np.abs(block_scores.sum(axis=1, dtype=np.float64) - 1) > ROW_SUM_TOLERANCE
        off = np.bincount(cell, weights=missed, minlength=cells).astype(np.int64)
    if block_weights is not None:
        kept = block_weights[finite]
        sums = np.bincount(cell, weights=kept, minlength=cells)
        positive = np.bincount(cell[kept > 0], minlength=cells)
    if block_labels.dtype.kind == "f":
        whole_number = block_labels == np.round(block_labels)
        fractional = np.bincount(segment, weights=~whole_number, minlength=n)
    return _Counts(
        np.bincount(cell, minlength=cells), low, high, off, sums, positive, fractional, dropped
    )


def _label_index(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each label's index among the batch's label values (ascending, holding every label):
    integers 0..K-1 are their own index, no search."""
    if labels.dtype.kind in "iu" and np.array_equal(values, np.arange(len(values))):
        return labels.astype(np.intp)
    return np.searchsorted(values, labels)


def merge_surveys(a: SegmentSurveys, b: SegmentSurveys) -> SegmentSurveys:
    """Both batches' segments; past MAX_SEGMENTS a segmentation is given up (None): a --by
    column says so when its totals merge, and a dataset of more files is not compared file
    by file."""
    merged: SegmentSurveys = {}
    for name in a.keys() | b.keys():
        first, second = a.get(name, {}), b.get(name, {})
        if first is None or second is None:
            merged[name] = None
            continue
        both = {**first, **second}
        for key in first.keys() & second.keys():
            both[key] = first[key].merge(second[key])
        merged[name] = both if len(both) <= MAX_SEGMENTS else None
    return merged


def _slice(batch: Batch, start: int, stop: int) -> Batch:
    """Consecutive rows of a batch, as views."""
    predictions = batch.predictions
    weights = predictions.weights
    return Batch(
        replace(
            predictions,
            y_true=predictions.y_true[start:stop],
            y_score=predictions.y_score[start:stop],
            weights=None if weights is None else weights[start:stop],
            segments={},
        ),
        batch.first_row + start,
    )


def _rows(batch: Batch, rows: np.ndarray) -> Batch:
    predictions = batch.predictions
    weights = predictions.weights
    return Batch(
        replace(
            predictions,
            y_true=predictions.y_true[rows],
            y_score=predictions.y_score[rows],
            weights=None if weights is None else weights[rows],
            segments={},
        ),
        batch.first_row,
    )


def _key(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def shown(surveys: Mapping[Any, Survey]) -> dict[Any, Survey]:
    """The segments in order of their values."""
    return dict(sorted(surveys.items(), key=lambda item: str(item[0])))


def _outward(values: np.ndarray, down: bool) -> np.ndarray:
    """values in float32, each rounded down (or up) where float32 does not hold it exactly."""
    if values.dtype.itemsize <= 4 and values.dtype.kind == "f":
        return values  # float32 (or narrower) holds every value
    rounded = values.astype(np.float32)
    wide = rounded.astype(values.dtype) if values.dtype.itemsize > 4 else values
    moved = wide > values if down else wide < values
    if moved.any():
        rounded[moved] = np.nextafter(rounded[moved], np.float32(-np.inf if down else np.inf))
    return rounded
