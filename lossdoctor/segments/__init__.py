"""Segments: the rows cut by a column, a hive partition key or their file (--by), each with its
own metrics, the weak ones ranked by significance, and gates that hold for every segment.

The per-segment totals are summed in the pass that sums the whole data's (`batch_totals`, by
segment codes, vectorised), merge like every other summary, and are read once at the end
(`report_segments`): a loop over the segments, never over rows.

A run without --by imports none of the modules that segment (a small file starts faster): each
is imported by the function that needs it, once there is a segmentation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from lossdoctor.checks.base import Finding
from lossdoctor.errors import InputError
from lossdoctor.gates import Gate, evaluate
from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import Kind, Task
from lossdoctor.io import Batch
from lossdoctor.io.segments import FILE, BySpec, Coding, distinct, parse_by
from lossdoctor.losses import BLOCK_ROWS
from lossdoctor.metrics import SCORE_METRICS
from lossdoctor.segments.surveys import merge_surveys, survey_segments

if TYPE_CHECKING:
    from lossdoctor.segments.bins import Bins
    from lossdoctor.segments.results import Segment
    from lossdoctor.segments.totals import SegmentTotals
    from lossdoctor.value_tables import ValueTable

__all__ = [
    "Bins",
    "Segment",
    "SegmentTotals",
    "batch_totals",
    "merge",
    "merge_surveys",
    "report_segments",
    "survey_segments",
]


def specs(by: Sequence[str]) -> tuple[BySpec, ...]:
    """Each --by once, in the order given."""
    return tuple(dict.fromkeys(parse_by(text) for text in by))


def survey_names(by: Sequence[str]) -> list[str]:
    """The segmentations surveyed apart: each --by column not cut into bins, and the files of a
    dataset (every engine of a dataset gives each row's file)."""
    return list(dict.fromkeys([*(s.column for s in specs(by) if not s.bins), FILE]))


def coder() -> Coding:
    """distinct() that remembers the last column of each name it coded: in memory, the survey
    and the summaries read the one batch's column, coded once. A stream's batches are new
    columns each pass: one is held at a time."""
    last: dict[str, tuple[Any, tuple[np.ndarray, np.ndarray]]] = {}

    def coded(name: str, column: Any) -> tuple[np.ndarray, np.ndarray]:
        seen = last.get(name)
        if seen is not None and seen[0] is column:
            return seen[1]
        found = distinct(column)
        last[name] = (column, found)
        return found

    return coded


def check_task(task: Task, by: Sequence[str]) -> None:
    if by and task == Task.MULTILABEL:
        raise InputError(
            "--by segments binary and multi-class predictions; multi-label rows have no "
            "segment metrics yet: drop --by"
        )


def batch_totals(
    by: Sequence[BySpec],
    decided: Plan,
    batch: Batch,
    prepared: Prepared,
    logits: np.ndarray | None,
    bins: Mapping[BySpec, Bins],
    batch_tables: Sequence[ValueTable] = (),
    coded: Coding | None = None,
    grid: int | None = None,
) -> dict[BySpec, SegmentTotals]:
    """Each segmentation's totals of one batch's usable rows. `batch_tables`: the whole
    batch's value tables, which a segment holding the whole batch shares; `coded`: the
    columns' distinct values (coder()); `grid`: the bits of the grid every segmentation's
    merged tables are on (merged_grid), None when not."""
    if not by:
        return {}
    from lossdoctor.segments.bins import bin_codes
    from lossdoctor.segments.totals import segment_totals

    found = {}
    used = None if prepared.rows is None else prepared.rows - batch.first_row
    coded = coded or coder()
    # a batch of one block: the summaries read its true-class probabilities already
    true_class = prepared.true_class if len(prepared.y) <= BLOCK_ROWS else None
    for spec in by:
        column = batch.predictions.segments[spec.column]
        if spec in bins:
            values, codes = bin_codes(column if used is None else column[used], bins[spec])
        else:
            values, codes = coded(spec.column, column)
            if used is not None:
                values, codes = _held(values, codes[used])
        found[spec] = segment_totals(
            decided.task,
            codes,
            values,
            prepared.y,
            prepared.proba,
            decided.options.threshold,
            logits,
            prepared.weights,
            batch_tables,
            true_class,
            grid,
        )
    return found


def merged_grid(merged: Mapping[BySpec, SegmentTotals] | None) -> int | None:
    """The bits of the grid every segmentation's merged tables are on: a batch's segments
    go on it as it is summarised (segments.grids). None when there are none, or not all are."""
    if not merged:
        return None
    from lossdoctor.segments.tables import GroupGrids

    bits = {t.tables.bits if isinstance(t.tables, GroupGrids) else None for t in merged.values()}
    return bits.pop() if len(bits) == 1 else None


def _held(values: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values some rows hold, and their codes into them: distinct() of those rows."""
    held = np.bincount(codes, minlength=len(values)) > 0
    if held.all():
        return values, codes
    index = np.cumsum(held) - 1
    return values[held], index[codes]


def merge(
    a: Mapping[BySpec, SegmentTotals], b: Mapping[BySpec, SegmentTotals], capacity: int | None
) -> dict[BySpec, SegmentTotals]:
    return {spec: totals.merge(b[spec], capacity) for spec, totals in a.items()}


@dataclass(frozen=True)
class _Values:
    """What a gate reads of a segment's metrics."""

    values: dict[str, float | None]
    undefined: dict[str, str]


def report_segments(
    totals: Mapping[BySpec, SegmentTotals],
    decided: Plan,
    bins: Mapping[BySpec, Bins],
) -> tuple[list[Segment], list[Finding]]:
    """Every segment, each segmentation's worst first, and the findings about them: the weak
    segments and the segment gates that fail."""
    if not totals:
        return [], []
    from lossdoctor.segments import weak
    from lossdoctor.segments.results import segment_metrics

    options = decided.options
    shown: list[Segment] = []
    findings: list[Finding] = []
    for spec, merged in totals.items():
        labels = bins[spec].labels(merged.values) if spec in bins else None
        segments = segment_metrics(str(spec), merged, options.confidence, labels)
        if decided.kind == Kind.CLASS_PREDICTIONS:
            segments = [_without_scores(s) for s in segments]
        ranked = weak.rank_segments(segments, merged, options.confidence, options.min_segment_rows)
        weak_ones = [s for s in ranked if weak.weak(s, options.confidence)]
        weakest = {id(s) for s in weak_ones[: weak.MAX_FINDINGS]}
        for segment in ranked:
            found = []
            if id(segment) in weakest:
                found.append(weak.finding(segment, options.confidence))
            if segment.rows >= options.min_segment_rows:
                found += _gates(options.segment_gates, segment)
            findings += found
            shown.append(replace(segment, findings=tuple(found)) if found else segment)
    return shown, findings


def _without_scores(segment: Segment) -> Segment:
    metrics = {k: (None if k in SCORE_METRICS else v) for k, v in segment.metrics.items()}
    intervals = {k: v for k, v in segment.metrics_ci.items() if k not in SCORE_METRICS}
    return replace(segment, metrics=metrics, metrics_ci=intervals)


def _gates(gates: Sequence[Gate], segment: Segment) -> list[Finding]:
    """The gates this segment fails, on its metric values, each naming the segment."""
    undefined = {k: "undefined for this segment" for k, v in segment.metrics.items() if v is None}
    found = evaluate(gates, _Values(dict(segment.metrics), undefined))  # type: ignore[arg-type]
    where = f"{segment.by} = {segment.value}"
    return [
        replace(
            f,
            title=f"{f.title} for {where}",
            message=f"For the {segment.rows:,} rows where {where}: {f.message}",
            evidence={**f.evidence, "by": segment.by, "value": segment.value, "rows": segment.rows},
        )
        for f in found
    ]


def cut(map_reduce, by: Sequence[BySpec]) -> dict[BySpec, Bins]:
    """The quantile bins of each --by COLUMN:BINS, from one pass over the column."""
    binned = [spec for spec in by if spec.bins]
    if not binned:
        return {}
    from lossdoctor.segments.bins import Bins, ColumnValues

    def values_of(batch: Batch) -> tuple[ColumnValues, ...]:
        columns = batch.predictions.segments
        return tuple(ColumnValues.of(spec.column, columns[spec.column]) for spec in binned)

    def merge_values(a: tuple, b: tuple) -> tuple:
        return tuple(x.merge(y) for x, y in zip(a, b, strict=True))

    values_of.label = "cutting segments into bins"  # type: ignore[attr-defined]
    seen = map_reduce(values_of, merge_values)
    return {spec: Bins.quantiles(s, spec.bins) for spec, s in zip(binned, seen, strict=True)}


def __getattr__(name: str) -> Any:
    """The types named in __all__ that live in the modules imported on demand."""
    if name == "Bins":
        from lossdoctor.segments.bins import Bins

        return Bins
    if name == "Segment":
        from lossdoctor.segments.results import Segment

        return Segment
    if name == "SegmentTotals":
        from lossdoctor.segments.totals import SegmentTotals

        return SegmentTotals
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
