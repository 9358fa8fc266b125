"""The confidence interval of each metric a report shows, from the merged metric totals.

ROC-AUC: DeLong's (per class one-vs-rest for several classes); accuracy, precision and recall:
Wilson's; log loss and Brier: the t interval of the per-row mean. The macro ROC-AUC of several
classes is left out: its variance needs the covariances between classes, which the per-class
tables do not hold. So are average precision, F1, MCC, balanced accuracy and ECE: their
bootstrap needs totals per replicate (a value table or a confusion matrix per replicate),
a thousand times the work of the report itself.
"""

from __future__ import annotations

import math

import numpy as np

from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics, MetricTotals
from lossdoctor.stats import Interval
from lossdoctor.stats.delong import auc_interval
from lossdoctor.stats.means import t_interval
from lossdoctor.stats.proportions import wilson_interval
from lossdoctor.value_tables import dense

DEFAULT_CONFIDENCE = 0.95


def metric_intervals(
    totals: MetricTotals, metrics: Metrics, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[dict[str, Interval], dict[str, float]]:
    """Intervals by metric name (roc_auc[k] for class k), in the order of metrics.values,
    and for those read off a grid table how far each end can be from the exact scores'."""
    intervals: dict[str, Interval] = {}
    bounds: dict[str, float] = {}
    if totals.weighted:  # an interval of weighted rows needs an effective sample size: none
        return intervals, bounds
    values = metrics.values
    if values.get("log_loss") is not None:
        intervals["log_loss"] = t_interval(totals.loss_moments(), confidence)
    if values.get("brier") is not None:
        intervals["brier"] = t_interval(totals.brier_moments(), confidence)
    for name, (successes, trials) in _proportions(totals).items():
        if values.get(name) is not None:
            intervals[name] = wilson_interval(successes, trials, confidence)
    for name, (table, auc) in _auc_tables(totals, metrics).items():
        if auc is None:  # undefined, or class labels saved as scores
            continue
        bound = metrics.error_bound.get(name, 0.0)
        found = auc_interval(dense(table), confidence, bound, auc)
        if found is not None:
            intervals[name], bound = found
            if table.is_grid:
                bounds[name] = bound
    order = {name: i for i, name in enumerate(values)}
    ordered = sorted(intervals, key=lambda name: (order.get(name.split("[")[0], math.inf), name))
    finite = {name: intervals[name] for name in ordered if all(map(math.isfinite, intervals[name]))}
    return finite, {name: bounds[name] for name in finite if name in bounds}


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
        return {"accuracy": (float(np.trace(confusion)), totals.rows)}
    return {"accuracy": (totals.exact_rows, totals.rows)}


def _auc_tables(totals: MetricTotals, metrics: Metrics) -> dict:
    """The value table behind each ROC-AUC, and the AUC read off it: binary, positives
    against negatives; several classes, each class against the rest."""
    if totals.task == Task.BINARY:
        return {"roc_auc": (totals.tables[0], metrics.values["roc_auc"])}
    return {
        f"roc_auc[{c.index}]": (table, c.roc_auc)
        for c, table in zip(metrics.per_class, totals.tables, strict=True)
    }
