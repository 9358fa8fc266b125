"""The survey of a Parquet dataset from its footers, where they say enough: no survey pass.

Row-group statistics give each file's lowest and highest score, and its first rows say how its
columns read; a read of the label column alone (a byte a row, against a survey of every score)
counts the label values. Statistics leave NaN out, so the plan taken from this survey holds on
one condition, that every row is usable: the summary pass checks it on each batch and raises
`Misled` otherwise, and the diagnosis starts again from a survey of every row. Anything else the
footers cannot settle (whole-number scores, a value that is not a class, weights, a --by
column, statistics missing or with nulls) falls back to that survey before any pass; --by file
reads each file's survey from its footer as a plain check does.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING

from lossdoctor.errors import InputError
from lossdoctor.infer import Plan, Survey, plan, survey_batch
from lossdoctor.infer.survey import WHOLE_PEEK, footer_decides, survey_from_footer
from lossdoctor.io.segments import FILE, parse_by
from lossdoctor.segments import surveys

if TYPE_CHECKING:
    from lossdoctor.engines import Engine
    from lossdoctor.io.footers import FileFooter
    from lossdoctor.segments.surveys import SegmentSurveys
    from lossdoctor.settings import Settings


# Files whose labels are read at once: Arrow's readers and numpy's counts release the GIL.
READERS = 2


class Misled(Exception):
    """A row the footers' survey counted was not usable (a NaN score): its plan may be wrong."""


def survey(engine: Engine, settings: Settings) -> tuple[Plan, SegmentSurveys] | None:
    """The plan and each file's survey, from the footers; None where they cannot decide."""
    dataset = getattr(engine, "dataset", None)
    columns = any(parse_by(text).column != FILE for text in settings.by)
    if columns or not hasattr(dataset, "footers"):
        return None
    found = dataset.footers(WHOLE_PEEK)
    if not found:
        return None
    heads = [survey_batch(footer.head) for footer in found]
    for head, footer in zip(heads, found, strict=True):
        if not footer_decides(head, footer.score_low, footer.score_high):
            return None  # before any label is read

    def surveyed(head: Survey, footer: FileFooter) -> Survey | None:
        labels = dataset.labels_of(footer)
        return survey_from_footer(head, footer.rows, labels, footer.score_low, footer.score_high)

    from concurrent.futures import ThreadPoolExecutor  # a dataset's cost, not a file's

    with ThreadPoolExecutor(READERS, thread_name_prefix="lossdoctor") as pool:
        read = list(pool.map(surveyed, heads, found))
    if None in read:
        return None
    files = {footer.name: file for footer, file in zip(found, read, strict=True)}
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
