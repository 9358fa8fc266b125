"""The survey of each segment (lossdoctor.infer.survey), kept beside the whole data's in the
survey pass: what `inconsistent-segments` compares. A batch of one segment (the usual batch of
a file) costs nothing more, its survey is the batch's; a batch of several is grouped by
(segment, label value) with bincounts, not surveyed segment by segment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from lossdoctor.infer import ROW_SUM_TOLERANCE, Survey, survey_batch
from lossdoctor.infer.survey import finite_rows, scores_and_labels
from lossdoctor.io import Batch
from lossdoctor.io.segments import distinct
from lossdoctor.segments.totals import MAX_SEGMENTS

# segmentation (a --by column, or file) -> segment value -> its survey
SegmentSurveys = dict[str, dict[Any, Survey] | None]
# Segments times label values counted at once; past it, each segment is surveyed alone.
MAX_CELLS = 1 << 22


def survey_segments(names: Sequence[str], batch: Batch, whole: Survey) -> SegmentSurveys:
    """The survey of each segment of the batch, for each segmentation it carries."""
    found: SegmentSurveys = {}
    columns = batch.predictions.segments
    for name in names:
        if name not in columns:
            continue
        values, codes = distinct(columns[name])
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
            found[name] = dict(zip(keys, _grouped(batch, whole, codes, len(values)), strict=True))
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


def _grouped(batch: Batch, whole: Survey, codes: np.ndarray, n: int) -> list[Survey]:
    """The surveys of n segments of a batch of 1-D labels at once, grouped by (segment, label
    value) with bincounts: per segment its label values and their rows, the score range of
    each, the rows off a sum of 1, and whether its labels are whole numbers. The rest of a
    segment's survey is the batch's (the shape of the data, how its columns were chosen)."""
    scores, labels = scores_and_labels(batch.predictions)
    finite = finite_rows(scores, labels)
    segment, labels, scores = codes[finite], labels[finite], scores[finite]
    if labels.dtype.kind == "b":
        labels = labels.view(np.int8)
    elif labels.dtype.kind in "OUS":
        labels = labels.astype(str)
    width = max(len(whole.values), 1)
    cell = segment * width + np.searchsorted(whole.values, labels)
    cells = n * width
    counts = np.bincount(cell, minlength=cells).reshape(n, width)
    low, high = _extremes(
        cell,
        cells,
        scores.min(axis=1) if scores.ndim == 2 else scores,
        scores.max(axis=1) if scores.ndim == 2 else scores,
    )
    off = np.zeros(cells, dtype=np.int64)
    if scores.ndim == 2:
        missed = np.abs(scores.sum(axis=1, dtype=np.float64) - 1) > ROW_SUM_TOLERANCE
        off = np.bincount(cell, weights=missed, minlength=cells).astype(np.int64)
    weights = batch.predictions.weights
    sums = np.zeros((n, width))
    positive = np.zeros((n, width), dtype=np.int64)
    if weights is not None:
        kept = weights[finite]
        sums = np.bincount(cell, weights=kept, minlength=cells).reshape(n, width)
        positive = np.bincount(cell[kept > 0], minlength=cells).reshape(n, width)
    fractional = np.zeros(n, dtype=np.int64)
    if labels.dtype.kind == "f":
        fractional = np.bincount(segment, weights=labels != np.round(labels), minlength=n)
    rows = np.bincount(codes, minlength=n)
    kept_rows = np.bincount(segment, minlength=n)
    low, high, off = low.reshape(n, width), high.reshape(n, width), off.reshape(n, width)
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
                non_finite=int(rows[s] - kept_rows[s]),
                nan_scores=0,
                inf_scores=0,
                non_finite_labels=0,
                first_non_finite=np.zeros(0, dtype=np.int64),
            )
        )
    return surveys


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


def _extremes(
    cell: np.ndarray, cells: int, lows: np.ndarray, highs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value of each cell, in float32 rounded outwards (exact where
    float32 holds them: 0 and 1 stay 0 and 1; a range only tells what the scores are): one
    sort of 64-bit keys, the cell above the value's bits in an order that sorts as floats do,
    whose runs start at each cell's lowest and end at its highest."""
    low, high = np.full(cells, np.inf), np.full(cells, -np.inf)
    if not len(cell):
        return low, high
    for values, out, first in ((lows, low, True), (highs, high, False)):
        down = _outward(values, first)
        keys = cell.astype(np.uint64) << np.uint64(32)
        keys |= _ordered(down).astype(np.uint64)
        keys.sort()
        cells_of = keys >> np.uint64(32)
        ends = np.flatnonzero(cells_of[1:] != cells_of[:-1])
        at = np.r_[0, ends + 1] if first else np.r_[ends, len(keys) - 1]
        bits = (keys[at] & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        out[cells_of[at].astype(np.intp)] = _unordered(bits)
    return low, high


def _ordered(values: np.ndarray) -> np.ndarray:
    """float32 bits as uint32 that sort as the floats do."""
    bits = (values + np.float32(0)).view(np.uint32)
    return np.where(bits >> np.uint32(31) == 1, ~bits, bits | np.uint32(1 << 31))


def _unordered(bits: np.ndarray) -> np.ndarray:
    positive = bits >> np.uint32(31) == 1
    return np.where(positive, bits & np.uint32(0x7FFFFFFF), ~bits).view(np.float32)


def _outward(values: np.ndarray, down: bool) -> np.ndarray:
    """values in float32, each rounded down (or up) where float32 does not hold it exactly."""
    rounded = values.astype(np.float32)
    wide = rounded.astype(values.dtype) if values.dtype.itemsize > 4 else values
    moved = wide > values if down else wide < values
    if moved.any():
        rounded[moved] = np.nextafter(rounded[moved], np.float32(-np.inf if down else np.inf))
    return rounded
