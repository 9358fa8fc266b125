"""The confidence interval of each metric a report shows, from the merged metric totals.

ROC-AUC: DeLong's (per class one-vs-rest for several classes); accuracy, precision and recall
(and the categorical accuracy, a share of rows): Wilson's; log loss and Brier: the t interval
of the per-row mean. F1, MCC, balanced accuracy, average precision and ECE: the percentile
interval of a Poisson bootstrap drawn from the merged confusion matrix and value tables
(lossdoctor.stats.replicates), `replicates` of them from `seed`.

A macro average over classes (ROC-AUC and average precision of several classes) reads one
table per class, and a row sits in every class's table: the tables are not joint, so they
cannot say how the classes' errors move together, which the average's variance needs. Its
interval takes the widest any dependence allows for near-normal estimates, the classes'
moving together: DeLong's standard errors added (Cauchy-Schwarz: the standard error of a mean
is at most the mean of the standard errors), the bootstrap's percentiles averaged. It is
conservative: at least as wide as the exact one. For the same reason multi-label data have
no interval of F1 macro, ECE (every cell as binary) or the binary accuracy: a row's labels
are not independent cells. Rows with sample weights have no interval at all.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics, MetricTotals
from lossdoctor.settings import DEFAULTS
from lossdoctor.stats import Interval
from lossdoctor.stats.bootstrap import percentile_interval
from lossdoctor.stats.delong import auc_variance, interval_of
from lossdoctor.stats.distributions import normal_critical
from lossdoctor.stats.means import t_interval
from lossdoctor.stats.proportions import wilson_interval
from lossdoctor.stats.replicates import (
    BOOTSTRAP_DRAWS,
    MIN_CELLS,
    Cells,
    Replicates,
    label_replicates,
    ranking_replicates,
)
from lossdoctor.threads import at_once
from lossdoctor.value_tables import dense
from lossdoctor.value_tables.build import THREADED_ROWS

DEFAULT_CONFIDENCE = 0.95


def metric_intervals(
    totals: MetricTotals,
    metrics: Metrics,
    confidence: float = DEFAULT_CONFIDENCE,
    replicates: int = DEFAULTS.bootstrap,
    seed: int = 0,
) -> tuple[dict[str, Interval], dict[str, float]]:
    """Intervals by metric name (roc_auc[k] for class k), in the order of metrics.values,
    and for those read off a grid table or coarse cells how far each end can be from the
    exact scores' (or the per-row bootstrap's)."""
    intervals: dict[str, Interval] = {}
    bounds: dict[str, float] = {}
    if totals.weighted:  # an interval of weighted rows needs an effective sample size: none
        return intervals, bounds
    calibration = totals.calibration_table
    totals = replace(
        totals,
        tables=tuple(dense(table) for table in totals.tables),
        calibration_table=None if calibration is None else dense(calibration),
    )
    values = metrics.values
    if values.get("log_loss") is not None:
        intervals["log_loss"] = t_interval(totals.loss_moments(), confidence)
    if values.get("brier") is not None:
        intervals["brier"] = t_interval(totals.brier_moments(), confidence)
    for name, (successes, trials) in _proportions(totals).items():
        if values.get(name) is not None:
            intervals[name] = wilson_interval(successes, trials, confidence)

    def bootstrapped() -> tuple[dict[str, Interval], dict[str, float]]:
        drawn: dict[str, Interval] = {}
        moved: dict[str, float] = {}
        if replicates:
            _bootstrapped(totals, metrics, confidence, replicates, seed, drawn, moved)
        return drawn, moved

    # DeLong's intervals and the bootstrap's (other metrics) read large exact tables at once,
    # on two threads; the intervals are ordered below, whichever comes first. A grid's are
    # read one after the other: a stream's memory stays that of one at a time.
    exact = [table.entries for table in totals.tables if not table.is_grid]
    large = max(exact, default=0) >= THREADED_ROWS
    _, (drawn, moved) = at_once(
        lambda: _delong(totals, metrics, confidence, intervals, bounds), bootstrapped, large
    )
    intervals |= drawn
    bounds |= moved
    order = {name: i for i, name in enumerate(values)}
    ordered = sorted(intervals, key=lambda name: (order.get(name.split("[")[0], math.inf), name))
    finite = {name: intervals[name] for name in ordered if all(map(math.isfinite, intervals[name]))}
    return finite, {name: bounds[name] for name in finite if name in bounds}


def _delong(
    totals: MetricTotals,
    metrics: Metrics,
    confidence: float,
    intervals: dict[str, Interval],
    bounds: dict[str, float],
) -> None:
    """DeLong's interval of each ROC-AUC, and of their macro average."""
    errors = {}
    for name, (table, auc) in _auc_tables(totals, metrics).items():
        if auc is None:  # undefined, or class labels saved as scores
            continue
        bound = metrics.error_bound.get(name, 0.0)
        variance = auc_variance(table, bound, auc)
        if variance is not None:
            intervals[name], bound = interval_of(variance, confidence, bound)
            errors[name] = math.sqrt(variance.variance)
            if table.is_grid:
                bounds[name] = bound
    if totals.task != Task.BINARY and metrics.values.get("roc_auc") is not None:
        _macro_auc(totals, metrics, confidence, errors, intervals, bounds)


def _proportions(totals: MetricTotals) -> dict[str, tuple[float, float]]:
    """(successes, trials) of each metric that is a proportion of rows."""
    confusion = totals.confusion
    if totals.task == Task.BINARY:
        (tn, fp), (fn, tp) = confusion.tolist()
        return {
            "accuracy": (tp + tn, totals.rows),
            "precision": (tp, tp + fp),
            "recall": (tp, tp + fn),
        }
    if totals.task == Task.MULTICLASS:
        hits = float(np.trace(confusion))
        return {"accuracy": (hits, totals.rows), "categorical_accuracy": (hits, totals.rows)}
    return {
        "accuracy": (totals.exact_rows, totals.rows),
        "categorical_accuracy": (totals.top_hits, totals.rows),
    }


def _auc_tables(totals: MetricTotals, metrics: Metrics) -> dict:
    """The value table behind each ROC-AUC, and the AUC read off it: binary, positives
    against negatives; several classes, each class against the rest."""
    if totals.task == Task.BINARY:
        return {"roc_auc": (totals.tables[0], metrics.values["roc_auc"])}
    return {
        f"roc_auc[{c.index}]": (table, c.roc_auc)
        for c, table in zip(metrics.per_class, totals.tables, strict=True)
    }


def _macro_auc(
    totals: MetricTotals,
    metrics: Metrics,
    confidence: float,
    errors: dict[str, float],
    intervals: dict[str, Interval],
    bounds: dict[str, float],
) -> None:
    """The macro ROC-AUC's interval: its classes' DeLong standard errors added (see above)."""
    names = [f"roc_auc[{k}]" for k in range(len(totals.tables))]
    if not all(name in errors for name in names):
        return
    auc = metrics.values["roc_auc"]
    half = normal_critical(confidence) * float(np.mean([errors[name] for name in names]))
    intervals["roc_auc"] = Interval(max(auc - half, 0.0), min(auc + half, 1.0))
    if any(table.is_grid for table in totals.tables):
        bounds["roc_auc"] = float(np.mean([bounds.get(name, 0.0) for name in names]))


def _bootstrapped(
    totals: MetricTotals,
    metrics: Metrics,
    confidence: float,
    replicates: int,
    seed: int,
    intervals: dict[str, Interval],
    bounds: dict[str, float],
) -> None:
    """The bootstrap's intervals: the label metrics from the confusion matrix, average
    precision and ECE from the value tables, each table its own stream of draws."""
    values = metrics.values
    # A K x K confusion is K**2 draws a replicate: past the draws' budget (about 32 classes at
    # 1000 replicates) the label metrics have no bootstrap interval.
    if totals.task != Task.MULTILABEL and totals.confusion.size * replicates <= BOOTSTRAP_DRAWS:
        drawn = label_replicates(totals.confusion, replicates, (seed, 0))
        if totals.task == Task.BINARY:
            drawn["f1"] = drawn["f1"][:, 1]
        for name in ("balanced_accuracy", "f1", "f1_macro", "mcc"):
            if values.get(name) is not None and name in drawn:
                intervals[name] = percentile_interval(drawn[name], confidence)
    tables = (totals.tables[0],) if totals.task == Task.BINARY else totals.tables
    if values.get("pr_auc") is None:
        tables = ()
    calibration = totals.calibration_table if totals.task == Task.MULTICLASS else None
    if values.get("ece") is None:
        calibration = None
    if not tables and calibration is None:
        return
    # Every table an equal share of the draws; classes too many for MIN_CELLS cells each have
    # no average precision interval (the calibration table then takes the draws alone).
    max_cells = BOOTSTRAP_DRAWS // (2 * replicates * (len(tables) + (calibration is not None)))
    if max_cells < MIN_CELLS:
        tables, max_cells = (), BOOTSTRAP_DRAWS // (2 * replicates)
    max_cells = max(max_cells, MIN_CELLS)
    found = {}
    for k, table in enumerate(tables):
        if table.hits == 0:
            continue
        average_precision, error = ranking_replicates(
            Cells.of(table, max_cells), replicates, (seed, 1, k)
        )
        if totals.task == Task.BINARY:
            found["pr_auc"] = (average_precision, values["pr_auc"])
            if values.get("ece") is not None:
                found["ece"] = (error, values["ece"])
        else:
            found[f"pr_auc[{k}]"] = (average_precision, metrics.per_class[k].pr_auc)
    if calibration is not None:
        _, error = ranking_replicates(Cells.of(calibration, max_cells), replicates, (seed, 2))
        found["ece"] = (error, values["ece"])
    for name, (drawn_values, centre) in found.items():
        interval, bound = _centred(drawn_values, centre, confidence)
        if all(map(math.isfinite, interval)):
            intervals[name] = interval
            moved = bound + metrics.error_bound.get(name, 0.0)
            if moved:
                bounds[name] = moved
    # The classes' own intervals only make the macro one (the report shows roc_auc[k]'s): their
    # percentiles averaged, their errors moving together (see above).
    per_class = [f"pr_auc[{k}]" for k in range(len(totals.tables))]
    ends = [intervals.pop(name, None) for name in per_class]
    moved = [bounds.pop(name, 0.0) for name in per_class]
    if totals.task != Task.BINARY and all(end is not None for end in ends):
        low, high = np.mean(ends, axis=0)
        intervals["pr_auc"] = Interval(float(low), float(high))
        if any(moved):
            bounds["pr_auc"] = float(np.mean(moved))


def _centred(drawn: Replicates, centre: float, confidence: float) -> tuple[Interval, float]:
    """The percentile interval of the replicates (after the original at 0), or on coarse cells
    the exact value plus the percentiles of the deviation from the coarse original."""
    values, errors = drawn
    if not errors.any():
        return percentile_interval(values[1:], confidence), 0.0
    low, high = percentile_interval(values[1:] - values[0], confidence)
    largest = np.max(errors[1:][np.isfinite(values[1:])], initial=0.0)
    # average precision and ECE lie in [0, 1]; a deviation added to the exact value may not
    return Interval(max(centre + low, 0.0), min(centre + high, 1.0)), float(errors[0] + largest)
