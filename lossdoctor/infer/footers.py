"""The survey of a Parquet dataset from its footers, where they say enough: no survey pass.

Row-group statistics give each file's lowest and highest score, and its first rows say how its
columns read; a read of the label column alone (a byte a row, against a survey of every score)
counts the label values. Statistics leave NaN out, so the plan taken from this survey holds on
one condition, that every row is usable: the summary pass checks it on each batch and raises
`Misled` otherwise, and the diagnosis starts again from a survey of every row. Anything else the
footers cannot settle (whole-number scores, a value that is not a class, weights, --by
columns, statistics missing or with nulls) falls back to that survey before any pass.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING

from lossdoctor.errors import InputError
from lossdoctor.infer import Plan, Survey, plan, survey_batch
from lossdoctor.infer.survey import WHOLE_PEEK, survey_from_footer
from lossdoctor.io.segments import FILE
from lossdoctor.segments import surveys

if TYPE_CHECKING:
    from lossdoctor.engines import Engine
    from lossdoctor.segments.surveys import SegmentSurveys
    from lossdoctor.settings import Settings


class Misled(Exception):
    """A row the footers' survey counted was not usable (a NaN score): its plan may be wrong."""


def survey(engine: Engine, settings: Settings) -> tuple[Plan, SegmentSurveys] | None:
    """The plan and each file's survey, from the footers; None where they cannot decide."""
    dataset = getattr(engine, "dataset", None)
    if settings.by or not hasattr(dataset, "footers"):
        return None
    found = dataset.footers(WHOLE_PEEK)
    if not found:
        return None
    files: dict[str, Survey] = {}
    for footer in found:
        labels = dataset.labels_of(footer)  # read only once the first rows decide
        file = survey_from_footer(
            survey_batch(footer.head), footer.rows, labels, footer.score_low, footer.score_high
        )
        if file is None:
            return None
        files[footer.name] = file
    whole = reduce(Survey.merge, files.values())
    try:
        decided = plan(whole, settings, engine.source, engine.prediction_columns, engine.map_reduce)
    except InputError:
        return None  # said from a survey of every row, in its words
    usable = decided.labels.usable_values
    if usable is not None and not usable.all():
        return None  # a value that is not a class: its rows' own score range matters
    if not dataset.by_file:  # files surveyed apart only when the batches say each row's file
        return decided, {}
    return decided, {FILE: files if len(files) <= surveys.MAX_SEGMENTS else None}
