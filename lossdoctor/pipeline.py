"""One straight road: rows -> survey -> plan -> summaries -> metrics and findings -> report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import reduce

import numpy as np

from lossdoctor import segments
from lossdoctor.checks import BY_ID, hard_predictions, label_issues, run_checks
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.checks.summaries import merge_all, needed_by, summarize_all
from lossdoctor.engines import Engine
from lossdoctor.gates import evaluate
from lossdoctor.infer import Plan, Prepared, Survey, footers, plan, survey_batch
from lossdoctor.infer.decisions import Kind, Task
from lossdoctor.io import Batch
from lossdoctor.metrics import Metrics, MetricTotals, metric_totals, metrics_from, without_scores
from lossdoctor.report import InputInfo, Report
from lossdoctor.segments import inconsistent
from lossdoctor.segments.surveys import SegmentSurveys
from lossdoctor.settings import DEFAULTS, Settings
from lossdoctor.stats.intervals import metric_intervals
from lossdoctor.threads import at_once, begun, ordered_map
from lossdoctor.value_tables.build import THREADED_ROWS

# Row-wise summaries of a large batch go block by block: each temporary is a few megabytes,
# reused from the heap, where one the size of the batch is mapped afresh page by page.
BLOCK_ROWS = 1 << 20
# Rows from which the metrics are computed beside the label-issues pass, on a thread of their
# own; a smaller file's pass is over before a thread would start.
BESIDE_ROWS = 1 << 20


def diagnose(engine: Engine, settings: Settings = DEFAULTS, decided: Plan | None = None) -> Report:
    """Survey every row, decide what the data are, summarise every row under that plan (and
    once more for label issues, whose thresholds need all rows), then run the checks and the
    gates on the merged summaries; the report is built once, with every finding.

    The engine's `capacity` bounds the distinct scores the ranking tables hold (None: exact).
    `decided`: the plan, when decide() has already taken it.

    A dataset whose Parquet footers give the range of its scores is surveyed from them and a
    read of its labels (footers.py); a NaN score, which they cannot show, is found when the
    rows are summarised, and the diagnosis starts again from a survey of every row.
    """
    try:
        return _diagnosed(engine, settings, decided, from_footers=decided is None)
    except footers.Misled:
        return _diagnosed(engine, settings, decided, from_footers=False)


def _diagnosed(
    engine: Engine, settings: Settings, decided: Plan | None, from_footers: bool
) -> Report:
    capacity = engine.capacity
    coded = segments.coder()
    surveys: SegmentSurveys = {}
    assumed = False
    # One batch in memory: its segments are surveyed beside its metric totals, on the core
    # those leave idle (the plan is decided from the whole data's survey alone). A stream's
    # survey pass reads every batch anyway: it surveys their segments.
    names_beside: list[str] = []
    if decided is None:
        found = footers.survey(engine, settings) if from_footers else None
        assumed = found is not None
        if engine.spare_core and not assumed:
            names_beside = segments.survey_names(settings.by)
        decided, surveys = (
            found
            if found is not None
            else _surveyed(engine, settings, coded, segmented=not names_beside)
        )
    prepare = _last(decided.prepare)
    checks = _selected(settings)
    if decided.kind == Kind.CLASS_PREDICTIONS:
        checks = [check for check in checks if check not in hard_predictions.FOLLOWS]
    kinds = needed_by(BY_ID[check] for check in checks)
    by = segments.specs(settings.by)
    segments.check_task(decided.task, by)
    bins = segments.cut(engine.map_reduce, by)

    # The metric and segment totals merged so far, which the summarising threads read to put
    # a batch's tables on the grid the merge would put them on (MetricTotals.on_grids_of).
    merged_so_far: list[tuple[MetricTotals, dict]] = []
    in_order = engine.merges_in_order  # not the engine itself: a cluster's is not pickled
    spare_core = engine.spare_core

    def summarize_batch(batch: Batch) -> tuple[MetricTotals, dict, dict, SegmentSurveys]:
        prepared = prepare(batch)
        if assumed and prepared.rows is not None:
            raise footers.Misled  # a row left out: a NaN score the footers did not count
        logits = logits_of(decided, prepared)
        merged, merged_segments = merged_so_far[0] if merged_so_far and in_order else (None, {})
        on_grid = merged is not None and merged.on_grid()
        # segments that hold a whole batch share its tables: on a grid when theirs are
        grid = segments.merged_grid(merged_segments) if on_grid else None

        def totals_of() -> MetricTotals:
            return metric_totals(
                decided.task,
                prepared.y,
                prepared.proba,
                settings.threshold,
                capacity,
                logits=logits,
                weights=prepared.weights,
                on_grid=on_grid and (not by or grid == merged.tables[0].bits),
            )

        def summaries_of() -> tuple[dict, SegmentSurveys]:
            parts = prepared.blocks(BLOCK_ROWS)
            found = reduce(merge_all, (summarize_all(kinds, decided, part) for part in parts))
            # the one batch's survey is the whole data's; the totals hold the other core
            beside = segments.survey_segments(
                names_beside, batch, decided.survey, coded, together=False
            )
            return found, beside

        # The checks' summaries on the core that one batch in memory leaves free.
        together = spare_core and len(prepared.y) >= THREADED_ROWS
        totals, (summaries, segment_surveys) = at_once(totals_of, summaries_of, together)
        segment_totals = segments.batch_totals(
            by, decided, batch, prepared, logits, bins, totals.tables, coded, grid
        )
        return totals.on_grids_of(merged), summaries, segment_totals, segment_surveys

    metric_sums, summaries, segment_sums, surveyed_beside = engine.map_reduce(
        _labelled("summarising", summarize_batch), _merge_pair(capacity, merged_so_far)
    )

    if names_beside:
        surveys = surveyed_beside

    def scored() -> tuple[Metrics, dict, dict]:
        metrics = metrics_from(metric_sums)
        if decided.kind == Kind.CLASS_PREDICTIONS:
            metrics = without_scores(metrics, "the scores are class labels (model.predict outputs)")
        intervals, bounds = metric_intervals(
            metric_sums, metrics, settings.confidence, settings.bootstrap, settings.seed
        )
        return metrics, intervals, bounds

    def read_segments() -> tuple[list, list[Finding]]:
        """The segments, and the findings about them and the files' surveys."""
        shown, found = (
            segments.report_segments(segment_sums, decided, bins) if segment_sums else ([], [])
        )
        return shown, [*inconsistent.check(decided, surveys), *found]

    # A stream's label pass reads every batch again: the segments are read beside it. In
    # memory it is short and holds both cores: they are read after it, beside the metrics.
    read_later = spare_core or not segment_sums
    segments_read = read_segments if read_later else begun(read_segments)
    if label_issues.ID in checks and decided.task != Task.MULTILABEL:
        thresholds = label_issues.class_thresholds(summaries)

        def issues_in(part: Prepared) -> label_issues.Issues:
            return label_issues.find_issues(decided, part, thresholds)

        def issues_of(batch: Batch) -> label_issues.Issues:
            found = ordered_map(issues_in, prepare(batch).blocks(BLOCK_ROWS), spare_core)
            return reduce(label_issues.Issues.merge, found)

        def look_for_issues() -> label_issues.Issues:
            return engine.map_reduce(
                _labelled("looking for label issues", issues_of), label_issues.Issues.merge
            )

        def issues_then_segments() -> tuple[label_issues.Issues, tuple]:
            issues = look_for_issues()
            return issues, segments_read()

        # the metrics read the merged totals alone: a core the label pass leaves idle (its
        # reading, its merges) computes them meanwhile
        (issues, (segmented, segment_findings)), scores = at_once(
            issues_then_segments, scored, engine.n_rows >= BESIDE_ROWS
        )
        summaries = {**summaries, label_issues.Issues: issues}
    else:
        scores, (segmented, segment_findings) = at_once(
            scored, segments_read, read_later and bool(segment_sums)
        )
    metrics, intervals, interval_bounds = scores
    found = [*run_checks(decided, summaries, metrics, checks), *evaluate(settings.gates, metrics)]
    found += [finding for finding in segment_findings if _chosen(finding.check, settings)]
    return Report(
        input=InputInfo(
            paths=(engine.source,),
            format=engine.format,
            rows=decided.n_rows,
            rows_used=decided.rows_used,
            label_columns=engine.label_columns,
            prediction_columns=engine.prediction_columns,
            unit=decided.unit,
            weight_column=decided.weight_column,
            weight_used=decided.weight_used,
        ),
        task=decided.task.value,  # plain strings in the report and its to_dict()
        n_classes=decided.n_classes,
        class_labels=decided.class_labels,
        class_order=decided.class_order,
        prediction_kind=decided.kind.value,
        kind_source=decided.kind_source,
        transform=decided.transform,
        threshold=settings.threshold,
        findings=_worst_first(found, settings.severity),
        metrics=metrics,
        fail_on=settings.fail_on,
        metrics_ci=intervals,
        metrics_ci_error_bound=interval_bounds,
        confidence=settings.confidence,
        segments=tuple(segmented),
        segments_shown=settings.top,
    )


def decide(engine: Engine, settings: Settings = DEFAULTS) -> Plan:
    """Survey every row and decide what the data are: the task, the labels, the scores."""
    return _surveyed(engine, settings)[0]


def _surveyed(
    engine: Engine,
    settings: Settings,
    coded: segments.Coding | None = None,
    segmented: bool = True,
) -> tuple[Plan, SegmentSurveys]:
    """The plan, and beside the whole data's survey each segment's (each file of a dataset,
    each segment of a --by column), for inconsistent-segments; `coded`: the segment columns'
    distinct values (segments.coder()); not `segmented`: the segments are surveyed later."""
    coded = coded or segments.coder()
    names = segments.survey_names(settings.by) if segmented else []
    whole = _blockwise(survey_batch, Survey.merge, engine.spare_core)

    def survey_all(batch: Batch) -> tuple[Survey, SegmentSurveys]:
        survey = whole(batch)
        return survey, segments.survey_segments(names, batch, survey, coded)

    def merge(a: tuple, b: tuple) -> tuple:
        return a[0].merge(b[0]), segments.merge_surveys(a[1], b[1])

    survey, by_segment = engine.map_reduce(_labelled("surveying", survey_all), merge)
    decided = plan(survey, settings, engine.source, engine.prediction_columns, engine.map_reduce)
    return decided, by_segment


def _selected(settings: Settings) -> list[str]:
    """The ids of the checks to run, in registry order."""
    return [check for check in BY_ID if _chosen(check, settings)]


def _chosen(check: str, settings: Settings) -> bool:
    """Whether --select and --disable leave this check (or segment check) to run."""
    return (not settings.select or check in settings.select) and check not in settings.disable


def logits_of(decided: Plan, prepared: Prepared) -> np.ndarray | None:
    """The logits whose sigmoid or softmax proba is: the scores as given, or for a binary
    softmax of two columns z1 - z0 (softmax(z)[1] = sigmoid(z1 - z0)); None for other scores."""
    if decided.transform == "sigmoid" or decided.task == Task.MULTICLASS:
        return prepared.scores if decided.transform in ("sigmoid", "softmax") else None
    if decided.transform == "softmax":
        scores = prepared.scores.astype(np.float64, copy=False)
        return scores[:, 1] - scores[:, 0]
    return None


def _labelled(label: str, summarize: Callable) -> Callable:
    """A pass's summary function, named for a progress bar."""
    summarize.label = label
    return summarize


def _blockwise(
    survey: Callable[[Batch], Survey], merge, together: bool
) -> Callable[[Batch], Survey]:
    """survey() of a large batch as the merge of its blocks, in order: small temporaries,
    reused; `together`, two blocks at a time on two threads."""

    def by_blocks(batch: Batch) -> Survey:
        predictions, n = batch.predictions, len(batch.predictions.y_score)
        weights = predictions.weights
        if n <= BLOCK_ROWS:
            return survey(batch)
        blocks = (
            Batch(
                replace(
                    predictions,
                    y_true=predictions.y_true[start : start + BLOCK_ROWS],
                    y_score=predictions.y_score[start : start + BLOCK_ROWS],
                    weights=None if weights is None else weights[start : start + BLOCK_ROWS],
                ),
                batch.first_row + start,
            )
            for start in range(0, n, BLOCK_ROWS)
        )
        return reduce(merge, ordered_map(survey, blocks, together))

    return by_blocks


def _merge_pair(capacity: int | None, merged_so_far: list[tuple[MetricTotals, dict]]):
    """The merge of the summary pass's summaries; the latest metric totals kept in
    `merged_so_far` for the threads that summarise the next batches."""

    def merge(a: tuple, b: tuple) -> tuple:
        totals = a[0].merge(b[0], capacity)
        segment_totals = segments.merge(a[2], b[2], capacity)
        merged_so_far[:] = [(totals, segment_totals)]
        return totals, merge_all(a[1], b[1]), segment_totals, segments.merge_surveys(a[3], b[3])

    return merge


def _last(prepare: Callable[[Batch], Prepared]) -> Callable[[Batch], Prepared]:
    """prepare() that remembers its last batch: in memory, the one batch is prepared once.

    Safe on an engine's threads: each call returns what it computed or found for its batch.
    """
    last: tuple = (None, None)

    def remembered(batch: Batch) -> Prepared:
        nonlocal last
        seen, prepared = last
        if seen is not batch:
            prepared = prepare(batch)
            last = (batch, prepared)
        return prepared

    return remembered


def _worst_first(
    findings: Iterable[Finding], severity: Mapping[str, Severity]
) -> tuple[Finding, ...]:
    """Severity overrides applied, then worst first; a stable sort keeps the registry order."""
    overridden = [
        replace(f, severity=severity[f.check]) if f.check in severity else f for f in findings
    ]
    return tuple(sorted(overridden, key=lambda f: -f.severity))
