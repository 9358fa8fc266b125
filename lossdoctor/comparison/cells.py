"""The paired rows by both models' scores and whether each is right: what the paired bootstrap
of average precision and ECE draws from.

Rows alike in the baseline's score, the candidate's, and whether each model is right (binary:
the label; several classes: the top label, against its probability) are interchangeable in any
statistic of the two models, so a Poisson(count) draw per such joint cell is the per-row
Poisson bootstrap, in distribution (stats.replicates). Past CAPACITY distinct cells the
summary stops counting (`overflow`) and the two metrics go untested: merging neighbouring
scores into coarser cells would hide the rows where two close models differ, and a bound of
that effect (the rows ordered any way within a cell, as stats.replicates bounds a coarse
table) passes the replicates' own spread on every data set tried, from 3,000 rows up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lossdoctor.infer import Prepared
from lossdoctor.infer.decisions import Task

CAPACITY = 1 << 16  # distinct joint cells counted


@dataclass(frozen=True)
class JointCells:
    """Counts of rows by (baseline score, candidate score, 2 * baseline right + candidate
    right), the scores in their own dtype; empty when past the capacity (`overflow`)."""

    first: np.ndarray
    second: np.ndarray
    outcome: np.ndarray  # int8 0..3
    counts: np.ndarray  # int64
    overflow: bool = False

    @classmethod
    def of(cls, first: np.ndarray, second: np.ndarray, first_right, second_right) -> JointCells:
        """One block's cells, CAPACITY rows at a time: a large block stops counting as soon
        as its cells pass the capacity."""
        if np.unique(first[: 2 * CAPACITY]).size > CAPACITY:
            return cls.overflowed()  # as many cells at least, found without sorting the rest
        outcome = 2 * np.asarray(first_right, np.int8) + np.asarray(second_right, np.int8)
        found = None
        for start in range(0, len(outcome), CAPACITY):
            part = slice(start, start + CAPACITY)
            counted = cls(*_tally(first[part], second[part], outcome[part]))
            found = counted if found is None else found.merge(counted)
            if found.overflow:
                break
        return found

    def merge(self, other: JointCells) -> JointCells:
        if self.overflow or other.overflow:
            return self if self.overflow else other
        merged = _tally(
            np.concatenate([self.first, other.first]),
            np.concatenate([self.second, other.second]),
            np.concatenate([self.outcome, other.outcome]),
            np.concatenate([self.counts, other.counts]),
        )
        if merged[3].size > CAPACITY:
            return JointCells.overflowed()
        return JointCells(*merged)

    @classmethod
    def overflowed(cls) -> JointCells:
        empty = np.empty(0)
        return cls(empty, empty, empty.astype(np.int8), empty.astype(np.int64), True)

    def sides(self) -> tuple[Side, Side]:
        """Each model's side of the cells."""
        found = []
        for side, values in enumerate((self.first, self.second)):
            distinct, group = np.unique(values, return_inverse=True)
            scores = distinct.astype(np.float64)
            found.append(Side(group, (self.outcome >> (1 - side)) & 1, scores))
        return found[0], found[1]


class Side(NamedTuple):
    """One model's view of the joint cells: each cell's distinct score (its index, ascending)
    and whether the model is right there; the distinct scores."""

    group: np.ndarray
    right: np.ndarray
    scores: np.ndarray

    def tables(self, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hits and misses by replicate and distinct score, from the joint cells' counts."""
        n_draws, groups = drawn.shape[0], self.scores.size
        offsets = (np.arange(n_draws) * 2 * groups)[:, None]
        index = (self.group * 2 + self.right)[None, :] + offsets
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
