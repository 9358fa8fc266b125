"""Value tables of many groups at once (a group: a segment's score column, segment * columns
+ column), a batch's from one sort, not one per group. Unweighted float32 (or narrower) scores
are kept as the cells themselves (segments.cells.SortedCells: five bytes a row); other scores
as the distinct (group, score) pairs and their counts (GroupTables). Past a capacity the
scores become grid bins (value_tables.grid_keys) of as many mantissa bits as keep every
group's grid within one table's bins together, kept group by group (GroupGrids): memory grows
with the groups, not the rows, and a batch of one group merges into that group alone. Merging
a grid with a finer one coarsens the finer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import numpy as np

from lossdoctor.segments.in_order import held_scores, merged_in_order, one_group
from lossdoctor.segments.running import Bins, RunningBins, sparse_bins, start_running
from lossdoctor.value_tables import (
    GRID_BITS,
    ValueTable,
    dense,
    grid_bits,
    grid_keys,
    grid_size,
)
from lossdoctor.value_tables.table import bin_floor, cumulative, exact, sparse_grid

if TYPE_CHECKING:
    from lossdoctor.segments.cells import SortedCells
    from lossdoctor.segments.shared import SharedTables

Tables = Union["GroupTables", "GroupGrids", "SortedCells", "SharedTables"]


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

    @property
    def counted(self) -> bool:
        """Counts of rows (not summed weights): read by segments.ranks at once."""
        return self.hits.dtype.kind != "f"

    def group_sizes(self, n_groups: int) -> np.ndarray:
        """The entries of each group."""
        return np.bincount(self.groups, minlength=n_groups)

    def cumulative_counts(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Groups first..last-1's entries: where each group's begin, then the end; the hits
        and the rows below each entry counted from the first group's, then all of them."""
        start, stop = np.searchsorted(self.groups, [first, last])
        group_starts = np.searchsorted(self.groups[start:stop], np.arange(first, last + 1))
        return group_starts, *(cumulative(c[start:stop], np.int64) for c in (self.hits, self.rows))

    def entry_values(self, first: int, last: int) -> np.ndarray:
        """Groups first..last-1's scores (on a grid, bins), in cumulative_counts' order."""
        start, stop = np.searchsorted(self.groups, [first, last])
        return self.values[start:stop]

    def entry_bins(self, first: int, last: int) -> np.ndarray | None:
        """On a grid, each entry's bin: its entry in its group's whole grid; None when exact."""
        return self.entry_values(first, last) if self.is_grid else None

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
        if a.counted and b.counted and one_group(a, b):
            at = np.searchsorted(a.values, b.values)
            equal = held_scores(a, b, at)
            union = len(a.values) + len(b.values) - int(np.count_nonzero(equal))
            if capacity is not None and union > capacity:  # bins, not the entries of both
                return GroupGrids.of(a.on_grid(GRID_BITS)).merge(b, capacity)
            merged = merged_in_order(a, b, at, equal)
        else:
            merged = combined(
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
        if self.hits.dtype.kind == "f":  # summed weights: added in the order a sort gives
            merged = combined(self.groups, keys, self.hits, self.rows)
        else:  # the bins keep the values' order, so they ascend within each group already
            merged = summed_runs(self.groups, keys, self.hits, self.rows)
        return GroupTables(*merged, self.dtype, bits, False)


def _wide(dtype: np.dtype) -> np.dtype:
    """Counts of rows added up in int64 (summed weights in their float)."""
    return np.dtype(np.int64) if dtype.kind in "iu" else dtype


@dataclass(frozen=True, eq=False)
class GroupGrids:
    """Grid tables of many groups, each group its own (bins, hits, rows), the bins ascending:
    a batch merged in copies only the groups it holds (a stream's file is one group), where
    one set of arrays of every group would be copied whole by every batch. A merge's result
    (`accumulator`) may hold one group as RunningBins (`running`), which the next batch of
    that group alone adds into."""

    grids: dict[int, Bins | RunningBins]
    dtype: np.dtype
    bits: int
    running: int = -1  # the group held as RunningBins; -1: none
    accumulator: bool = False  # made by a merge, and so referenced by nothing else

    is_grid = True

    @property
    def counted(self) -> bool:
        """Counts of rows (not summed weights): read by segments.ranks at once."""
        return all(sparse_bins(bins)[1].dtype.kind != "f" for bins in self.grids.values())

    def _held(self, first: int, last: int) -> list[Bins]:
        return [sparse_bins(self.grids[g]) for g in range(first, last) if g in self.grids]

    def group_sizes(self, n_groups: int) -> np.ndarray:
        """The occupied bins of each group."""
        sizes = np.zeros(n_groups, dtype=np.int64)
        for group, bins in self.grids.items():
            sizes[group] = len(sparse_bins(bins)[0])
        return sizes

    def cumulative_counts(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Groups first..last-1's occupied bins: where each group's begin, then the end; the
        hits and the rows below each bin counted from the first group's, then all of them."""
        held = {g: sparse_bins(self.grids[g]) for g in range(first, last) if g in self.grids}
        sizes = [len(held[g][0]) if g in held else 0 for g in range(first, last)]
        hits, rows = ([bins[c] for bins in held.values()] for c in (1, 2))
        empty = np.zeros(0, dtype=np.int64)
        return (
            cumulative(np.asarray(sizes, dtype=np.int64), np.int64),
            cumulative(np.concatenate([empty, *hits]), np.int64),
            cumulative(np.concatenate([empty, *rows]), np.int64),
        )

    def entry_bins(self, first: int, last: int) -> np.ndarray:
        """Each occupied bin, in cumulative_counts' order."""
        return np.concatenate(
            [np.zeros(0, dtype=np.int64), *(b[0] for b in self._held(first, last))]
        )

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
        bins, hits, rows = sparse_bins(self.grids.get(group, (empty, empty, empty)))
        return dense(sparse_grid(bins, hits, rows, np.zeros(len(bins)), self.bits, self.dtype))

    def entries(self) -> GroupTables:
        """Every group's bins as one GroupTables."""
        order = sorted(self.grids)
        held = [sparse_bins(self.grids[g]) for g in order]
        columns = [[bins[c] for bins in held] for c in range(3)]
        sizes = [len(bins[0]) for bins in held]
        groups = np.repeat(np.array(order, dtype=np.int64), sizes)
        values, hits, rows = (
            np.concatenate(c) if c else np.zeros(0, dtype=np.int64) for c in columns
        )
        return GroupTables(groups, values, hits, rows, self.dtype, self.bits, False)

    def regrouped(self, new_index: np.ndarray, columns: int, n_segments: int) -> GroupGrids:
        """Segment i renumbered new_index[i]."""

        def renumbered(g: int) -> int:
            return int(new_index[g // columns]) * columns + g % columns

        grids = {renumbered(g): bins for g, bins in self.grids.items()}
        running = renumbered(self.running) if self.running >= 0 else -1
        return GroupGrids(grids, self.dtype, self.bits, running, self.accumulator)

    def on_grid(self, bits: int) -> GroupGrids:
        return self if bits == self.bits else GroupGrids.of(self.entries().on_grid(bits))

    def merge(self, other: Tables, capacity: int | None) -> GroupGrids:
        """Both batches' bins, on the coarser grid. A batch of one group that the result of
        an earlier merge holds already is added into that group's RunningBins (one group at
        a time: the one before goes back to its occupied bins), as is any batch's part of the
        group held running."""
        bits = min(self.bits, other.bits) if other.is_grid else self.bits
        a = self.on_grid(bits)
        b = other.on_grid(bits)
        b = b if isinstance(b, GroupGrids) else GroupGrids.of(b)
        grids, running = dict(a.grids), a.running
        for group, batch_bins in b.grids.items():
            bins = sparse_bins(batch_bins)
            held = grids.get(group)
            if held is None:
                grids[group] = bins
            elif a.accumulator and (len(b.grids) == 1 or isinstance(held, RunningBins)):
                if not isinstance(held, RunningBins):
                    held = grids[group] = start_running(grids, running, held, grid_size(bits))
                    running = group
                held.add(bins)
            else:
                grids[group] = _merged_bins(sparse_bins(held), bins)
                running = -1 if group == running else running
        return GroupGrids(grids, a.dtype, bits, running, accumulator=True)

    def with_bins(self, group: int, bins: Bins) -> GroupGrids:
        """A merge's result holding a group it did not hold, with these bins."""
        return GroupGrids({**self.grids, group: bins}, self.dtype, self.bits, self.running, True)

    def added(self, group: int, keys: np.ndarray, hits: np.ndarray, rows: np.ndarray) -> GroupGrids:
        """A merge's result with a batch of one group it holds added into that group's
        RunningBins entry by entry (`keys`: each entry's bin), as merge() adds its bins."""
        grids, running = dict(self.grids), self.running
        held = grids[group]
        if not isinstance(held, RunningBins):
            held = grids[group] = start_running(grids, running, held, grid_size(self.bits))
            running = group
        held.add_entries(keys, hits, rows)
        return GroupGrids(grids, self.dtype, self.bits, running, accumulator=True)


def combined(
    groups: np.ndarray, values: np.ndarray, hits: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entries sorted by (group, value), equal pairs added together: the values sorted, then
    the groups by a stable sort (a radix sort while the groups fit in 16 bits). Counts of rows
    add alike in any order, so their values are sorted stably: the runs of tables laid end to
    end are merged, not sorted again."""
    order = np.argsort(values, kind="stable" if hits.dtype.kind != "f" else None)
    if len(groups):
        narrow = np.uint16 if int(groups.max()) < 1 << 16 else groups.dtype
        order = order[np.argsort(groups[order].astype(narrow), kind="stable")]
    return summed_runs(groups[order], values[order], hits[order], rows[order])


def summed_runs(
    groups: np.ndarray, values: np.ndarray, hits: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entries ascending by (group, value) with each run of equal pairs added into one."""
    if not len(groups):
        return groups, values, hits[:0], rows[:0]
    starts = np.flatnonzero(np.r_[True, (groups[1:] != groups[:-1]) | (values[1:] != values[:-1])])
    if hits.dtype.kind == "f":  # summed weights: added run by run
        return groups[starts], values[starts], *(np.add.reduceat(c, starts) for c in (hits, rows))
    bounds = np.r_[starts, len(groups)]  # counts: the differences of their running totals
    counts = (np.diff(cumulative(c, np.int64)[bounds]) for c in (hits, rows))
    return groups[starts], values[starts], *counts


def _merged_bins(a: Bins, b: Bins) -> Bins:
    """Two grids' (bins, hits, rows), the bins ascending, merged by one search of b's bins
    among a's, as tabulate_sides merges: a running total costs its size, no sort."""
    (bins_a, hits_a, rows_a), (bins_b, hits_b, rows_b) = a, b
    at = np.searchsorted(bins_a, bins_b)
    found = at < len(bins_a)
    found[found] = bins_a[at[found]] == bins_b[found]
    if found.all():  # b's bins all held already (a stream's later batches): none moves
        added = []
        for column_a, column_b in ((hits_a, hits_b), (rows_a, rows_b)):
            column = column_a.astype(_wide(np.result_type(column_a, column_b)))  # a copy
            column[at] += column_b
            added.append(column)
        return bins_a, added[0], added[1]
    inserted = np.flatnonzero(~found)
    # each new bin lands after the new bins before it; each of a's, after those below it
    to = at[inserted] + np.arange(len(inserted))
    kept = np.ones(len(bins_a) + len(inserted), dtype=bool)
    kept[to] = False
    shared = at[found] + np.searchsorted(at[inserted], at[found], side="right")
    out = []
    for column_a, column_b in ((bins_a, bins_b), (hits_a, hits_b), (rows_a, rows_b)):
        merged = np.empty(len(kept), dtype=_wide(np.result_type(column_a, column_b)))
        merged[kept], merged[to] = column_a, column_b[inserted]
        if column_a is not bins_a:
            merged[shared] += column_b[found]
        out.append(merged)
    return out[0], out[1], out[2]


def _probabilities(logits: np.ndarray) -> np.ndarray:
    from lossdoctor.losses import sigmoid

    return sigmoid(logits)
