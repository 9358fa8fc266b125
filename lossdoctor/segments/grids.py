"""A stream's batch whose segments merge into tables on a grid goes on that grid on the thread
that summarises it, where the merge would put it there on the one thread that merges every
batch: a batch of one segment (a file's rows) takes the batch's own grid table, and a batch of
a few segments in runs (the end of one file, the start of the next) counts each run's grid
keys, but for its longest run, which is the batch's own table less the others. Counts of rows
add alike in any grouping, so the merged tables are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from lossdoctor.segments.tables import Bins, GroupGrids
from lossdoctor.value_tables import ValueTable, grid_keys, grid_size


def batch_grids(
    codes: np.ndarray,
    n_segments: int,
    scores: np.ndarray,
    is_hit: np.ndarray,
    batch_tables: Sequence[ValueTable],
    bits: int,
) -> GroupGrids | None:
    """The grid tables of a batch's segments of binary unweighted probabilities, one group per
    segment: the batch's own grid table when it is one segment's, else each run of a segment's
    rows on the grid; None when the rows are not in runs or the scores not float32 in [0, 1]."""
    own = _own_bins(batch_tables, bits)
    if n_segments == 1 and own is not None:
        return _grids({0: own}, scores.dtype, bits)
    if not len(codes) or not (codes[1:] >= codes[:-1]).all():
        return None
    if scores.dtype != np.float32 or not (scores.min() >= 0 and scores.max() <= 1):
        return None
    runs = list(pairwise(np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])))
    longest = max(range(len(runs)), key=lambda i: runs[i][1] - runs[i][0])
    found: dict[int, Bins] = {}
    for i, (start, stop) in enumerate(runs):
        if own is None or i != longest:
            found[int(codes[start])] = _counted(scores[start:stop], is_hit[start:stop], bits)
    if own is not None:
        found[int(codes[runs[longest][0]])] = _less(own, found.values())
    return _grids(dict(sorted(found.items())), scores.dtype, bits)


def _own_bins(batch_tables: Sequence[ValueTable], bits: int) -> Bins | None:
    """The batch's one table's occupied bins and the hits and rows in each (int64), when it
    is a grid of `bits` bits counted in rows; else None."""
    if len(batch_tables) != 1:
        return None
    (table,) = batch_tables
    grid = table.is_grid and table.keys is not None and table.bits == bits
    if not grid or table.hits_below.dtype.kind == "f":
        return None
    counts = (
        np.diff(below).astype(np.int64, copy=False)
        for below in (table.hits_below, table.rows_below)
    )
    return (table.keys.astype(np.int64), *counts)


def _counted(scores: np.ndarray, is_hit: np.ndarray, bits: int) -> Bins:
    """A run's occupied grid bins, ascending, and the hits and rows in each (int64): one sort
    of each row's bin with its hit in the lowest bit, then the runs of equal keys."""
    keys = grid_keys(scores, bits)
    if grid_size(bits) >= 1 << 30:  # a bin and its hit past 31 bits
        keys = keys.astype(np.int64)
    keys <<= 1
    keys |= is_hit
    keys.sort()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])  # each (bin, hit) once
    sizes = np.diff(starts, append=len(keys))
    pairs = keys[starts].astype(np.int64)
    bins = pairs >> 1
    first = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])  # a bin's misses, then hits
    hits = np.add.reduceat(sizes * (pairs & 1), first)
    return bins[first], hits, np.add.reduceat(sizes, first)


def _less(whole: Bins, parts: Sequence[Bins]) -> Bins:
    """The batch's bins less those of its other runs (each run's bins are among the batch's),
    the bins left empty dropped."""
    bins, hits, rows = whole  # fresh arrays (_own_bins)
    for part_bins, part_hits, part_rows in parts:
        at = np.searchsorted(bins, part_bins)
        hits[at] -= part_hits
        rows[at] -= part_rows
    held = rows > 0
    return bins[held], hits[held], rows[held]


def _grids(found: dict[int, Bins], dtype: np.dtype, bits: int) -> GroupGrids:
    return GroupGrids(found, np.dtype(dtype), bits)  # type: ignore[arg-type]
