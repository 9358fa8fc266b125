"""The segment tables (lossdoctor.segments.cells, tables, ranks) against each group's rows
tabulated alone, and each group's ROC-AUC and DeLong interval against its own table ranked
alone: the same numbers to the last bit, not within a tolerance."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lossdoctor.segments import cells as cells_module
from lossdoctor.segments import ranks
from lossdoctor.segments.cells import SortedCells, tabulate_groups
from lossdoctor.segments.grids import batch_grids
from lossdoctor.segments.running import RunningBins
from lossdoctor.segments.shared import SharedTables
from lossdoctor.segments.tables import _merged_bins
from lossdoctor.stats.delong import auc_interval
from lossdoctor.value_tables import grid_keys, rank, read, tabulate, tabulate_on_grid
from lossdoctor.value_tables.table import exact


def cells(seed: int, n: int, n_groups: int, dtype=np.float32, ties: bool = False):
    """Rows of n_groups groups (some empty), scores with ties, -0.0 and both labels."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n) * (rng.random(n) < 0.9)  # group 0 the largest
    groups[groups == 2] = 3  # group 2 holds no rows
    is_hit = rng.random(n) < 0.4
    scores = 1 / (1 + np.exp(-(rng.standard_normal(n) + is_hit)))
    if ties:
        scores = np.round(scores, 2)
    scores[:3] = [-0.0, 0.0, 1.0]
    return groups, scores.astype(dtype), is_hit


def alone(groups, scores, is_hit, group):
    """One group's exact table from its rows alone (np.unique)."""
    rows = groups == group
    values, inverse = np.unique(scores[rows] + scores.dtype.type(0), return_inverse=True)
    hits = np.bincount(inverse, weights=is_hit[rows], minlength=len(values)).astype(np.int64)
    counts = np.bincount(inverse, minlength=len(values))
    return exact(values, np.r_[0, np.cumsum(hits)], np.r_[0, np.cumsum(counts)], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("n", [3, 999, 3001])
def test_sorted_cells_are_the_rows_ordered_by_group_score_and_hit(dtype, n, monkeypatch):
    monkeypatch.setattr(cells_module, "BLOCK", 1000)  # keys made and read over several blocks
    groups, scores, is_hit = cells(9, n, 6, dtype)
    found = SortedCells.of(groups, scores, is_hit, 6)
    order = np.lexsort((is_hit, scores + dtype(0), groups))
    assert found.scores.dtype == dtype
    assert np.array_equal(found.scores, scores[order] + dtype(0))  # -0.0 as 0.0
    assert np.array_equal(found.is_hit, is_hit[order])
    assert np.array_equal(found.starts, np.r_[0, np.cumsum(np.bincount(groups, minlength=6))])
    none = SortedCells.of(groups[:0], scores[:0], is_hit[:0], 6)
    assert len(none.scores) == 0 and not none.starts.any()


@pytest.mark.parametrize("ties", [False, True])
def test_sorted_cells_hold_each_groups_entries_merged_or_not(ties):
    groups, scores, is_hit = cells(0, 3000, 6, ties=ties)
    half = len(scores) // 2
    one = SortedCells.of(groups, scores, is_hit, 6)
    merged = SortedCells.of(groups[:half], scores[:half], is_hit[:half], 6).merge(
        SortedCells.of(groups[half:], scores[half:], is_hit[half:], 6), None
    )
    for tables in (one, merged, one.entries()):
        for group in range(6):
            _, hits_before, rows_before = tables.cumulative_counts(group, group + 1)
            expected = alone(groups, scores, is_hit, group)
            np.testing.assert_array_equal(tables.entry_values(group, group + 1), expected.values)
            np.testing.assert_array_equal(hits_before, expected.hits_below)
            np.testing.assert_array_equal(rows_before, expected.rows_below)


def test_a_batch_of_one_group_sorts_as_a_batch_of_many():
    _, scores, is_hit = cells(1, 2000, 1)
    groups = np.full(len(scores), 4)
    one = SortedCells.of(groups, scores, is_hit, 5)
    keyed = SortedCells.of(np.r_[0, groups], np.r_[scores[:1], scores], np.r_[False, is_hit], 5)
    np.testing.assert_array_equal(one.scores, keyed.scores[1:])
    np.testing.assert_array_equal(np.diff(one.starts)[4], np.diff(keyed.starts)[4])
    hits_before = one.cumulative_counts(4, 5)[1]
    np.testing.assert_array_equal(hits_before, alone(groups, scores, is_hit, 4).hits_below)


@pytest.mark.parametrize("bits", [4, 9])
def test_sorted_cells_on_a_grid_count_each_groups_bins(bits):
    groups, scores, is_hit = cells(2, 3000, 5)
    sorted_cells = SortedCells.of(groups, scores, is_hit, 5)
    grid = sorted_cells.on_grid(bits)
    expected = sorted_cells.entries().on_grid(bits)  # GroupTables: counted after a sort
    for column in ("groups", "values", "hits", "rows"):
        np.testing.assert_array_equal(getattr(grid, column), getattr(expected, column))


def _ranked_alone(groups, scores, is_hit, group, confidence=0.9):
    table = alone(groups, scores, is_hit, group)
    if not table.rows:
        return None, None
    ranking = rank(table)
    found = None
    if ranking.roc_auc is not None:
        found = auc_interval(table, confidence, ranking.roc_auc_bound, ranking.roc_auc)
    return ranking.roc_auc, None if found is None else found[0]


@pytest.mark.parametrize(
    "dtype, ties", [(np.float32, False), (np.float32, True), (np.float64, True)]
)
@pytest.mark.parametrize("chunk", [1, 700, 1 << 16])
def test_every_groups_auc_and_interval_are_its_own_tables_to_the_last_bit(
    dtype, ties, chunk, monkeypatch
):
    monkeypatch.setattr(ranks, "CHUNK", chunk)
    groups, scores, is_hit = cells(3, 4000, 7, dtype, ties)
    tables = tabulate_groups(groups, scores, is_hit, 7)
    found = list(ranks.group_rankings(tables, 7, 0.9, intervals=True))
    for group, ranking in enumerate(found):
        auc, interval = _ranked_alone(groups, scores, is_hit, group)
        assert (ranking.roc_auc, ranking.interval) == (auc, interval)
        if auc is not None:
            rows = groups == group
            assert auc == pytest.approx(roc_auc_score(is_hit[rows], scores[rows]), rel=1e-12)


def test_a_group_of_more_entries_than_a_block_is_summed_block_by_block(monkeypatch):
    """DeLong's sums are added block by block as held_entries splits a table: a group past
    one block gives its own table's interval still."""
    for module in (ranks, read):
        monkeypatch.setattr(module, "BLOCK", 64)
    groups, scores, is_hit = cells(4, 3000, 4)
    found = list(ranks.group_rankings(SortedCells.of(groups, scores, is_hit, 4), 4, 0.95, True))
    for group, ranking in enumerate(found):
        assert (ranking.roc_auc, ranking.interval) == _ranked_alone(
            groups, scores, is_hit, group, 0.95
        )


@pytest.mark.parametrize("squash", [False, True])
def test_a_batch_of_one_segment_shares_the_batchs_tables(squash):
    """The whole batch's tables, as a segment's, hold what tabulating its rows gives, alone
    and merged with other batches past the capacity (on a grid)."""
    _, scores, is_hit = cells(5, 3000, 1, ties=True)
    if squash:
        scores = (scores - 0.5) * 20  # logits
    ones = np.zeros(len(scores), dtype=np.int64)
    shared = SharedTables.of([tabulate(scores, is_hit, squash=squash)])
    tabulated = SortedCells.of(ones, scores, is_hit, 1, squash)
    for x, y in zip(shared.cumulative_counts(0, 1), tabulated.cumulative_counts(0, 1), strict=True):
        np.testing.assert_array_equal(x, y)
    for bits in (5, 12):
        for column in ("groups", "values", "hits", "rows"):
            np.testing.assert_array_equal(
                getattr(shared.on_grid(bits), column), getattr(tabulated.on_grid(bits), column)
            )
    other = SortedCells.of(ones[:500] + 1, scores[:500], is_hit[:500], 2, squash)
    merged = shared.regrouped(np.array([0]), 1, 2).merge(other, 50)
    expected = tabulated.regrouped(np.array([0]), 1, 2).merge(other, 50)
    assert merged.is_grid and expected.is_grid
    for group in (0, 1):
        np.testing.assert_array_equal(
            merged.table(group).hits_below, expected.table(group).hits_below
        )
        np.testing.assert_array_equal(
            merged.table(group).rows_below, expected.table(group).rows_below
        )


def _assert_bins_count(table, keys, is_hit):
    """Each bin of a dense grid table holds the rows (and hits) whose grid keys are its own."""
    rows, hits = (np.diff(table.rows_below), np.diff(table.hits_below))
    np.testing.assert_array_equal(rows, np.bincount(keys, minlength=table.entries))
    np.testing.assert_array_equal(hits, np.bincount(keys[is_hit], minlength=table.entries))


def test_a_streams_batches_of_one_group_in_a_row_count_each_bin_once():
    """Batches of one group in a row are added into that group's bins over the whole grid
    (RunningBins), one group at a time: each group's bins count its rows, as the grid keys
    of all its scores at once say."""
    rng = np.random.default_rng(6)
    order = [0, 0, 0, 1, 1, 1, 0, 2, 2]  # group 0 comes back after group 1
    batches = [(g, rng.random(400).astype(np.float32), rng.random(400) < 0.3) for g in order]
    merged = None
    for group, scores, is_hit in batches:
        batch = SortedCells.of(np.full(400, group), scores, is_hit, 3)
        merged = batch if merged is None else merged.merge(batch, 500)
    assert merged.is_grid
    for group in range(3):
        scores = np.concatenate([s for g, s, _ in batches if g == group])
        is_hit = np.concatenate([h for g, _, h in batches if g == group])
        _assert_bins_count(merged.table(group), grid_keys(scores, merged.bits), is_hit)


@pytest.mark.parametrize("block", [64, 1 << 20])
def test_every_groups_auc_on_a_grid_is_its_dense_tables_with_the_bound(block, monkeypatch):
    """On a grid the occupied bins alone are read: the AUC, its bound and DeLong's interval
    of each group's whole (dense) grid table, block by block, to the last bit."""
    for module in (ranks, read):
        monkeypatch.setattr(module, "BLOCK", block)
    groups, scores, is_hit = cells(7, 4000, 4, ties=True)
    half = len(scores) // 2
    grid = SortedCells.of(groups[:half], scores[:half], is_hit[:half], 4).merge(
        SortedCells.of(groups[half:], scores[half:], is_hit[half:], 4), 100
    )
    assert grid.is_grid
    found = list(ranks.group_rankings(grid, 4, 0.95, intervals=True))
    for group, ranking in enumerate(found):
        table = grid.table(group)
        if not table.rows:
            continue
        expected = rank(table)
        interval = auc_interval(table, 0.95, expected.roc_auc_bound, expected.roc_auc)
        assert ranking.on_grid
        assert (ranking.roc_auc, ranking.roc_auc_bound) == (
            expected.roc_auc,
            expected.roc_auc_bound,
        )
        assert ranking.interval == (None if interval is None else interval[0])


def _stream(seed: int, files: list[list[int]], rows: int) -> list[tuple]:
    """A stream's batches of `rows` rows, each of the files listed for it in a row: float32
    scores, a fifth of them tied within and across batches, and their hits."""
    rng = np.random.default_rng(seed)
    batches = []
    for held in files:
        groups = np.repeat(held, rows // len(held))
        scores = rng.random(len(groups)).astype(np.float32)
        scores[: rows // 5] = np.round(scores[: rows // 5], 1)
        batches.append((groups, scores, rng.random(len(groups)) < 0.4))
    return batches


def test_a_streams_files_merge_exactly_then_on_a_grid_each_counting_its_own_rows():
    """A stream's batches in order: of one file (the batch's own tables) or across two (its
    rows in runs). Two batches of one file merge exactly while they fit, past the capacity
    both go on the grid, and later batches add into their files' bins (a file's running
    bins too, from a batch across two files): each file's table counts its own rows."""
    batches = _stream(8, [[0], [0], [0], [0, 1], [1], [1], [1, 2], [2]], 300)

    def tables(groups, scores, is_hit):
        if len(set(groups)) > 1:
            return SortedCells.of(groups, scores, is_hit, 3)
        shared = SharedTables.of([tabulate(scores, is_hit)])
        return shared.regrouped(np.array([groups[0]]), 1, 3)

    exact_two = tables(*batches[0]).merge(tables(*batches[1]), None)
    both = [np.concatenate(c) for c in zip(*batches[:2], strict=True)]
    expected = alone(*both, 0)
    np.testing.assert_array_equal(exact_two.table(0).values, expected.values)
    np.testing.assert_array_equal(exact_two.table(0).hits_below, expected.hits_below)
    np.testing.assert_array_equal(exact_two.table(0).rows_below, expected.rows_below)

    merged = None
    for batch in batches:
        merged = tables(*batch) if merged is None else merged.merge(tables(*batch), 700)
    assert merged.is_grid
    for group in range(3):
        rows = [(s[g == group], h[g == group]) for g, s, h in batches]
        scores, is_hit = (np.concatenate(c) for c in zip(*rows, strict=True))
        _assert_bins_count(merged.table(group), grid_keys(scores, merged.bits), is_hit)


def test_batches_put_on_the_grid_as_summarised_count_each_files_own_rows():
    """Once the files' tables are on a grid, a batch of one file takes the batch's own grid
    table and a batch across two tabulates each file's run on the grid (segments.grids):
    merged in order, each file's bins count its own rows, as the grid keys of all its scores
    at once say."""
    batches = _stream(9, [[0], [0], [0, 1], [1], [1, 2], [2], [2, 3]], 400)
    first = SharedTables.of([tabulate(batches[0][1], batches[0][2])])
    merged = first.merge(first.regrouped(np.array([0]), 1, 1), 300)  # two batches of file 0
    assert merged.is_grid
    for groups, scores, is_hit in batches[2:]:
        codes, values = np.unique(groups, return_inverse=True)[::-1]
        own = tabulate_on_grid(scores, is_hit, merged.bits, np.zeros(0, np.float32))[0]
        gridded = batch_grids(codes, len(values), scores, is_hit, [own], merged.bits)
        merged = merged.merge(gridded.regrouped(values, 1, 4), 300)
    batches[1] = batches[0]
    for group in range(4):
        rows = [(s[g == group], h[g == group]) for g, s, h in batches]
        scores, is_hit = (np.concatenate(c) for c in zip(*rows, strict=True))
        _assert_bins_count(merged.table(group), grid_keys(scores, merged.bits), is_hit)


@pytest.mark.parametrize("own_table", [True, False])
@pytest.mark.parametrize("sizes", [(50, 900, 50), (700, 20, 280), (1, 999)])
def test_a_batch_across_files_counts_each_files_bins_on_the_grid(sizes, own_table):
    """A batch across a few files, each file's rows a run: each file's grid bins count the
    hits and rows whose grid keys are its own, whether its longest run is read off the
    batch's own grid table (less the other runs) or every run is counted alone."""
    rng = np.random.default_rng(len(sizes) + sum(sizes[:1]))
    codes = np.repeat(np.arange(len(sizes)), sizes)
    scores = rng.random(len(codes)).astype(np.float32)
    scores[::7] = np.round(scores[::7], 2)  # ties within and across the files
    scores[:2] = [0.0, 1.0]
    is_hit = rng.random(len(codes)) < 0.3
    own = tabulate_on_grid(scores, is_hit, 12, np.zeros(0, np.float32))[0]
    gridded = batch_grids(codes, len(sizes), scores, is_hit, [own] if own_table else [], 12)
    assert sorted(gridded.grids) == list(range(len(sizes)))
    for code in range(len(sizes)):
        rows = codes == code
        bins, hits, counts = gridded.grids[code]
        keys = grid_keys(scores[rows], 12)
        np.testing.assert_array_equal(bins, np.unique(keys))
        np.testing.assert_array_equal(counts, np.bincount(keys)[bins])
        np.testing.assert_array_equal(
            hits, np.bincount(keys[is_hit[rows]], minlength=len(np.bincount(keys)))[bins]
        )


def test_rows_out_of_runs_or_scores_off_the_grid_are_not_put_on_it_as_summarised():
    """batch_grids declines (None) where the merge must tabulate: segments interleaved, or
    scores that are not float32 probabilities."""
    scores = np.linspace(0, 1, 10, dtype=np.float32)
    is_hit = np.arange(10) % 2 == 0
    interleaved = np.arange(10) % 2
    assert batch_grids(interleaved, 2, scores, is_hit, [], 15) is None
    runs = np.repeat([0, 1], 5)
    assert batch_grids(runs, 2, scores * 2, is_hit, [], 15) is None  # above 1: logits
    assert batch_grids(runs, 2, scores.astype(np.float64), is_hit, [], 15) is None
    assert set(batch_grids(runs, 2, scores, is_hit, [], 15).grids) == {0, 1}


def test_a_groups_bins_past_two_billion_rows_keep_their_counts():
    """Bins kept in 32 bits while their counts fit add up in 64 bits: a file of more rows
    than int32 holds, merged or added into its running counts, loses none."""
    near = 2**31 - 10
    a = (
        np.array([3, 7], dtype=np.int32),
        np.array([near, 1], np.int32),
        np.array([near, 2], np.int32),
    )
    b = (np.array([3, 9]), np.array([20, 0]), np.array([30, 4]))
    bins, hits, rows = _merged_bins(a, b)
    assert (bins.tolist(), hits.tolist(), rows.tolist()) == (
        [3, 7, 9],
        [near + 20, 1, 0],
        [near + 30, 2, 4],
    )
    running = RunningBins(a, 16)
    running.add(b)
    bins, hits, rows = running.sparse()
    assert (bins.tolist(), hits.tolist(), rows.tolist()) == (
        [3, 7, 9],
        [near + 20, 1, 0],
        [near + 30, 2, 4],
    )
    assert RunningBins(b, 16).sparse()[2].dtype == np.int32  # fits: 32 bits
