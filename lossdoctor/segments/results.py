"""Each segment's metrics and their intervals, read off the merged segment totals: a loop over
the segments (at most MAX_SEGMENTS), never over rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoctor.checks.base import Finding
from lossdoctor.metrics.confusion import confusion_scores, precision_recall_f1
from lossdoctor.segments.totals import SegmentTotals
from lossdoctor.stats import Interval
from lossdoctor.stats.delong import auc_interval
from lossdoctor.stats.proportions import wilson_interval
from lossdoctor.value_tables import rank


@dataclass(frozen=True)
class Segment:
    """One segment of the rows: which, how many, its metrics, and what was found in it."""

    by: str  # the --by it belongs to
    value: Any  # the segment's value (a file's name for --by file, a bin's range for COLUMN:N)
    rows: int  # usable rows
    metrics: dict[str, float | None]
    metrics_ci: dict[str, Interval] = field(default_factory=dict)
    metrics_error_bound: dict[str, float] = field(default_factory=dict)
    # against the rest of the rows: accuracy's difference, its interval and p-value
    difference: float | None = None
    difference_ci: Interval | None = None
    p_value: float | None = None
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "value": self.value,
            "rows": self.rows,
            "metrics": dict(self.metrics),
            "metrics_ci": {name: list(ends) for name, ends in self.metrics_ci.items()},
            "metrics_error_bound": dict(self.metrics_error_bound),
            "accuracy_vs_rest": None
            if self.difference is None
            else {
                "difference": self.difference,
                "ci": list(self.difference_ci or ()),
                "p_value": self.p_value,
            },
            "findings": [f.to_dict() for f in self.findings],
        }


def segment_metrics(
    by: str, totals: SegmentTotals, confidence: float, labels: list[Any] | None = None
) -> list[Segment]:
    """Every segment's metrics, in the order of their values. `labels`: what each value is
    shown as (a bin's range), else the value itself."""
    found = []
    for s, value in enumerate(totals.values):
        metrics, intervals, bounds = _one(totals, s, confidence)
        shown = labels[s] if labels is not None else _plain(value)
        found.append(Segment(by, shown, int(totals.counts[s]), metrics, intervals, bounds))
    return found


def _one(
    totals: SegmentTotals, s: int, confidence: float
) -> tuple[dict[str, float | None], dict[str, Interval], dict[str, float]]:
    rows = float(totals.rows[s])
    confusion = totals.confusion[s]
    scores, _ = confusion_scores(confusion)
    metrics: dict[str, float | None] = {
        "log_loss": float(totals.loss[s] / rows),
        "accuracy": scores["accuracy"],
    }
    intervals: dict[str, Interval] = {}
    bounds: dict[str, float] = {}
    if totals.columns == 1:  # binary
        metrics["precision"], metrics["recall"], metrics["f1"] = (
            float(v)
            for v in precision_recall_f1(confusion[1, 1], confusion[:, 1].sum(), confusion[1].sum())
        )
    else:
        metrics["f1_macro"] = scores["f1_macro"]
    aucs = []
    for c in range(totals.columns):
        table = totals.tables.table(s * totals.columns + c)
        ranking = rank(table)
        aucs.append(ranking.roc_auc)
        if totals.columns == 1 and ranking.roc_auc is not None:
            if table.is_grid:
                bounds["roc_auc"] = ranking.roc_auc_bound
            if not totals.weighted:
                found = auc_interval(table, confidence, ranking.roc_auc_bound, ranking.roc_auc)
                if found is not None:
                    intervals["roc_auc"] = found[0]
    metrics["roc_auc"] = None if None in aucs else float(np.mean(aucs))
    metrics["brier"] = float(totals.brier[s] / rows)
    if not totals.weighted:
        hits = float(np.trace(confusion))
        intervals["accuracy"] = wilson_interval(hits, rows, confidence)
    finite = {k: v for k, v in intervals.items() if all(map(math.isfinite, v))}
    return metrics, finite, bounds


def _plain(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and math.isinf(value):
        return None  # the missing values' segment
    return value
