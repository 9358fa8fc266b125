"""The paired rows by both models' scores and whether each is right: what the paired bootstrap
of average precision and ECE draws from.

Rows alike in the baseline's score, the candidate's, and whether each model is right (binary:
the label; several classes: the top label, against the confidence) are interchangeable in any
statistic of the two models, so a Poisson(count) draw per such joint cell is the per-row
Poisson bootstrap, in distribution (stats.replicates). The distinct cells are kept exactly up
to CAPACITY; past it, the scores are read on a coarse grid (value_tables.grid_keys, GRID_BITS)
whose cells hold rows of nearby scores, and the replicates are then bounded as stats.replicates
bounds a coarse table's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lossdoctor.infer import Prepared
from lossdoctor.infer.decisions import Task
from lossdoctor.value_tables import grid_keys, grid_size
from lossdoctor.value_tables.table import bin_floor

CAPACITY = 1 << 16  # distinct joint cells kept exactly
GRID_BITS = 2  # 506 bins per model past it: the cells of both and the outcomes stay few
_BINS = grid_size(GRID_BITS)


@dataclass(frozen=True)
class JointCells:
    """Counts of rows by (baseline score, candidate score, 2 * baseline right + candidate
    right). Exact: the scores themselves, in their dtype; on the grid: their bins."""

    first: np.ndarray
    second: np.ndarray
    outcome: np.ndarray  # int8 0..3
    counts: np.ndarray  # int64
    grid: bool = False

    @classmethod
    def of(cls, first: np.ndarray, second: np.ndarray, first_right, second_right) -> JointCells:
        """One batch's cells: exact while its rows fit the capacity, else on the grid."""
        outcome = 2 * np.asarray(first_right, np.int8) + np.asarray(second_right, np.int8)
        first, second = np.asarray(first), np.asarray(second)
        if first.size > CAPACITY:
            keys = grid_keys(first, GRID_BITS), grid_keys(second, GRID_BITS)
            return cls(*_tally_grid(*keys, outcome), grid=True)
        # the scores in their own dtype: on the grid later, they take the bins a batch too
        # large to be exact would have given them
        return cls(*_tally(first, second, outcome))

    def merge(self, other: JointCells) -> JointCells:
        a, b = self, other
        if a.grid != b.grid or (not a.grid and a.counts.size + b.counts.size > CAPACITY):
            a, b = a.on_grid(), b.on_grid()
        tally = _tally_grid if a.grid else _tally
        merged = JointCells(
            *tally(
                np.concatenate([a.first, b.first]),
                np.concatenate([a.second, b.second]),
                np.concatenate([a.outcome, b.outcome]),
                np.concatenate([a.counts, b.counts]),
            ),
            grid=a.grid,
        )
        return merged if merged.grid or merged.counts.size <= CAPACITY else merged.on_grid()

    def on_grid(self) -> JointCells:
        if self.grid:
            return self
        first, second = (grid_keys(s, GRID_BITS) for s in (self.first, self.second))
        return JointCells(*_tally_grid(first, second, self.outcome, self.counts), grid=True)

    def sides(self, max_cells: int) -> tuple[np.ndarray, tuple[Side, Side], bool]:
        """The cells' counts, and each model's side of them, after merging neighbouring
        scores (each model's distinct scores or bins in pairs, then fours...) until at most
        max_cells joint cells remain; and whether no cell was merged (exact)."""
        keys, ranges = [], []
        for values in (self.first, self.second):
            distinct, key = np.unique(values, return_inverse=True)
            keys.append(key.astype(np.int64))
            ranges.append(_ranges(distinct, self.grid))
        shift = 0
        while True:
            width = (int(keys[1].max(initial=0)) >> shift) + 1
            joint = ((keys[0] >> shift) * width + (keys[1] >> shift)) * 4 + self.outcome
            cells, inverse = np.unique(joint, return_inverse=True)
            if cells.size <= max_cells:
                break
            shift += 1
        counts = np.bincount(inverse, self.counts).astype(np.float64)
        outcome, pairs = cells % 4, cells // 4
        step = 1 << shift
        sides = []
        for side, (key, (low, high)) in enumerate(
            zip((pairs // width, pairs % width), ranges, strict=True)
        ):
            tops = np.minimum(np.arange(0, low.size, step) + step - 1, low.size - 1)
            right = (outcome >> (1 - side)) & 1
            sides.append(Side(key, right, low[::step], high[tops]))
        return counts, (sides[0], sides[1]), shift == 0 and not self.grid


class Side(NamedTuple):
    """One model's view of the joint cells: each cell's group of scores (ascending) and
    whether the model is right there; each group's lowest and highest probability."""

    group: np.ndarray
    right: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def tables(self, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hits and misses by replicate and group, from the joint cells' drawn counts."""
        n_draws, groups = drawn.shape[0], self.low.size
        index = (self.group * 2 + self.right)[None, :] + (np.arange(n_draws) * 2 * groups)[:, None]
        table = np.bincount(index.ravel(), drawn.ravel(), minlength=n_draws * 2 * groups)
        table = table.reshape(n_draws, groups, 2)
        return table[:, :, 1], table[:, :, 0]


def scored_cells(task: Task, a: Prepared, b: Prepared) -> JointCells | None:
    """A block's cells: binary, P(class 1) and the label; several classes, the top label's
    probability and whether it is the true class."""
    if not len(a.y):
        return None
    if task == Task.BINARY:
        return JointCells.of(a.proba, b.proba, a.y, b.y)
    right = [np.argmax(p.proba, axis=1) == p.y for p in (a, b)]
    return JointCells.of(a.proba.max(axis=1), b.proba.max(axis=1), *right)


def _tally(first, second, outcome, counts=None) -> tuple:
    """The distinct (first, second, outcome) and their summed counts (None: one row each)."""
    order = np.lexsort((outcome, second, first))
    first, second, outcome = first[order], second[order], outcome[order]
    new = np.r_[
        True,
        (first[1:] != first[:-1]) | (second[1:] != second[:-1]) | (outcome[1:] != outcome[:-1]),
    ]
    starts = np.flatnonzero(new)
    summed = (
        np.diff(np.r_[starts, first.size]).astype(np.int64)
        if counts is None
        else np.add.reduceat(counts[order], starts)
    )
    return first[starts], second[starts], outcome[starts], summed


def _tally_grid(first, second, outcome, counts=None) -> tuple:
    """_tally of grid bins, by one count over every (bin, bin, outcome): no sort of the rows."""
    joint = (first.astype(np.int64) * _BINS + second) * 4 + outcome
    summed = np.bincount(joint, counts, minlength=_BINS * _BINS * 4)
    occupied = np.flatnonzero(summed)
    pairs = occupied // 4
    return (
        pairs // _BINS,
        pairs % _BINS,
        (occupied % 4).astype(np.int8),
        summed[occupied].astype(np.int64),
    )


def _ranges(distinct: np.ndarray, grid: bool) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest probability of each distinct score, or of each grid bin."""
    if not grid:
        return distinct.astype(np.float64), distinct.astype(np.float64)
    bins = distinct.astype(np.int64)
    dtype = np.dtype(np.float64)
    low = bin_floor(bins, GRID_BITS, dtype).astype(np.float64)
    high = np.where(
        bins + 1 < _BINS, bin_floor(np.minimum(bins + 1, _BINS - 1), GRID_BITS, dtype), 1.0
    )
    return low, high.astype(np.float64)
