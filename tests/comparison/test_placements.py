"""DeLong's placements read from the sorts that build the paired tables: the same rows order as a
stable argsort, the same tables as value_tables.tabulate, and the same sums, to the last bit, as
the second pass that finds each row in the merged tables."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from lossdoctor.comparison.pairing import PairedBatch
from lossdoctor.comparison.placements import Ranked, placed_rows, sort_rows
from lossdoctor.comparison.summary import Sides, placement_pass, summarize_pair
from lossdoctor.engines.local import InMemory
from lossdoctor.io import Batch, from_arrays
from lossdoctor.pipeline import decide
from lossdoctor.value_tables import tabulate
from tests.comparison.helpers import multiclass_models, two_models


def scores_with_ties(dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(size=2000), 1).astype(dtype)
    scores[:5] = [-0.0, 0.0, -0.0, np.inf, -np.inf]
    return scores, rng.random(2000) < 0.4


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_rows_sort_by_score_then_misses_first_then_row(dtype):
    scores, is_hit = scores_with_ties(dtype)
    order, ordered, hit = sort_rows(scores, is_hit)
    np.testing.assert_array_equal(ordered, np.sort(scores))
    assert ordered.dtype == scores.dtype
    np.testing.assert_array_equal(hit, is_hit[order])
    np.testing.assert_array_equal(scores[order], ordered)
    # each row once; within a score, as a stable sort by (score, hit) lists them
    if dtype != np.float64:
        np.testing.assert_array_equal(order, np.lexsort((np.arange(2000), is_hit, scores)))
    else:
        np.testing.assert_array_equal(order, np.argsort(scores, kind="stable"))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_placed_table_is_the_tabulated_one(dtype):
    scores, is_hit = scores_with_ties(dtype)
    made = placed_rows(Ranked(scores, False), is_hit, 15)
    want = tabulate(scores, is_hit, bits=15)
    np.testing.assert_array_equal(made.table.values, want.values)
    for got, expected in (
        (made.table.hits_below, want.hits_below),
        (made.table.rows_below, want.rows_below),
    ):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_doubled_placements_count_the_other_side_below_and_tied(dtype, monkeypatch):
    scores, is_hit = scores_with_ties(dtype)
    # blocks of 64 rows: runs of ties cross the blocks' edges
    monkeypatch.setattr("lossdoctor.comparison.placements.BLOCK_ROWS", 64)
    doubled = placed_rows(Ranked(scores, False), is_hit, 15).doubled
    value = scores.astype(np.float64)
    for row in range(0, scores.size, 7):
        other = value[~is_hit] if is_hit[row] else value[is_hit]
        beyond = other < value[row] if is_hit[row] else other > value[row]
        expected = 2 * np.count_nonzero(beyond) + np.count_nonzero(other == value[row])
        assert doubled[row] == expected


def in_memory_and_second_pass(y, first, second):
    def engine(scores):
        return InMemory(from_arrays(y, scores, source="x", format="array"))

    engines = engine(first), engine(second)
    plans = [decide(e) for e in engines]
    pair = PairedBatch(engines[0].batch, engines[1].batch)
    sides = Sides(*plans, 0.5, 0, 0)
    summary = summarize_pair(sides, pair)
    return summary.placements, placement_pass(sides, summary.tables)(pair)


@pytest.mark.parametrize("case", ["ties", "float32", "logits", "3 classes", "5 classes"])
def test_sums_from_the_sorts_are_the_second_pass_sums_to_the_bit(case):
    if case.endswith("classes"):
        y, first, second = multiclass_models(3000, int(case[0]), seed=2)
    else:
        y, first, second = two_models(3000, 6, ties=2 if case == "ties" else None)
        if case == "float32":
            first, second = first.astype(np.float32), second.astype(np.float32)
        if case == "logits":
            first = np.log(first / (1 - first))
    from_sorts, second_pass = in_memory_and_second_pass(y, first, second)
    assert from_sorts is not None
    assert from_sorts == second_pass


def test_the_sums_are_taken_in_the_first_pass_in_memory_only():
    y, first, _ = two_models(500, 1)
    batch = Batch(from_arrays(y, first, source="x", format="array"), 0)
    plan = decide(InMemory(batch.predictions))
    pair = PairedBatch(batch, batch)
    streamed = Sides(plan, plan, 0.5, 0, 0, capacity=1000)
    assert summarize_pair(streamed, pair).placements is None
    merged = partial(summarize_pair, Sides(plan, plan, 0.5, 0, 0))
    assert merged(pair).merge(merged(pair)).placements is None
