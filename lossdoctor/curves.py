"""ROC and precision-recall curves of one class against the rest, read off its value table.

A value table (lossdoctor.value_tables) holds the hits and the rows below each distinct score
(or grid bin), so the curve at every threshold is two subtractions away; merged tables give the
same curves, whatever the size of the data. A curve is thinned to a few hundred points: one where
it has moved another step of its length (the ROC curve's L1 length is 2, so no point of it
lies further than 2 / CURVE_STEPS from the drawn line), one where the rows predicted positive
have grown by another quarter of a doubling (where few rows pass, precision jumps), and the
entries of the marked points, so the curve passes exactly through them. Both steps are found
by bisection, so a curve costs a few thousand reads of the table, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.value_tables import ValueTable, entry_at, entry_scores

CURVE_STEPS = 300
STEPS_PER_DOUBLING = 4  # of the rows predicted positive


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
    # float64: counts, or sums of sample weights
    tp = positives - table.hits_below[entries].astype(np.float64)
    predicted = table.rows - table.rows_below[entries].astype(np.float64)
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
    """The occupied entries to draw, ascending.

    As entries rise, the distance along the curve from its top and the rows predicted both
    fall, so where each crosses its next step is found by bisection: a few hundred searches,
    whatever the size of the table.
    """
    positives, negatives, rows = table.hits, table.misses, table.rows
    hits_below, rows_below = table.hits_below, table.rows_below

    def along(entries: np.ndarray) -> np.ndarray:
        """How far along the ROC curve (L1, from its top) the threshold at each entry is."""
        tp = positives - hits_below[entries].astype(np.float64)
        predicted = rows - rows_below[entries].astype(np.float64)
        return tp / positives + (predicted - tp) / negatives

    def predicted(entries: np.ndarray) -> np.ndarray:
        return rows - rows_below[entries].astype(np.float64)

    steps = np.arange(1, CURVE_STEPS) * (2 / CURVE_STEPS)
    # rows: a count, or a sum of sample weights (below 1, or huge)
    doublings = np.arange(1, int(np.log2(max(rows, 1.0)) * STEPS_PER_DOUBLING) + 2)
    crossings = np.concatenate(
        [
            _first_below(along, steps, table.entries),
            _first_below(predicted, 2.0 ** (doublings / STEPS_PER_DOUBLING), table.entries),
            marked[(marked >= 0) & (marked < table.entries)],
            # the lowest score, and the highest (the last entry below all the rows)
            [0, np.searchsorted(rows_below, rows, side="left") - 1],
        ]
    ).astype(np.int64)
    crossings = crossings[crossings < table.entries]
    # An empty grid bin draws the point of the occupied entry above it: step up to that.
    occupied = np.searchsorted(rows_below, rows_below[crossings], side="right") - 1
    occupied = np.sort(occupied[rows_below[occupied] < rows])
    # np.unique's own, without its test for masked arrays: that imports numpy.ma (~10 ms of
    # every report's start-up)
    first = np.ones(occupied.size, dtype=bool)
    np.not_equal(occupied[1:], occupied[:-1], out=first[1:])
    return occupied[first]


def _first_below(falling, marks: np.ndarray, entries: int) -> np.ndarray:
    """For each mark, the first entry where the non-increasing `falling` is below it (entries
    when there is none), by bisection of all the marks at once."""
    low = np.zeros(marks.size, dtype=np.int64)
    high = np.full(marks.size, entries, dtype=np.int64)
    while np.any(low < high):
        middle = (low + high) // 2
        below = falling(np.minimum(middle, entries - 1)) < marks
        high = np.where(below & (low < high), middle, high)
        low = np.where(~below & (low < high), middle + 1, low)
    return low
