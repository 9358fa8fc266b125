"""The survey of each segment (lossdoctor.infer.survey), kept beside the whole data's in the
survey pass: what `inconsistent-segments` compares. A batch of one segment (the usual batch of
a file) costs nothing more, its survey is the batch's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer import Survey, survey_batch
from lossdoctor.io import Batch
from lossdoctor.io.segments import distinct
from lossdoctor.segments.totals import MAX_SEGMENTS, too_many

# segmentation (a --by column, or file) -> segment value -> its survey
SegmentSurveys = dict[str, dict[Any, Survey]]


def survey_segments(names: Sequence[str], batch: Batch, whole: Survey) -> SegmentSurveys:
    """The survey of each segment of the batch, for each segmentation it carries."""
    found: SegmentSurveys = {}
    columns = batch.predictions.segments
    for name in names:
        if name not in columns:
            continue
        values, codes = distinct(columns[name])
        keys = [_key(v) for v in values]
        if len(values) == 1:
            found[name] = {keys[0]: whole}
            continue
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))
        found[name] = {
            key: survey_batch(_rows(batch, order[bounds[i] : bounds[i + 1]]))
            for i, key in enumerate(keys)
        }
    return found


def merge_surveys(a: SegmentSurveys, b: SegmentSurveys) -> SegmentSurveys:
    merged: SegmentSurveys = {}
    for name in a.keys() | b.keys():
        first, second = a.get(name, {}), b.get(name, {})
        both = {**first, **second}
        for key in first.keys() & second.keys():
            both[key] = first[key].merge(second[key])
        if len(both) > MAX_SEGMENTS:
            raise InputError(too_many())
        merged[name] = both
    return merged


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
