"""The assignment solver against scipy.optimize.linear_sum_assignment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from lossdoctor.assignment import best_assignment


def total(score: np.ndarray, columns: np.ndarray) -> float:
    return float(score[np.arange(len(score)), columns].sum())


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 12, 30, 80])
def test_the_optimum_equals_scipys_on_random_tables(k):
    rng = np.random.default_rng(k)
    for _ in range(20):
        score = rng.integers(0, 15, size=(k, k)).astype(float)  # many ties
        columns = best_assignment(score)
        assert sorted(columns.tolist()) == list(range(k))
        rows, expected = linear_sum_assignment(score, maximize=True)
        assert total(score, columns) == total(score, expected[np.argsort(rows)])


def test_real_valued_and_negative_scores():
    rng = np.random.default_rng(1)
    score = rng.normal(size=(50, 50)) * 1e3
    _, expected = linear_sum_assignment(score, maximize=True)
    assert total(score, best_assignment(score)) == pytest.approx(total(score, expected), abs=1e-6)


def test_a_permuted_confusion_matrix_is_found_exactly():
    rng = np.random.default_rng(2)
    permutation = rng.permutation(500)
    confusion = rng.poisson(0.5, size=(500, 500)).astype(float)
    confusion[np.arange(500), permutation] += 40
    np.testing.assert_array_equal(best_assignment(confusion), permutation)


def test_a_hand_computed_case():
    # rows 0 and 1 both prefer column 0; the best total gives row 0 column 1 (5 + 9 > 8 + 4)
    score = np.array([[8.0, 5.0, 0.0], [9.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(best_assignment(score), [1, 0, 2])
