"""Every metric of each task, read off merged totals: the one code path of every batch size."""

from dataclasses import replace

import numpy as np

from lossdoctor.infer.decisions import Task
from lossdoctor.metrics.confusion import (
    class_table,
    confusion_scores,
    precision_recall_f1,
    threshold_row,
)
from lossdoctor.metrics.ranking import (
    calibration_of,
    class_curve,
    curves_of,
    macro_bounds,
    rankings,
)
from lossdoctor.metrics.results import HISTOGRAM_EDGES, THRESHOLD_GRID, Histogram, Metrics
from lossdoctor.metrics.totals import MetricTotals
from lossdoctor.threads import at_once
from lossdoctor.value_tables import complement, dense, merge_all, rank
from lossdoctor.value_tables.build import THREADED_ROWS


def metrics_from(totals: MetricTotals) -> Metrics:
    """Every metric of the rows totalled; error_bound names those read off a grid."""
    calibration = totals.calibration_table
    totals = replace(
        totals,
        tables=tuple(dense(table) for table in totals.tables),
        calibration_table=None if calibration is None else dense(calibration),
    )
    if totals.task == Task.BINARY:
        return _binary_from(totals)
    if totals.task == Task.MULTICLASS:
        return _multiclass_from(totals)
    return _multilabel_from(totals)


def _naming(noun: str, indices: list[int]) -> str:
    """'class 3' or 'classes 3, 7', for a reason in plain words."""
    shown = ", ".join(str(i) for i in indices[:5]) + (", …" if len(indices) > 5 else "")
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{plural if len(indices) > 1 else noun} {shown}"


def _set_macro(
    values: dict, undefined: dict, key: str, per_class: list, missing: list[int], reason: str
) -> None:
    """Mean over the classes, or None and the reason when some class has no value.

    sklearn warns and returns nan there (AUC with a class absent).
    """
    if missing:
        values[key] = None
        undefined[key] = reason
    else:
        values[key] = float(np.mean(per_class))


def _without_positives_note(noun: str, indices: list[int]) -> str:
    """Why an average precision holds a 0.0 that measures nothing."""
    its = "their" if len(indices) > 1 else "its"
    return (
        f"{_naming(noun, indices)} without positive rows: {its} average precision is 0, "
        "as scikit-learn returns it"
    )


def _binary_from(totals: MetricTotals) -> Metrics:
    table = totals.tables[0]
    n_pos, n_neg = table.hits, table.misses
    bounds: dict[str, float] = {}
    # Class 1's exact table and class 0's (its complement) are read at once, on two threads;
    # a grid's one after the other, as a stream's memory is that of one at a time.
    (ranking, (reliability, ece_bound)), (aucs, aps, _) = at_once(
        lambda: (rank(table), calibration_of(table)),
        lambda: rankings((complement(table),), bounds),
        not table.is_grid and table.entries >= THREADED_ROWS,
    )
    best = ranking.best_f1
    best_f1_row = threshold_row(best.threshold, best.tp, best.fp, n_pos, n_neg, best_f1=True)
    aucs.append(ranking.roc_auc)
    aps.append(ranking.average_precision)

    grid_counts = zip(THRESHOLD_GRID, totals.cut_counts[:-1], strict=True)
    rows = [threshold_row(t, tp, fp, n_pos, n_neg) for t, (tp, fp) in grid_counts]
    rows.append(best_f1_row)
    confusion = totals.confusion
    label_scores, prf_support = confusion_scores(confusion)
    precision, recall, f1, _ = prf_support

    values: dict[str, float | None] = {
        "log_loss": totals.loss_sum / totals.rows,
        "accuracy": label_scores["accuracy"],
        "balanced_accuracy": label_scores["balanced_accuracy"],
        "precision": float(precision[1]),
        "recall": float(recall[1]),
        "f1": float(f1[1]),
        "f1_macro": label_scores["f1_macro"],
        "roc_auc": aucs[1],
        "pr_auc": aps[1],
        "brier": totals.brier_sum / (2 * totals.rows),
        "mcc": label_scores["mcc"],
        "ece": reliability.ece,
    }
    undefined: dict[str, str] = {}
    notes: dict[str, str] = {}
    if values["roc_auc"] is None:
        undefined["roc_auc"] = "only one class in the labels"
    if n_pos == 0:
        notes["pr_auc"] = _without_positives_note("class", [1])
    if table.is_grid:
        if ranking.roc_auc is not None:
            bounds["roc_auc"] = bounds["roc_auc[1]"] = ranking.roc_auc_bound
        bounds["pr_auc"] = bounds["pr_auc[1]"] = ranking.average_precision_bound
        bounds["best_f1"] = best.bound
        bounds["ece"] = ece_bound
    per_class = class_table(prf_support, aucs, aps)
    spread = Histogram(HISTOGRAM_EDGES.copy(), totals.histogram, ("true class 0", "true class 1"))
    tp, fp = confusion[1, 1], confusion[0, 1]
    drawn = class_curve(1, table, best, (tp, fp), totals.threshold)
    curves = () if drawn is None else (drawn,)
    return Metrics(
        values,
        undefined,
        per_class,
        tuple(rows),
        confusion,
        reliability,
        spread,
        bounds,
        notes,
        curves,
    )


def _multiclass_from(totals: MetricTotals) -> Metrics:
    confusion = totals.confusion
    n_classes = confusion.shape[0]
    label_scores, prf_support = confusion_scores(confusion)
    bounds: dict[str, float] = {}
    aucs, aps, bests = rankings(totals.tables, bounds)
    # A class every row is would leave the others absent, so absence is the one reason.
    absent = [k for k, table in enumerate(totals.tables) if table.hits == 0]
    reason = f"{_naming('class', absent)} absent from the labels"

    values: dict[str, float | None] = {
        "log_loss": totals.loss_sum / totals.rows,
        "accuracy": label_scores["accuracy"],
        "balanced_accuracy": label_scores["balanced_accuracy"],
        "f1_macro": label_scores["f1_macro"],
    }
    undefined: dict[str, str] = {}
    notes: dict[str, str] = {}
    _set_macro(values, undefined, "roc_auc", aucs, absent, reason)
    values["pr_auc"] = float(np.mean(aps))
    if absent:
        notes["pr_auc"] = _without_positives_note("class", absent)
    # sklearn's brier_score_loss keeps the [0, 2] range of the sum over classes past two
    values["brier"] = totals.brier_sum / totals.rows / (2 if n_classes == 2 else 1)
    values["mcc"] = label_scores["mcc"]
    values["categorical_accuracy"] = label_scores["accuracy"]
    values["binary_accuracy"] = totals.cell_hits / (totals.rows * n_classes)
    reliability, ece_bound = calibration_of(totals.calibration_table)
    values["ece"] = reliability.ece
    macro_bounds(bounds, values, n_classes)
    if totals.calibration_table.is_grid:
        bounds["ece"] = ece_bound
    per_class = class_table(prf_support, aucs, aps)
    spread = Histogram(HISTOGRAM_EDGES.copy(), totals.histogram, ("P(true class)",))
    tp = np.diag(confusion)
    curves = curves_of(totals.tables, aucs, bests, (tp, confusion.sum(axis=0) - tp), None)
    return Metrics(
        values, undefined, per_class, (), confusion, reliability, spread, bounds, notes, curves
    )


def _multilabel_from(totals: MetricTotals) -> Metrics:
    confusion = totals.confusion
    n_rows, n_labels = totals.rows, confusion.shape[0]
    fp, fn, tp = (confusion.reshape(n_labels, 4)[:, i] for i in (1, 2, 3))  # [[tn, fp], [fn, tp]]
    support, n_predicted = tp + fn, tp + fp
    precision, recall, f1 = precision_recall_f1(tp, n_predicted, support)
    bounds: dict[str, float] = {}
    aucs, aps, bests = rankings(totals.tables, bounds)
    one_sided = [k for k, auc in enumerate(aucs) if auc is None]
    never_positive = [k for k, table in enumerate(totals.tables) if table.hits == 0]

    values: dict[str, float | None] = {
        "log_loss": totals.loss_sum / (n_rows * n_labels),
        "accuracy": totals.exact_rows / n_rows,
        "binary_accuracy": totals.cell_hits / (n_rows * n_labels),
        "categorical_accuracy": totals.top_hits / n_rows,
        "f1_macro": float(np.mean(f1)),
    }
    undefined: dict[str, str] = {}
    notes: dict[str, str] = {}
    one_sided_reason = f"{_naming('label', one_sided)} all 0 or all 1"
    _set_macro(values, undefined, "roc_auc", aucs, one_sided, one_sided_reason)
    values["pr_auc"] = float(np.mean(aps))
    if never_positive:
        notes["pr_auc"] = _without_positives_note("label", never_positive)
    # Every cell as binary: the labels' tables together.
    cells = merge_all(totals.tables)
    reliability, ece_bound = calibration_of(cells)
    del cells
    values["ece"] = reliability.ece
    macro_bounds(bounds, values, n_labels)
    if any(table.is_grid for table in totals.tables):
        bounds["ece"] = ece_bound
    per_class = class_table((precision, recall, f1, support), aucs, aps)
    spread = Histogram(HISTOGRAM_EDGES.copy(), totals.histogram, ("cells 0", "cells 1"))
    curves = curves_of(totals.tables, aucs, bests, (tp, fp), totals.threshold)
    return Metrics(
        values, undefined, per_class, (), confusion, reliability, spread, bounds, notes, curves
    )
