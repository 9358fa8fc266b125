"""Value tables of many groups at once (a group: a segment's score column, segment * columns
+ column), a batch's from one sort, not one per group. Unweighted float32 (or narrower) scores
are kept as themselves, each group's misses and hits sorted (SortedSides: four bytes a row,
read as the whole data's table is); other scores as the distinct (group, score) pairs and
their counts (GroupTables). Past a capacity the scores become grid bins (value_tables.grid_keys)
of as many mantissa bits as keep every group's grid within one table's bins together, kept
group by group (GroupGrids): memory grows with the groups, not the rows, and a batch of one
group merges into that group alone. Merging a grid with a finer one coarsens the finer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Union

import numpy as np

from lossdoctor.value_tables import (
    GRID_BITS,
    ValueTable,
    dense,
    grid_bits,
    grid_keys,
    grid_size,
    tabulate_sides,
)
from lossdoctor.value_tables.table import BLOCK, bin_floor, cumulative, exact, sparse_grid

Tables = Union["GroupTables", "GroupGrids", "SortedSides"]


@dataclass(frozen=True, eq=False)
class GroupTables:
    """Entries ascending by (group, score): exact scores, or grid bins of `bits` bits."""

    groups: np.ndarray  # int64 group of each entry
    values: np.ndarray  # exact: the score; grid: the bin (int64)
    hits: np.ndarray  # hits at the entry: int64, or float64 summed weights
    rows: np.ndarray
    dtype: np.dtype  # of the scores
    bits: int = -1  # -1: exact; else the grid's mantissa bits
    squash: bool = False  # the scores are logits (their probabilities: sigmoid)

    @property
    def is_grid(self) -> bool:
        return self.bits >= 0

    def table(self, group: int) -> ValueTable:
        """The value table of one group (lossdoctor.value_tables), dense on a grid."""
        start, stop = np.searchsorted(self.groups, [group, group + 1])
        hits, rows = self.hits[start:stop], self.rows[start:stop]
        if not self.is_grid:
            values = self.values[start:stop]
            return exact(
                values, cumulative(hits, np.int64), cumulative(rows, np.int64), 0, self.squash
            )
        keys = self.values[start:stop]
        sums = np.zeros(len(keys))
        return dense(sparse_grid(keys, hits, rows, sums, self.bits, self.dtype))

    def entries(self) -> GroupTables:
        return self

    def regrouped(self, new_index: np.ndarray, columns: int, n_segments: int) -> GroupTables:
        """Segment i renumbered new_index[i] (ascending, so the order holds)."""
        if np.array_equal(new_index, np.arange(len(new_index))):
            return self
        segment, column = np.divmod(self.groups, columns)
        groups = new_index[segment] * columns + column
        return GroupTables(
            groups, self.values, self.hits, self.rows, self.dtype, self.bits, self.squash
        )

    def merge(self, other: Tables, capacity: int | None) -> Tables:
        """Both batches' entries; past `capacity` entries, on a grid."""
        a, b = self, other
        if a.is_grid or b.is_grid:
            bits = min(t.bits for t in (a, b) if t.is_grid)
            return GroupGrids.of(a.on_grid(bits)).merge(b, capacity)
        b = b.entries()
        merged = _combined(
            np.concatenate([a.groups, b.groups]),
            np.concatenate([a.values, b.values]),
            np.concatenate([a.hits, b.hits]),
            np.concatenate([a.rows, b.rows]),
        )
        result = GroupTables(*merged, a.dtype, a.bits, a.squash)
        if capacity is not None and len(result.groups) > capacity:
            n_groups = len(np.unique(result.groups))
            return GroupGrids.of(result.on_grid(grid_bits(n_groups, GRID_BITS)))
        return result

    def on_grid(self, bits: int) -> GroupTables:
        """The entries counted in grid bins of `bits` mantissa bits."""
        if self.is_grid and self.bits == bits:
            return self
        if self.is_grid:
            scores = bin_floor(self.values, self.bits, self.dtype)
        else:
            scores = _probabilities(self.values) if self.squash else self.values
        keys = grid_keys(np.asarray(scores, dtype=self.dtype), bits).astype(np.int64)
        merged = _combined(self.groups, keys, self.hits, self.rows)
        return GroupTables(*merged, self.dtype, bits, False)


Bins = tuple[np.ndarray, np.ndarray, np.ndarray]  # one group's grid: bins, hits, rows


@dataclass(frozen=True, eq=False)
class GroupGrids:
    """Grid tables of many groups, each group its own (bins, hits, rows), the bins ascending:
    a batch merged in copies only the groups it holds (a stream's file is one group), where
    one set of arrays of every group would be copied whole by every batch."""

    grids: dict[int, Bins]
    dtype: np.dtype
    bits: int

    is_grid = True

    @classmethod
    def of(cls, tables: GroupTables) -> GroupGrids:
        """The grid GroupTables' entries, group by group."""
        starts = np.flatnonzero(np.r_[True, tables.groups[1:] != tables.groups[:-1]])
        stops = np.r_[starts[1:], len(tables.groups)]
        grids = {
            int(tables.groups[start]): tuple(
                column[start:stop].copy() for column in (tables.values, tables.hits, tables.rows)
            )
            for start, stop in zip(starts, stops, strict=True)
            if stop > start
        }
        return cls(grids, tables.dtype, tables.bits)  # type: ignore[arg-type]

    def table(self, group: int) -> ValueTable:
        """The dense grid table of one group."""
        empty = np.zeros(0, dtype=np.int64)
        bins, hits, rows = self.grids.get(group, (empty, empty, empty))
        return dense(sparse_grid(bins, hits, rows, np.zeros(len(bins)), self.bits, self.dtype))

    def entries(self) -> GroupTables:
        """Every group's bins as one GroupTables."""
        order = sorted(self.grids)
        columns = [[self.grids[g][c] for g in order] for c in range(3)]
        sizes = [len(self.grids[g][0]) for g in order]
        groups = np.repeat(np.array(order, dtype=np.int64), sizes)
        values, hits, rows = (
            np.concatenate(c) if c else np.zeros(0, dtype=np.int64) for c in columns
        )
        return GroupTables(groups, values, hits, rows, self.dtype, self.bits, False)

    def regrouped(self, new_index: np.ndarray, columns: int, n_segments: int) -> GroupGrids:
        """Segment i renumbered new_index[i]."""
        grids = {
            int(new_index[g // columns]) * columns + g % columns: bins
            for g, bins in self.grids.items()
        }
        return GroupGrids(grids, self.dtype, self.bits)

    def on_grid(self, bits: int) -> GroupGrids:
        return self if bits == self.bits else GroupGrids.of(self.entries().on_grid(bits))

    def merge(self, other: Tables, capacity: int | None) -> GroupGrids:
        """Both batches' bins, on the coarser grid."""
        bits = min(self.bits, other.bits) if other.is_grid else self.bits
        a = self.on_grid(bits)
        b = other.on_grid(bits)
        b = b if isinstance(b, GroupGrids) else GroupGrids.of(b)
        grids = dict(a.grids)
        for group, bins in b.grids.items():
            grids[group] = _merged_bins(grids[group], bins) if group in grids else bins
        return GroupGrids(grids, a.dtype, bits)


def tabulate_groups(
    groups: np.ndarray,
    scores: np.ndarray,
    is_hit: np.ndarray,
    n_groups: int,
    weights: np.ndarray | None = None,
    squash: bool = False,
) -> GroupTables | SortedSides:
    """The exact tables of a batch's cells: each cell's group (< n_groups), score and whether
    it is a hit."""
    if weights is None and scores.dtype.itemsize <= 4:
        return SortedSides.of(groups, scores, is_hit, n_groups, squash)
    rows = np.ones(len(scores), dtype=np.int64) if weights is None else weights
    hits = is_hit.astype(rows.dtype) if weights is None else np.where(is_hit, weights, 0.0)
    merged = _combined(groups.astype(np.int64, copy=False), scores, hits, rows)
    return GroupTables(*merged, scores.dtype, -1, squash)


@dataclass(frozen=True, eq=False)
class SortedSides:
    """Exact unweighted tables of float32 (or narrower) scores, kept as the cells' scores
    themselves: run 2 * group + 1 holds a group's hits, run 2 * group its misses, each run
    ascending, the runs one after another. Four bytes a float32 cell and no per-entry counts;
    a group's table is built when it is read, as the whole data's is (tabulate_sides)."""

    scores: np.ndarray
    starts: np.ndarray  # int64, 2 * groups + 1: where each run begins, then the end
    squash: bool = False  # the scores are logits

    is_grid = False

    @classmethod
    def of(
        cls,
        groups: np.ndarray,
        scores: np.ndarray,
        is_hit: np.ndarray,
        n_groups: int,
        squash: bool = False,
    ) -> SortedSides:
        """The cells sorted by (group, hit, score): one sort of 64-bit keys, each made a
        block of cells at a time (no temporary the size of the cells)."""
        counts = np.zeros(2 * n_groups, dtype=np.int64)
        if len(scores) and groups.min() == groups.max():  # a file's batch: two plain sorts
            misses, hits = np.compress(~is_hit, scores), np.compress(is_hit, scores)
            for side in (misses, hits):
                side += side.dtype.type(0)  # -0.0 is 0.0
                side.sort()
            counts[2 * groups[0] : 2 * groups[0] + 2] = len(misses), len(hits)
            return cls(np.concatenate([misses, hits]), cumulative(counts, np.int64), squash)
        keys = np.empty(len(scores), dtype=np.uint64)
        for start in range(0, len(scores), BLOCK):
            block = slice(start, start + BLOCK)
            runs = groups[block].astype(np.int64) * 2
            runs += is_hit[block]
            counts += np.bincount(runs, minlength=2 * n_groups)
            keys[block] = _ordered(scores[block])
            keys[block] |= runs.astype(np.uint64) << np.uint64(32)
        return cls(_sorted_scores(keys, scores.dtype), cumulative(counts, np.int64), squash)

    @property
    def n_groups(self) -> int:
        return (len(self.starts) - 1) // 2

    def table(self, group: int) -> ValueTable:
        """The exact value table of one group."""
        start, middle, stop = self.starts[2 * group : 2 * group + 3]
        misses, hits = self.scores[start:middle], self.scores[middle:stop]
        return tabulate_sides(hits, misses, 0, self.squash)

    def regrouped(self, new_index: np.ndarray, columns: int, n_segments: int) -> SortedSides:
        """Segment i renumbered new_index[i] of n_segments (ascending: the runs keep their
        order, the new segments' runs are empty)."""
        segment, column = np.divmod(np.arange(self.n_groups), columns)
        runs = np.repeat(2 * (new_index[segment] * columns + column), 2)
        runs[1::2] += 1
        counts = np.zeros(2 * n_segments * columns, dtype=np.int64)
        counts[runs] = np.diff(self.starts)
        return SortedSides(self.scores, cumulative(counts, np.int64), self.squash)

    def merge(self, other: Tables, capacity: int | None) -> Tables:
        """Both batches' cells (the same groups); past `capacity` cells, as entries (which
        past `capacity` entries go on a grid)."""
        if not isinstance(other, SortedSides) or (
            capacity is not None and len(self.scores) + len(other.scores) > capacity
        ):
            return self.entries().merge(other.entries(), capacity)
        runs = np.arange(len(self.starts) - 1)
        every_run = np.concatenate(
            [np.repeat(runs, np.diff(self.starts)), np.repeat(runs, np.diff(other.starts))]
        )
        scores = np.concatenate([self.scores, other.scores])
        keys = _ordered(scores).astype(np.uint64)
        keys |= every_run.astype(np.uint64) << np.uint64(32)
        counts = np.diff(self.starts) + np.diff(other.starts)
        return SortedSides(
            _sorted_scores(keys, scores.dtype), cumulative(counts, np.int64), self.squash
        )

    def on_grid(self, bits: int) -> GroupTables:
        """The cells counted in grid bins of `bits` mantissa bits, as GroupTables' entries,
        without a sort: the bins are ordered as the scores are, so each side's (group, bin)
        keys already ascend, and the misses' and hits' counts merge by one search."""
        if not len(self.scores):
            return replace(self.entries(), bits=bits, squash=False)
        size = grid_size(bits)
        lengths = np.diff(self.starts)
        is_hit = np.repeat(np.tile([False, True], self.n_groups), lengths)
        groups = np.repeat(np.arange(self.n_groups), lengths[0::2] + lengths[1::2])
        scores = _probabilities(self.scores) if self.squash else self.scores
        keys = grid_keys(np.asarray(scores, dtype=self.scores.dtype), bits).astype(np.int64)
        keys += groups * size
        miss_bins, miss_rows = _runs(np.compress(~is_hit, keys))
        hit_bins, hit_rows = _runs(np.compress(is_hit, keys))
        bins, hits, rows = _merged_bins(
            (miss_bins, np.zeros_like(miss_rows), miss_rows), (hit_bins, hit_rows, hit_rows)
        )
        groups, bins = np.divmod(bins, size)
        return GroupTables(groups, bins, hits, rows, self.scores.dtype, bits, False)

    def entries(self) -> GroupTables:
        """The same tables as GroupTables' entries: the distinct (group, score) pairs."""
        runs = np.repeat(np.arange(len(self.starts) - 1), np.diff(self.starts))
        groups, is_hit = np.divmod(runs, 2)
        if not len(self.scores):
            empty = np.zeros(0, dtype=np.int64)
            return GroupTables(empty, self.scores, empty, empty, self.scores.dtype, -1, self.squash)
        return _from_keys(groups, self.scores, is_hit.astype(bool), self.squash)


def _runs(ascending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of an ascending array and how many times each comes."""
    starts = np.flatnonzero(np.r_[True, ascending[1:] != ascending[:-1]])
    return ascending[starts], np.diff(np.r_[starts, len(ascending)])


def _ordered(scores: np.ndarray) -> np.ndarray:
    """float32 bits as uint32 that sort as the floats do (-0.0 as 0.0)."""
    bits = (scores.astype(np.float32, copy=False) + np.float32(0)).view(np.uint32)
    return np.where(bits >> np.uint32(31) == 1, ~bits, bits | np.uint32(1 << 31))


def _sorted_scores(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The scores of the keys once sorted (in place), in their dtype."""
    keys.sort()
    out = np.empty(len(keys), dtype=dtype)
    for start in range(0, len(keys), BLOCK):
        bits = keys[start : start + BLOCK].astype(np.uint32)  # the low 32 bits
        positive = bits >> np.uint32(31) == 1
        out[start : start + BLOCK] = np.where(positive, bits & np.uint32(0x7FFFFFFF), ~bits).view(
            np.float32
        )
    return out


def _from_keys(
    groups: np.ndarray, scores: np.ndarray, is_hit: np.ndarray, squash: bool
) -> GroupTables:
    """Unweighted float32 (or float16) cells by one sort of 64-bit keys, no argsort: the group,
    the score's bits in an order that sorts as the floats do, and the hit in the lowest bit."""
    as32 = (scores.astype(np.float32, copy=False) + np.float32(0)).view(np.uint32)  # -0.0 is 0.0
    negative = as32 >> np.uint32(31) == 1
    ordered = np.where(negative, ~as32, as32 | np.uint32(1 << 31)).astype(np.uint64)
    keys = groups.astype(np.uint64) << np.uint64(33)
    keys |= ordered << np.uint64(1)
    keys |= is_hit.astype(np.uint64)
    keys.sort()
    pairs = keys >> np.uint64(1)
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    rows = np.diff(np.r_[starts, len(keys)]).astype(np.int64)
    hits = np.add.reduceat((keys & np.uint64(1)).astype(np.int64), starts)
    bits = (pairs[starts] & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    positive = bits >> np.uint32(31) == 1
    values = np.where(positive, bits & np.uint32(0x7FFFFFFF), ~bits).view(np.float32)
    group_of = (pairs[starts] >> np.uint64(32)).astype(np.int64)
    return GroupTables(group_of, values.astype(scores.dtype), hits, rows, scores.dtype, -1, squash)


def _combined(
    groups: np.ndarray, values: np.ndarray, hits: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entries sorted by (group, value), equal pairs added together: the values sorted, then
    the groups by a stable sort (a radix sort while the groups fit in 16 bits)."""
    order = np.argsort(values)
    if len(groups):
        narrow = np.uint16 if int(groups.max()) < 1 << 16 else groups.dtype
        order = order[np.argsort(groups[order].astype(narrow), kind="stable")]
    groups, values = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, (groups[1:] != groups[:-1]) | (values[1:] != values[:-1])])
    if not len(groups):
        return groups, values, hits[:0], rows[:0]
    return (
        groups[starts],
        values[starts],
        np.add.reduceat(hits[order], starts),
        np.add.reduceat(rows[order], starts),
    )


def _merged_bins(a: Bins, b: Bins) -> Bins:
    """Two grids' (bins, hits, rows), the bins ascending, merged by one search of b's bins
    among a's, as tabulate_sides merges: a running total costs its size, no sort."""
    (bins_a, hits_a, rows_a), (bins_b, hits_b, rows_b) = a, b
    at = np.searchsorted(bins_a, bins_b)
    found = at < len(bins_a)
    found[found] = bins_a[at[found]] == bins_b[found]
    inserted = np.flatnonzero(~found)
    # each new bin lands after the new bins before it; each of a's, after those below it
    to = at[inserted] + np.arange(len(inserted))
    kept = np.ones(len(bins_a) + len(inserted), dtype=bool)
    kept[to] = False
    shared = at[found] + np.searchsorted(at[inserted], at[found], side="right")
    out = []
    for column_a, column_b in ((bins_a, bins_b), (hits_a, hits_b), (rows_a, rows_b)):
        merged = np.empty(len(kept), dtype=np.result_type(column_a, column_b))
        merged[kept], merged[to] = column_a, column_b[inserted]
        if column_a is not bins_a:
            merged[shared] += column_b[found]
        out.append(merged)
    return out[0], out[1], out[2]


def _probabilities(logits: np.ndarray) -> np.ndarray:
    from lossdoctor.losses import sigmoid

    return sigmoid(logits)
