"""A stream's file's grid bins counted over the whole grid while its batches come, one file
at a time (segments.tables.GroupGrids holds it running): each batch's bins are added in
place, where a merge of sorted bins would copy every bin the file holds at every batch.
"""

from __future__ import annotations

import numpy as np

from lossdoctor.value_tables.table import count_dtype

Bins = tuple[np.ndarray, np.ndarray, np.ndarray]  # one group's grid: bins, hits, rows


class RunningBins:
    """One group's bins counted over the whole grid, added into in place: the batches of one
    group in a row (a stream's file) add their own bins, where a merge of sorted bins would
    copy every bin the group holds at every batch. Held by a merge's result alone. Counts of
    rows are kept in 32 bits while the group's rows fit (no bin holds more), then in 64."""

    def __init__(self, bins: Bins, size: int, spent: RunningBins | None = None) -> None:
        """`spent`: the group held running before, done: its arrays are taken and cleared
        where it held bins, not mapped afresh for each group (a stream's every file)."""
        at, hits, rows = bins
        self.rows_held = int(rows.sum()) if rows.dtype.kind in "iu" else 0
        kinds = tuple(_counter(c.dtype, self.rows_held) for c in (hits, rows))
        fits = spent is not None and spent.rows.size == size
        if fits and (spent.hits.dtype, spent.rows.dtype) == kinds:
            held = spent.sparse()[0]
            self.hits, self.rows = spent.hits, spent.rows
            self.hits[held] = 0
            self.rows[held] = 0
        else:
            self.hits, self.rows = (np.zeros(size, dtype=kind) for kind in kinds)
        self.hits[at], self.rows[at] = hits, rows
        self._sparse: Bins | None = None

    def add(self, bins: Bins) -> None:
        """A batch's bins (each once): one addition per bin, as a sorted merge adds them."""
        self.add_entries(*bins)

    def add_entries(self, keys: np.ndarray, hits: np.ndarray, rows: np.ndarray) -> None:
        """A batch's entries, each in its bin (several may share one): counts of rows add
        alike in any order, so they are added as they come, not summed into bins first."""
        if rows.dtype.kind in "iu":
            self.rows_held += int(rows.sum())
            if _counter(self.rows.dtype, self.rows_held) != self.rows.dtype:
                self.hits, self.rows = (c.astype(np.int64) for c in (self.hits, self.rows))
        # in the counts' own width: np.add.at casting as it adds is ten times slower
        np.add.at(self.hits, keys, hits.astype(self.hits.dtype, copy=False))
        np.add.at(self.rows, keys, rows.astype(self.rows.dtype, copy=False))
        self._sparse = None

    def sparse(self) -> Bins:
        """The occupied bins, ascending, and their counts: 32 bits where they fit (a stream's
        files' bins are most of what its segments hold)."""
        if self._sparse is None:
            # a grid's bins fit in 32 bits; a mask is searched faster than the counts
            occupied = np.flatnonzero(self.rows != 0).astype(np.int32)
            self._sparse = (occupied, *(_narrow(c[occupied]) for c in (self.hits, self.rows)))
        return self._sparse


def _counter(dtype: np.dtype, rows: int) -> np.dtype:
    """What a group's counts of `rows` rows add up in: int32 while they fit, else int64;
    summed weights in their float."""
    return np.dtype(count_dtype(rows)) if dtype.kind in "iu" else dtype


def _narrow(counts: np.ndarray) -> np.ndarray:
    """Counts of rows in int32 while the largest fits; summed weights as they are."""
    if counts.dtype == np.int32:
        return counts
    fits = counts.dtype.kind in "iu" and (not len(counts) or counts.max() < 1 << 31)
    return counts.astype(np.int32) if fits else counts


def sparse_bins(bins: Bins | RunningBins) -> Bins:
    """A group's occupied bins and their counts, held running or not."""
    return bins.sparse() if isinstance(bins, RunningBins) else bins


def start_running(
    grids: dict[int, Bins | RunningBins], running: int, bins: Bins, size: int
) -> RunningBins:
    """A group's bins held running from now on; the group held running before (`running`,
    -1: none) goes back to its occupied bins, and its arrays to the new one."""
    spent = grids.get(running) if running >= 0 else None
    if isinstance(spent, RunningBins):
        grids[running] = spent.sparse()
        return RunningBins(bins, size, spent)
    return RunningBins(bins, size)
