"""Ranking metrics and calibration from value tables: per-class ROC-AUC and average precision,
the best-F1 threshold, the reliability diagram, and the curves a chart shows."""

import numpy as np

from lossdoctor.curves import Curve, curve, operating_point
from lossdoctor.metrics.results import CALIBRATION_BINS, CURVE_EXTREMES, MAX_CURVES, Calibration
from lossdoctor.value_tables import BestF1, ValueTable, each_column, quantile_bins, rank


def calibration_of(table: ValueTable) -> tuple[Calibration, float]:
    bins = quantile_bins(table, CALIBRATION_BINS)
    kept = bins.counts > 0
    counts = bins.counts[kept]
    reliability = Calibration(bins.sums[kept] / counts, bins.hits[kept] / counts, counts)
    return reliability, bins.bound


def rankings(
    tables: tuple[ValueTable, ...], bounds: dict[str, float]
) -> tuple[list, list, list[BestF1]]:
    """Per-class AUC, AP and best-F1 threshold, each bound of a grid table in bounds as
    'roc_auc[k]'."""
    aucs, aps, bests = [], [], []
    entries = max((table.entries for table in tables), default=0)
    ranked = each_column(lambda k: rank(tables[k]), len(tables), entries)
    for k, (table, ranking) in enumerate(zip(tables, ranked, strict=True)):
        aucs.append(ranking.roc_auc)
        aps.append(ranking.average_precision)
        bests.append(ranking.best_f1)
        if table.is_grid:
            if ranking.roc_auc is not None:
                bounds[f"roc_auc[{k}]"] = ranking.roc_auc_bound
            bounds[f"pr_auc[{k}]"] = ranking.average_precision_bound
    return aucs, aps, bests


def curves_of(
    tables: tuple[ValueTable, ...],
    aucs: list,
    bests: list[BestF1],
    chosen: tuple[np.ndarray, np.ndarray],
    threshold: float | None,
) -> tuple[Curve, ...]:
    """The curves of every class, or of the CURVE_EXTREMES worst and best by ROC-AUC when
    there are more than MAX_CURVES: what a chart can show apart. `chosen` holds each class's
    true and false positives under the report's rule (threshold None: the argmax)."""
    ranked = sorted((auc, k) for k, auc in enumerate(aucs) if auc is not None)
    if len(tables) > MAX_CURVES:
        ranked = ranked[:CURVE_EXTREMES] + ranked[-CURVE_EXTREMES:]
    shown = sorted({k for _, k in ranked})
    drawn = (
        class_curve(k, tables[k], bests[k], (chosen[0][k], chosen[1][k]), threshold) for k in shown
    )
    return tuple(c for c in drawn if c is not None)


def class_curve(
    k: int, table: ValueTable, best: BestF1, chosen: tuple, threshold: float | None
) -> Curve | None:
    """Class k's curve, marked with the report's rule (tp, fp) and the best-F1 threshold."""
    positives, negatives = table.hits, table.misses
    if not positives or not negatives or not np.isfinite(table.rows):
        return None
    tp, fp = (float(n) for n in chosen)  # counts, or sums of sample weights
    rule = operating_point(tp, fp, positives, negatives, threshold)
    top = operating_point(best.tp, best.fp, positives, negatives, best.threshold)
    return curve(k, table, rule, top)


def macro_bounds(bounds: dict[str, float], values: dict, n_classes: int) -> None:
    """A macro average's bound: the mean of its classes' (0.0 for an exact table)."""
    for key in ("roc_auc", "pr_auc"):
        per_class = [bounds.get(f"{key}[{k}]", 0.0) for k in range(n_classes)]
        if values.get(key) is not None and any(f"{key}[{k}]" in bounds for k in range(n_classes)):
            bounds[key] = float(np.mean(per_class))
