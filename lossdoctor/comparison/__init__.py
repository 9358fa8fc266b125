"""Paired comparison of a candidate model's predictions with a baseline's, on the same rows.

pairing    which rows of the two files are the same rows (row order, or an id column)
summary    what each paired batch contributes, in summaries that merge; DeLong's second pass
verdicts   one test per metric, Holm's correction, regression / improvement / no difference
result     the Comparison object every renderer reads, and its JSON
(`lossdoctor compare` is lossdoctor/cli/compare.py: the CLI starts without this package)
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

import numpy as np

from lossdoctor.engines import Engine, Progress
from lossdoctor.errors import InputError
from lossdoctor.gates import evaluate_against
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.io import (
    Batch,
    Predictions,
    from_columns,
    is_dataset,
    read_column,
    read_predictions,
)
from lossdoctor.pipeline import decide, diagnose
from lossdoctor.report import Report
from lossdoctor.settings import Settings
from lossdoctor.threads import at_once

from .pairing import (
    DaskPairs,
    PairedBatch,
    PairedEngine,
    check_lengths,
    join_on_ids,
    lockstep,
    mismatch_error,
)
from .result import Comparison, Paired, kind_finding, verdict_findings
from .summary import (
    PairedSummary,
    PlacementSums,
    Sides,
    placement_pass,
    summarize_pair,
)
from .verdicts import DEFAULT_ALPHA, compare_metrics

DEFAULT_REPLICATES = 1000
# Both reports start at once, on two threads, up to this many cells (rows x classes, a binary
# file counting 2) each: two reports' temporaries then take some 200 MB together.
REPORTS_AT_ONCE_CELLS = 4_000_000
REPORT_PASSES = 2  # a report's passes over the rows: the summaries, the label issues
T = TypeVar("T")


@dataclass(frozen=True)
class Frame:
    """A table already in memory (a DataFrame's columns by name), and its name in the report."""

    name: str
    columns: Mapping[str, np.ndarray]


Source = str | Frame


@dataclass(frozen=True)
class Known:
    """What the baseline's first comparison found, for the next candidates: its rows read into
    memory (None: streamed, or joined on ids), its plan and its report (the first's: the one
    shown)."""

    predictions: Predictions | None
    plan: Plan | None
    report: Report


@dataclass(frozen=True)
class Pairing:
    """How the rows pair, and what the comparison tests."""

    id_col: str | None = None
    unpaired_ok: bool = False
    alpha: float = DEFAULT_ALPHA
    replicates: int = DEFAULT_REPLICATES
    seed: int = 0


def compare_paths(
    baseline: Source,
    candidates: Sequence[Source],
    settings: Settings,
    pairing: Pairing,
    progress: Progress | None = None,
) -> Comparison:
    """Each candidate against the baseline: both diagnosed as `check` would, then tested;
    `progress` is told the rows of each pass over a streamed dataset."""
    if not 0 < pairing.alpha < 1:
        raise InputError(f"--alpha is a level between 0 and 1, e.g. 0.05, not {pairing.alpha!r}")
    if pairing.replicates < 0:
        raise InputError(
            f"--bootstrap is a number of replicates, 0 or more, not {pairing.replicates}"
        )
    pairs = []
    known = None
    for candidate in candidates:
        with _engines(baseline, candidate, settings, pairing, progress, known) as engines:
            known, pair = _compare(*engines, settings, pairing, known)
        if pairing.id_col:  # each candidate's ids choose the baseline's rows anew
            known = replace(known, predictions=None, plan=None)
        pairs.append(pair)
    return Comparison(
        known.report,
        tuple(pairs),
        pairing.alpha,
        settings.confidence,
        pairing.replicates,
        pairing.seed,
    )


@contextlib.contextmanager
def _engines(
    baseline: Source,
    candidate: Source,
    settings: Settings,
    pairing: Pairing,
    progress: Progress | None,
    known: Known | None = None,
) -> Iterator[tuple]:
    """The engines of both files and of their paired batches, and the rows left unpaired;
    the baseline's rows read once, whatever the candidates."""
    from lossdoctor.engines.local import InMemory, Streaming
    from lossdoctor.io import open_dataset

    columns = {
        "label_cols": settings.label_col,
        "pred_cols": settings.pred_col,
        "weight_col": settings.weight_col,
    }
    if settings.engine == "dask":
        with _dask_engines(baseline, candidate, settings, pairing, columns) as engines:
            yield engines
        return
    streamed = [isinstance(path, str) and is_dataset(path) for path in (baseline, candidate)]
    if any(streamed):
        if not all(streamed):
            raise InputError(
                "compare a dataset with a dataset, or a file with a file: "
                f"{baseline if streamed[0] else candidate} is a dataset, the other is not"
            )
        if pairing.id_col:
            raise InputError(
                "--id-col pairs rows in memory: give files, not datasets (datasets are paired "
                "by row order)"
            )
        first, second = open_dataset(baseline, **columns), open_dataset(candidate, **columns)
        check_lengths(first.n_rows, second.n_rows, (baseline, candidate))
        paired = PairedEngine(
            lambda: lockstep(first.batches(None), second.batches(None)),
            first.n_rows,
            progress,
        )
        streaming = (Streaming(dataset, progress, settings.capacity) for dataset in (first, second))
        yield *streaming, paired, 0
        return
    read = partial(_read, columns=columns)
    if known is not None and known.predictions is not None:
        a, b = known.predictions, read(candidate)
    else:
        a, b = at_once(partial(read, baseline), partial(read, candidate), together=True)
    _release_read_buffers()
    unpaired = 0
    if pairing.id_col:
        ids = (_ids(baseline, pairing.id_col), _ids(candidate, pairing.id_col))
        a, b, unpaired = join_on_ids(a, b, ids, pairing.id_col, pairing.unpaired_ok)
    else:
        check_lengths(len(a.y_score), len(b.y_score), (a.source, b.source))
    one = PairedBatch(Batch(a, 0), Batch(b, 0))
    # the two reports, or a report and the paired pass, run at once: no core is spare
    engines = (InMemory(rows, spare_core=False) for rows in (a, b))
    yield *engines, PairedEngine(lambda: iter((one,))), unpaired


@contextlib.contextmanager
def _dask_engines(
    baseline: Source, candidate: Source, settings: Settings, pairing: Pairing, columns: dict
) -> Iterator[tuple]:
    """Both datasets on one Dask cluster, paired by row order."""
    from lossdoctor.engines.dask import DaskEngine

    if pairing.id_col:
        raise InputError(
            "--id-col joins the rows in memory, which --engine dask does not hold; with dask "
            "the rows pair by order: write both datasets in the same row order, or compare "
            "files that fit in memory with the local engine"
        )
    for source in (baseline, candidate):
        if isinstance(source, Frame):
            raise InputError(f"--engine dask reads Parquet datasets, not {source.name}")
    options = {
        **columns,
        "partitioning": settings.partitioning,
        "scheduler": settings.scheduler,
        "timeout": settings.timeout,
        "capacity": settings.capacity,
    }
    with (
        DaskEngine(baseline, **options) as first,
        DaskEngine(candidate, **options, cluster=first.cluster) as second,
    ):
        check_lengths(first.n_rows, second.n_rows, (baseline, candidate))
        yield first, second, DaskPairs(first, second), 0


def _read(source: Source, columns: dict) -> Predictions:
    if isinstance(source, Frame):
        return from_columns(source.columns, source=source.name, format="dataframe", **columns)
    return read_predictions(source, **columns)


def _release_read_buffers() -> None:
    """pyarrow's allocator keeps the buffers it decoded the files in, for the next read; two
    files held while both are diagnosed leave no room to spare, and nothing is read again."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def _ids(source: Source, column: str) -> np.ndarray:
    if not isinstance(source, Frame):
        return read_column(source, column)
    if column not in source.columns:
        raise InputError(f"{source.name} has no column {column!r} (id_col)")
    return np.asarray(source.columns[column])


def _compare(
    first: Engine,
    second: Engine,
    paired: PairedEngine | DaskPairs,
    unpaired: int,
    settings: Settings,
    pairing: Pairing,
    known: Known | None = None,
) -> tuple[Known, Paired]:
    """Both files' plans and reports as `check` makes them (the baseline's once, if `known`),
    the paired pass (the labels checked row by row), DeLong's second pass, then the tests and
    the findings. Up to REPORTS_AT_ONCE_CELLS, the paired pass runs beside the reports; past
    it, after them: the paired tables are not held while a report is made."""
    together = paired.sides_at_once
    plain = replace(settings, gates=())  # gates apply to the comparison
    if known is not None and known.plan is not None:
        plans = known.plan, decide(second, settings)
    else:
        plans = at_once(
            partial(decide, first, settings), partial(decide, second, settings), together
        )
    _check_same_task(*plans, (first.source, second.source))
    capacity = first.capacity
    sides = Sides(*plans, settings.threshold, pairing.replicates, pairing.seed, capacity)
    first_pass = partial(summarize_pair, sides)
    first_pass.label = "pairing the rows"
    pair_rows = partial(
        paired.map_reduce, first_pass, partial(PairedSummary.merge, capacity=capacity)
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        beside = (
            pool.submit(pair_rows) if together and _cells(plans) <= REPORTS_AT_ONCE_CELLS else None
        )
        if known is not None and known.plan is not None:
            baseline, candidate = known.report, diagnose(second, plain, plans[1])
        else:
            baseline, candidate = _reports((first, second), plans, plain, together)
        summary = pair_rows() if beside is None else beside.result()
    if summary.mismatches:
        raise mismatch_error(summary.mismatches, summary.first_mismatch)
    weighted = bool(plans[0].weight_column or plans[1].weight_column)
    placements = summary.placements
    if placements is None and not weighted and summary.rows:
        placements = paired.map_reduce(placement_pass(sides, summary.tables), PlacementSums.merge)
    metrics = tuple(
        compare_metrics(
            baseline.metrics,
            candidate.metrics,
            summary,
            placements,
            settings.confidence,
            pairing.alpha,
            weighted,
            (pairing.replicates, pairing.seed),
        )
    )
    kind = kind_finding(baseline, candidate)
    findings = (
        *([kind] if kind else []),
        *verdict_findings(metrics, pairing.alpha),
        *evaluate_against(settings.gates, baseline.metrics, candidate.metrics),
    )
    if known is None:
        from lossdoctor.engines.local import InMemory

        # in memory, the baseline's rows stay for the next candidate
        rows = first.batch.predictions if isinstance(first, InMemory) else None
        known = Known(rows, plans[0], baseline)
    return known, Paired(candidate, summary.rows, unpaired, metrics, findings)


def _reports(
    engines: tuple[Engine, Engine], plans: tuple[Plan, Plan], settings: Settings, together: bool
) -> tuple[Report, Report]:
    """Both files' reports, `together` on two threads. A report's temporaries grow with its
    cells, and the largest come after its passes over the rows: past REPORTS_AT_ONCE_CELLS,
    the candidate's report starts once the baseline's has made them, so that theirs do not
    meet (a report of fewer passes, without the label issues', is waited for whole)."""
    first, second = engines
    if not together:
        return diagnose(first, settings, plans[0]), diagnose(second, settings, plans[1])
    passed, failed = threading.Event(), threading.Event()
    if _cells(plans) <= REPORTS_AT_ONCE_CELLS:
        passed.set()

    def candidate() -> Report | None:
        passed.wait()
        return None if failed.is_set() else diagnose(second, settings, plans[1])

    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(candidate)
        try:
            report = diagnose(_PassesTold(first, passed), settings, plans[0])
        except BaseException:
            failed.set()
            raise
        finally:
            passed.set()
        return report, later.result()


def _cells(plans: tuple[Plan, Plan]) -> int:
    """The cells (rows x classes, a binary file counting 2) of the larger file."""
    return max(plan.rows_used for plan in plans) * max(plans[0].n_classes, 2)


class _PassesTold:
    """An engine that sets `passed` once a report's passes over the rows are over (the
    summaries, then the label issues)."""

    def __init__(self, engine: Engine, passed: threading.Event) -> None:
        self._engine, self._passed = engine, passed
        self._passes = 0

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T:
        result = self._engine.map_reduce(summarize, merge)
        self._passes += 1
        if self._passes >= REPORT_PASSES:
            self._passed.set()
        return result


def _check_same_task(first: Plan, second: Plan, sources: tuple[str, str]) -> None:
    if Task.MULTILABEL in (first.task, second.task):
        raise InputError("lossdoctor compare tests binary and multi-class predictions only")
    if (first.task, first.n_classes) != (second.task, second.n_classes):
        raise InputError(
            f"not the same task: {sources[0]} is {first.task} with {first.n_classes} classes, "
            f"{sources[1]} is {second.task} with {second.n_classes}"
        )
    if tuple(map(str, first.class_labels)) != tuple(map(str, second.class_labels)):
        raise InputError(
            f"not the same classes: {sources[0]} has {list(first.class_labels)}, "
            f"{sources[1]} has {list(second.class_labels)}"
        )
