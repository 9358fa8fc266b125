"""A stream's batch whose segments merge into tables on a grid goes on that grid on the thread
that summarises it, where the merge would put it there on the one thread that merges every
batch: a batch of one segment (a file's rows) takes the batch's own grid table, and a batch of
a few segments in runs (the end of one file, the start of the next) tabulates each run on the
grid. Counts of rows add alike in any grouping, so the merged tables are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from lossdoctor.segments.tables import Bins, GroupGrids
from lossdoctor.value_tables import ValueTable, tabulate_on_grid


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
    if n_segments == 1 and len(batch_tables) == 1:
        (table,) = batch_tables
        grid = table.is_grid and table.keys is not None and table.bits == bits
        if grid and table.hits_below.dtype.kind != "f":
            return _grids({0: _bins(table)}, table.dtype, bits)
    if not len(codes) or not (codes[1:] >= codes[:-1]).all():
        return None
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    found: dict[int, Bins] = {}
    no_cuts = np.zeros(0, dtype=np.float32)
    for start, stop in pairwise(bounds):
        gridded = tabulate_on_grid(scores[start:stop], is_hit[start:stop], bits, no_cuts)
        if gridded is None:
            return None
        found[int(codes[start])] = _bins(gridded[0])
    return _grids(found, scores.dtype, bits)


def _bins(table: ValueTable) -> Bins:
    """A sparse grid table's occupied bins, and the hits and rows in each (int64)."""
    counts = (
        np.diff(below).astype(np.int64, copy=False)
        for below in (table.hits_below, table.rows_below)
    )
    return (table.keys.astype(np.int64), *counts)


def _grids(found: dict[int, Bins], dtype: np.dtype, bits: int) -> GroupGrids:
    return GroupGrids(found, np.dtype(dtype), bits)  # type: ignore[arg-type]
