"""ROC and precision-recall curves of one class against the rest, read off its value table.

A table (lossdoctor.tables) holds the hits and the rows below each distinct score (or grid bin),
so the curve at every threshold is two subtractions away; merged summaries give the same
curves, whatever the size of the data. A curve is thinned to a few hundred points: one where
it has moved another step of its length (the ROC curve's L1 length is 2, so no point of it
lies further than 2 / CURVE_STEPS from the drawn line), one where the rows predicted positive
have grown by another quarter of a doubling (where few rows pass, precision jumps), and the
entries of the marked points, so the curve passes exactly through them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.tables import ValueTable, entry_at, entry_scores

CURVE_STEPS = 300
STEPS_PER_DOUBLING = 4  # of the rows predicted positive
_BLOCK = 1 << 20  # entries read at a time: temporaries stay small on a grid of millions


@dataclass(frozen=True)
class OperatingPoint:
    """Where one decision rule sits on the curves of a class."""

    threshold: float | None  # p >= threshold; None for the argmax of a multi-class model
    fpr: float
    tpr: float  # recall
    precision: float  # 0.0 when nothing is predicted (scikit-learn's zero_division=0)
    f1: float


@dataclass(frozen=True)
class Curve:
    """One class against the rest as the threshold falls from its highest score to its
    lowest: at each thinned threshold, the rates of `p >= threshold`."""

    index: int  # the class (binary: 1, the positive class)
    threshold: np.ndarray  # float64, descending
    fpr: np.ndarray
    tpr: np.ndarray  # recall
    precision: np.ndarray
    f1: np.ndarray
    chosen: OperatingPoint  # the report's rule: the threshold, or the argmax
    best_f1: OperatingPoint


def operating_point(
    tp: int, fp: int, positives: int, negatives: int, threshold: float | None
) -> OperatingPoint:
    """The rates of a rule that predicts tp + fp rows of the class, tp of them right."""
    predicted = tp + fp
    precision = tp / predicted if predicted else 0.0
    return OperatingPoint(
        None if threshold is None else float(threshold),
        fp / negatives,
        tp / positives,
        precision,
        2 * tp / (predicted + positives),
    )


def curve(index: int, table: ValueTable, chosen: OperatingPoint, best_f1: OperatingPoint) -> Curve:
    """The thinned curve of a table that holds both hits and misses."""
    positives, negatives = table.hits, table.misses
    marked = [entry_at(table, p.threshold) for p in (chosen, best_f1) if p.threshold is not None]
    entries = _thinned(table, np.asarray(marked, dtype=np.int64))[::-1]
    tp = positives - table.hits_below[entries].astype(np.int64)
    predicted = table.rows - table.rows_below[entries].astype(np.int64)
    fp = predicted - tp
    return Curve(
        index,
        entry_scores(table, entries).astype(np.float64),
        fp / negatives,
        tp / positives,
        tp / predicted,
        2 * tp / (predicted + positives),
        chosen,
        best_f1,
    )


def _thinned(table: ValueTable, marked: np.ndarray) -> np.ndarray:
    """The occupied entries to draw, ascending: a block of entries at a time."""
    positives, negatives, rows = table.hits, table.misses, table.rows
    marked = marked[(marked >= 0) & (marked < table.entries)]
    kept = [marked[table.rows_below[marked] < rows]]  # a rule that predicts some row
    previous = (-1, -1)  # the steps of the last occupied entry of the block before
    last = -1
    for start in range(0, table.entries, _BLOCK):
        hits_below = table.hits_below[start : start + _BLOCK + 1].astype(np.int64)
        rows_below = table.rows_below[start : start + _BLOCK + 1].astype(np.int64)
        occupied = np.flatnonzero(rows_below[1:] != rows_below[:-1])
        if not occupied.size:
            continue
        tp = positives - hits_below[occupied]
        predicted = rows - rows_below[occupied]
        along = tp / positives + (predicted - tp) / negatives  # falls from 2 as entries rise
        step = np.floor(along * (CURVE_STEPS / 2)).astype(np.int64)
        doubling = np.floor(np.log2(predicted) * STEPS_PER_DOUBLING).astype(np.int64)
        moved = np.empty(occupied.size, dtype=bool)
        moved[0] = (step[0], doubling[0]) != previous
        moved[1:] = (step[1:] != step[:-1]) | (doubling[1:] != doubling[:-1])
        kept.append(occupied[moved] + start)
        previous = (int(step[-1]), int(doubling[-1]))
        last = int(occupied[-1]) + start
    kept.append(np.asarray([last], dtype=np.int64))
    return np.unique(np.concatenate(kept))
