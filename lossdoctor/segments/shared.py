"""A batch of one segment (a file's rows, a column of one value) has the whole batch's value
tables for its own: SharedTables holds them, neither copied nor tabulated again. They are
read as any exact segment table is (segments.ranks), and become GroupTables' entries when
merged with another batch's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossdoctor.losses import sigmoid
from lossdoctor.segments.tables import GroupTables, Tables
from lossdoctor.value_tables import ValueTable, grid_keys
from lossdoctor.value_tables.table import wide


@dataclass(frozen=True, eq=False)
class SharedTables:
    """One segment's columns' exact tables, counted in rows: groups first_group.. of
    n_groups."""

    tables: tuple[ValueTable, ...]
    first_group: int = 0
    n_groups: int = 0

    is_grid = False
    counted = True

    @classmethod
    def of(cls, tables: Sequence[ValueTable]) -> SharedTables | None:
        """The batch's tables as its one segment's, when they are exact and counted in rows
        (else None: they are tabulated apart)."""
        if any(t.is_grid or t.hits_below.dtype.kind == "f" for t in tables):
            return None
        return cls(tuple(tables), 0, len(tables))

    def group_sizes(self, n_groups: int) -> np.ndarray:
        """The entries of each group."""
        sizes = np.zeros(n_groups, dtype=np.int64)
        sizes[self.first_group : self.first_group + len(self.tables)] = [
            t.entries for t in self.tables
        ]
        return sizes

    def _columns(self, first: int, last: int) -> tuple[ValueTable, ...]:
        """The tables of groups first..last-1 this segment holds, in group order."""
        low = max(first - self.first_group, 0)
        return self.tables[low : max(last - self.first_group, low)]

    def cumulative_counts(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Groups first..last-1's entries: where each group's begin, then the end; the hits
        and the rows below each entry counted from the first group's, then all of them."""
        group_starts = np.r_[0, np.cumsum(self.group_sizes(self.n_groups)[first:last])]
        found = []
        for column in ("hits_below", "rows_below"):
            parts, below = [], 0
            for table in self._columns(first, last):
                counts = wide(getattr(table, column))
                parts.append(counts[:-1] + below)
                below += int(counts[-1])
            found.append(np.concatenate([*parts, [below]]).astype(np.int64, copy=False))
        return group_starts, found[0], found[1]

    def entry_bins(self, first: int, last: int) -> None:
        """Exact: no bins."""
        return None

    def entry_values(self, first: int, last: int) -> np.ndarray:
        """Groups first..last-1's scores, in cumulative_counts' order."""
        held = (t.values for t in self._columns(first, last))
        return np.concatenate([self.tables[0].values[:0], *held])

    def regrouped(self, new_index: np.ndarray, columns: int, n_segments: int) -> SharedTables:
        """The segment renumbered new_index[0] of n_segments."""
        return SharedTables(self.tables, int(new_index[0]) * columns, n_segments * columns)

    def entries(self) -> GroupTables:
        """The same tables as GroupTables' entries."""
        groups = self.first_group + np.arange(len(self.tables), dtype=np.int64)
        sizes = [t.entries for t in self.tables]
        return GroupTables(
            np.repeat(groups, sizes),
            np.concatenate([t.values for t in self.tables]),
            np.concatenate([np.diff(wide(t.hits_below)) for t in self.tables]),
            np.concatenate([np.diff(wide(t.rows_below)) for t in self.tables]),
            self.tables[0].dtype,
            -1,
            self.tables[0].squash,
        )

    def grid_entries(self, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The one table's entries: each one's grid bin of `bits` mantissa bits, its hits and
        its rows (entries of one bin not summed)."""
        (table,) = self.tables
        scores = sigmoid(table.values) if table.squash else table.values
        keys = grid_keys(np.asarray(scores, dtype=table.dtype), bits).astype(np.intp)
        return keys, _entry_counts(table.hits_below), _entry_counts(table.rows_below)

    def on_grid(self, bits: int) -> GroupTables:
        """The entries counted in grid bins of `bits` mantissa bits, read off each table's
        cumulative counts at the first entry of each bin (the bins ascend as the scores do)."""
        found = []
        for column, table in enumerate(self.tables):
            scores = sigmoid(table.values) if table.squash else table.values
            keys = grid_keys(np.asarray(scores, dtype=table.dtype), bits).astype(np.int64)
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            bounds = np.r_[starts, len(keys)]
            group = np.full(len(starts), self.first_group + column, dtype=np.int64)
            counts = (np.diff(wide(t)[bounds]) for t in (table.hits_below, table.rows_below))
            found.append((group, keys[starts], *counts))
        groups, bins, hits, rows = (np.concatenate(c) for c in zip(*found, strict=True))
        return GroupTables(groups, bins, hits, rows, self.tables[0].dtype, bits, False)

    def merge(self, other: Tables, capacity: int | None) -> Tables:
        """Both batches' entries; past `capacity` entries, on a grid."""
        return self.entries().merge(other, capacity)


def _entry_counts(below: np.ndarray) -> np.ndarray:
    """The counts at each entry, as int64, from the counts below each (one pass, no copy)."""
    return np.subtract(below[1:], below[:-1], dtype=np.int64)
