"""Each segment's metrics and their intervals, read off the merged segment totals: a loop over
the segments (at most MAX_SEGMENTS), never over rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoctor.checks.base import Finding
from lossdoctor.metrics.confusion import confusion_scores, precision_recall_f1
from lossdoctor.segments.ranks import GroupRanking, group_rankings
from lossdoctor.segments.totals import SegmentTotals
from lossdoctor.stats import Interval
from lossdoctor.stats.proportions import wilson_interval


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
    binary = totals.columns == 1
    rankings = group_rankings(
        totals.tables,
        len(totals.values) * totals.columns,
        confidence,
        intervals=binary and not totals.weighted,
    )
    label_metrics = _label_metrics(totals)
    found = []
    for s, value in enumerate(totals.values):
        ranked = [next(rankings) for _ in range(totals.columns)]
        metrics, intervals, bounds = _one(totals, s, confidence, label_metrics[s], ranked)
        shown = labels[s] if labels is not None else _plain(value)
        found.append(Segment(by, shown, int(totals.counts[s]), metrics, intervals, bounds))
    return found


def _label_metrics(totals: SegmentTotals) -> list[dict[str, float]]:
    """Each segment's metrics of its confusion matrix, in the report's order: a binary
    segment's at once (elementwise, as confusion_scores and precision_recall_f1 compute one),
    a multi-class one's by confusion_scores."""
    confusion = totals.confusion
    if totals.columns > 1:
        found = []
        for matrix in confusion:
            scores, _ = confusion_scores(matrix)
            found.append({"accuracy": scores["accuracy"], "f1_macro": scores["f1_macro"]})
        return found
    right = np.trace(confusion, axis1=1, axis2=2)
    accuracy = right / confusion.sum(axis=2).sum(axis=1)
    tp = confusion[:, 1, 1]
    precision, recall, f1 = precision_recall_f1(
        tp, confusion[:, :, 1].sum(axis=1), confusion[:, 1, :].sum(axis=1)
    )
    return [
        {"accuracy": a, "precision": p, "recall": r, "f1": f}
        for a, p, r, f in zip(
            accuracy.tolist(), precision.tolist(), recall.tolist(), f1.tolist(), strict=True
        )
    ]


def _one(
    totals: SegmentTotals,
    s: int,
    confidence: float,
    label_metrics: dict[str, float],
    ranked: list[GroupRanking],
) -> tuple[dict[str, float | None], dict[str, Interval], dict[str, float]]:
    rows = float(totals.rows[s])
    metrics: dict[str, float | None] = {"log_loss": float(totals.loss[s] / rows)}
    metrics.update(label_metrics)
    intervals: dict[str, Interval] = {}
    bounds: dict[str, float] = {}
    if totals.columns == 1 and ranked[0].roc_auc is not None:  # binary
        if ranked[0].on_grid:
            bounds["roc_auc"] = ranked[0].roc_auc_bound
        if ranked[0].interval is not None:
            intervals["roc_auc"] = ranked[0].interval
    aucs = [r.roc_auc for r in ranked]
    if None in aucs:
        metrics["roc_auc"] = None
    else:  # binary: the one AUC, as np.mean of one gives it (without its fixed cost)
        metrics["roc_auc"] = float(aucs[0]) if len(aucs) == 1 else float(np.mean(aucs))
    metrics["brier"] = float(totals.brier[s] / rows)
    if not totals.weighted:
        hits = float(np.trace(totals.confusion[s]))
        intervals["accuracy"] = wilson_interval(hits, rows, confidence)
    finite = {k: v for k, v in intervals.items() if all(map(math.isfinite, v))}
    return metrics, finite, bounds


def _plain(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and math.isinf(value):
        return None  # the missing values' segment
    return value
