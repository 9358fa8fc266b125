"""The paired rows by true class and both models' predicted classes: what the paired bootstrap
of the label metrics (F1, MCC, balanced accuracy) draws from, and McNemar's discordant pairs.

Only the cells that occur are held: K classes make K**3 cells, most of them empty (a thousand
classes would be a billion), while the rows fill at most one each. An empty cell draws 0 and
takes no counter (stats.draws), so drawing the occurring cells alone, in the order of their
codes, gives the very replicates a draw of every cell would (stats.bootstrap.cell_replicates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Up to this many cells (K**3) a block's cells are counted by bincount over all of them, past it
# by sorting the block's codes: the same cells, whichever is cheaper.
_COUNTED_CELLS = 1 << 16


def cell_codes(
    n_classes: int, true: np.ndarray, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """Each row's cell, given its true class and both models' predicted classes."""
    return (true.astype(np.int64) * n_classes + first) * n_classes + second


def cell_classes(n_classes: int, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The true class, the baseline's and the candidate's predicted class of each cell_code."""
    k = n_classes
    return codes // (k * k), codes // k % k, codes % k


@dataclass(frozen=True)
class LabelCells:
    """Counts of rows by cell, the cells that occur only: a cell's code is
    (true class * K + baseline's predicted class) * K + candidate's, ascending."""

    n_classes: int
    codes: np.ndarray  # int64, ascending, distinct
    counts: np.ndarray  # int64, positive

    @classmethod
    def of(cls, n_classes: int, codes: np.ndarray) -> LabelCells:
        """The cells of some rows, given each row's cell_code."""
        k = n_classes
        if k**3 <= _COUNTED_CELLS:
            counts = np.bincount(codes, minlength=k**3)
            present = np.flatnonzero(counts)
            return cls(k, present.astype(np.int64), counts[present].astype(np.int64))
        codes, counts = np.unique(codes, return_counts=True)
        return cls(k, codes, counts.astype(np.int64))

    @classmethod
    def empty(cls, n_classes: int) -> LabelCells:
        return cls(n_classes, np.empty(0, np.int64), np.empty(0, np.int64))

    def merge(self, other: LabelCells) -> LabelCells:
        codes = np.union1d(self.codes, other.codes)
        counts = np.zeros(codes.size, dtype=np.int64)
        for part in (self, other):
            counts[np.searchsorted(codes, part.codes)] += part.counts
        return LabelCells(self.n_classes, codes, counts)

    def classes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each cell's true class, the baseline's predicted class and the candidate's."""
        return cell_classes(self.n_classes, self.codes)

    def discordant(self) -> tuple[int, int]:
        """The rows only the baseline predicts right, and those only the candidate does."""
        true, first, second = self.classes()
        only_first = (first == true) & (second != true)
        only_second = (second == true) & (first != true)
        return int(self.counts[only_first].sum()), int(self.counts[only_second].sum())


def replicate_counts(
    cells: LabelCells, drawn: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """From each replicate's draw of the cells (replicates, cells): each class's rows (replicates,
    K), and for the baseline and the candidate each class's right predictions and predictions."""
    true, first, second = cells.classes()
    support = _by_class(drawn, true, cells.n_classes)
    sides = []
    for predicted in (first, second):
        right = predicted == true
        sides.append(
            (
                _by_class(drawn[:, right], true[right], cells.n_classes),
                _by_class(drawn, predicted, cells.n_classes),
            )
        )
    return support, sides[0], sides[1]


def _by_class(drawn: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """The draws summed by class (replicates, K): a sum of whole numbers, exact in any order."""
    order = np.argsort(classes, kind="stable")
    keys, starts = np.unique(classes[order], return_index=True)
    found = np.zeros((drawn.shape[0], n_classes))
    if keys.size:
        found[:, keys] = np.add.reduceat(drawn[:, order], starts, axis=1)
    return found
