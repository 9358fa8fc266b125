"""The joint cells the paired bootstrap draws from: counted exactly up to the capacity, and
found overflowing past it, whether the baseline's scores alone pass it or only the pairs do."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoctor.comparison import cells
from lossdoctor.comparison.cells import JointCells


def direct_count(first, second, outcome) -> dict:
    found: dict = {}
    for key in zip(first.tolist(), second.tolist(), outcome.tolist(), strict=True):
        found[key] = found.get(key, 0) + 1
    return found


def test_cells_under_the_capacity_are_the_rows_counted_one_by_one(monkeypatch):
    monkeypatch.setattr(cells, "CAPACITY", 64)
    rng = np.random.default_rng(5)
    first, second = rng.integers(0, 4, 300) / 4, rng.integers(0, 3, 300) / 3
    first_right, second_right = rng.random(300) < 0.5, rng.random(300) < 0.7
    made = JointCells.of(first, second, first_right, second_right)
    assert not made.overflow
    outcome = 2 * first_right.astype(int) + second_right
    got = dict(
        zip(
            zip(made.first.tolist(), made.second.tolist(), made.outcome.tolist(), strict=True),
            made.counts.tolist(),
            strict=True,
        )
    )
    assert got == direct_count(first, second, outcome)


@pytest.mark.parametrize("distinct_baseline", [True, False])
def test_past_the_capacity_the_cells_overflow(monkeypatch, distinct_baseline):
    monkeypatch.setattr(cells, "CAPACITY", 64)
    rng = np.random.default_rng(6)
    n = 500
    # past 64 cells either by the baseline's scores alone, or only by the pairs of scores
    first = rng.random(n) if distinct_baseline else rng.integers(0, 8, n) / 8
    second = rng.integers(0, 8, n) / 8
    right = rng.random(n) < 0.5
    assert len(direct_count(first, second, 2 * right.astype(int))) > 64
    assert JointCells.of(first, second, right, right).overflow
