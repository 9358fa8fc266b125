"""The joint cells of the label metrics held sparse: the same counts, McNemar's pairs and
bootstrap replicates as the full K**3 table."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoctor.comparison import labels
from lossdoctor.comparison.labels import LabelCells, cell_codes, replicate_counts
from lossdoctor.metrics.confusion import count_scores, stacked_scores
from lossdoctor.stats.bootstrap import cell_replicates


def rows(n_classes: int, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """True classes and two models' predictions, right about two times in three."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, n_classes, n)
    guesses = []
    for _ in range(2):
        wrong = rng.random(n) < 0.35
        guesses.append(np.where(wrong, rng.integers(0, n_classes, n), true))
    return true, *guesses


def dense(n_classes: int, true, first, second) -> np.ndarray:
    joint = np.zeros((n_classes,) * 3, dtype=np.int64)
    np.add.at(joint, (true, first, second), 1)
    return joint


@pytest.mark.parametrize("n_classes", [2, 5, 41])  # 41**3 cells: counted by sorting the codes
def test_cells_are_the_nonzero_counts_of_the_full_table_whatever_the_split(n_classes):
    true, first, second = rows(n_classes, 3000)
    joint = dense(n_classes, true, first, second).ravel()
    codes = cell_codes(n_classes, true, first, second)
    whole = LabelCells.of(n_classes, codes)
    split = LabelCells.empty(n_classes)
    for part in np.array_split(codes, 7):
        split = split.merge(LabelCells.of(n_classes, part))
    for cells in (whole, split):
        np.testing.assert_array_equal(cells.codes, np.flatnonzero(joint))
        np.testing.assert_array_equal(cells.counts, joint[joint > 0])
    assert labels._COUNTED_CELLS < 41**3


def test_discordant_pairs_are_the_rows_only_one_model_gets_right():
    true, first, second = rows(4, 2000, seed=3)
    cells = LabelCells.of(4, cell_codes(4, true, first, second))
    expected = (
        int(np.sum((first == true) & (second != true))),
        int(np.sum((second == true) & (first != true))),
    )
    assert cells.discordant() == expected


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_replicates_of_the_occurring_cells_are_those_of_every_cell_to_the_bit(n_classes):
    """An empty cell draws 0 and takes no counter: the sparse draw is the dense one."""
    true, first, second = rows(n_classes, 500, seed=n_classes)
    joint = dense(n_classes, true, first, second)
    dense_draw = cell_replicates(joint, 300, seed=11)
    cells = LabelCells.of(n_classes, cell_codes(n_classes, true, first, second))
    support, baseline, candidate = replicate_counts(cells, cell_replicates(cells.counts, 300, 11))
    for (right, predicted), confusions in (
        (baseline, dense_draw.sum(axis=3)),
        (candidate, dense_draw.sum(axis=2)),
    ):
        sparse_scores = count_scores(right, support, predicted)
        for name, values in stacked_scores(confusions).items():
            np.testing.assert_array_equal(sparse_scores[name], values, err_msg=name)
