"""Value tables built from rows, merged across batches, and complemented (class 0's scores)."""

from collections.abc import Callable
from threading import current_thread
from typing import TypeVar

import numpy as np

from lossdoctor.losses import sigmoid
from lossdoctor.value_tables.keyed import tabulate_keyed
from lossdoctor.value_tables.table import (
    GRID_BITS,
    RunningGrid,
    ValueTable,
    count_dtype,
    cumulative,
    exact,
    grid_keys,
    grid_size,
    number,
    run_starts,
    sparse_grid,
    to_grid,
    wide,
)

T = TypeVar("T")
# Columns worked on at once: their sorts and searches release the GIL, so a table per class
# uses both cores of a laptop or a CI runner
COLUMN_THREADS = 2
# Below this many rows (or entries) per column, threads cost more than they save.
THREADED_ROWS = 1 << 16
# Hits placed among the misses at a time by a column thread: a few megabytes of results.
PLACED_ROWS = 1 << 19


COLUMN_THREAD = "lossdoctor-column"


def each_column(work: Callable[[int], T], n_columns: int, rows: int) -> list[T]:
    """work(k) for every column k of `rows` rows, COLUMN_THREADS at a time, in column order:
    the columns are independent, so the results are those of a loop. Work that is already on
    a column thread loops: the cores are taken."""
    if n_columns < 2 or rows < THREADED_ROWS or current_thread().name.startswith(COLUMN_THREAD):
        return [work(k) for k in range(n_columns)]
    from concurrent.futures import ThreadPoolExecutor  # not for a small file's start-up

    with ThreadPoolExecutor(COLUMN_THREADS, thread_name_prefix=COLUMN_THREAD) as pool:
        return list(pool.map(work, range(n_columns)))


def _places(misses: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """Where each hit lands among the ascending misses (searchsorted, left), a block of the
    hits at a time on the column threads: each search is its own, and on millions of rows
    each misses the cache. The output is the caller's, so no thread keeps a large block."""
    at = np.empty(hits.size, dtype=np.intp)

    def place(k: int) -> None:
        part = slice(k * PLACED_ROWS, (k + 1) * PLACED_ROWS)
        at[part] = np.searchsorted(misses, hits[part], side="left")

    each_column(place, -(-hits.size // PLACED_ROWS), hits.size)
    return at


def tabulate_sides(
    hits: np.ndarray, misses: np.ndarray, bits: int = GRID_BITS, squash: bool = False
) -> ValueTable:
    """The exact table of the ascending scores of the hits and of the misses.

    They merge by where each hit lands: after the misses strictly below it and the hits before
    it, so one search of the hits among the misses places every row (cheaper in memory than a
    stable argsort of both). The runs of equal values are the entries.
    """
    n_rows = hits.size + misses.size
    dtype = count_dtype(n_rows)
    at = _places(misses, hits)
    at += np.arange(hits.size)
    merged = np.empty(n_rows, dtype=np.result_type(hits, misses))
    merged[at] = hits
    is_hit = np.zeros(n_rows, dtype=bool)
    is_hit[at] = True
    del at
    merged[~is_hit] = misses
    starts = run_starts(merged, dtype)
    values = merged[starts[:-1]]
    del merged
    hits_so_far = np.zeros(n_rows + 1, dtype=dtype)
    np.cumsum(is_hit, out=hits_so_far[1:])
    del is_hit
    return ValueTable(values, hits_so_far[starts], starts, bits, squash=squash)


def _from_rows_on_grid(
    scores: np.ndarray,
    is_hit: np.ndarray,
    bits: int,
    capacity: int,
    squash: bool = False,
    weights: np.ndarray | None = None,
) -> ValueTable:
    """Table of a batch off the grid: bincounts, no sort.

    Counting each row one bin up and summing in place gives the counts below each bin. Where
    each occupied bin holds one distinct score, the table is exact after all: few distinct
    scores in a large batch (rounded probabilities, a tree's leaves) stay exact.
    """
    size = grid_size(bits)
    proba = sigmoid(scores) if squash else scores
    keys = grid_keys(proba, bits)
    rows = np.bincount(keys, weights, minlength=size)
    occupied = np.flatnonzero(rows)
    hit_weights = None if weights is None else np.compress(is_hit, weights)
    hits = np.bincount(np.compress(is_hit, keys), hit_weights, minlength=size)
    if occupied.size <= capacity:
        low = np.full(size, np.inf, dtype=scores.dtype)
        high = np.full(size, -np.inf, dtype=scores.dtype)
        np.minimum.at(low, keys, scores)
        np.maximum.at(high, keys, scores)
        if np.array_equal(low[occupied], high[occupied]):
            return exact(
                low[occupied],
                cumulative(hits[occupied], np.int64),
                cumulative(rows[occupied], np.int64),
                bits,
                squash,
            )
    weighted = proba if weights is None else proba * weights
    sums = np.bincount(keys, weights=weighted, minlength=size)[occupied]
    return sparse_grid(occupied, hits[occupied], rows[occupied], sums, bits, proba.dtype)


def sorted_sides(scores: np.ndarray, is_hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scores of the hits and of the misses, each ascending, side by side on two threads."""

    # np.compress copies the rows several times faster than indexing with the mask does.
    sides = np.compress(is_hit, scores), np.compress(~is_hit, scores)
    each_column(lambda k: sides[k].sort(), 2, scores.size)  # in place: no thread allocates
    return sides


def tabulate(
    scores: np.ndarray,
    is_hit: np.ndarray,
    capacity: int | None = None,
    bits: int = GRID_BITS,
    squash: bool = False,
    weights: np.ndarray | None = None,
) -> ValueTable:
    """The table of one batch; None capacity keeps it exact; `squash`: the scores are logits;
    `weights`: each row counts its (positive) weight.

    A batch of more rows than the capacity is counted on the grid: sorting it to count its
    distinct values would cost what the grid saves. It stays exact when each occupied bin
    holds one score.
    """
    scores = np.asarray(scores)
    is_hit = np.asarray(is_hit).astype(bool, copy=False)
    if capacity is not None and scores.size > capacity:
        return _from_rows_on_grid(scores, is_hit, bits, capacity, squash, weights)
    if weights is not None:
        return _tabulate_weighted(scores, is_hit, weights, bits, squash)
    if scores.dtype == np.float32:
        keyed = tabulate_keyed(scores, is_hit, bits, squash)
        if keyed is not None:
            return keyed
    return tabulate_sides(*sorted_sides(scores, is_hit), bits, squash)


def _tabulate_weighted(
    scores: np.ndarray, is_hit: np.ndarray, weights: np.ndarray, bits: int, squash: bool
) -> ValueTable:
    """The exact table of weighted rows: one sort, the weights summed below each entry."""
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    starts = run_starts(ordered)
    row_weights = weights[order]
    rows = cumulative(row_weights, np.float64)
    hits = cumulative(np.where(is_hit[order], row_weights, 0.0), np.float64)
    return ValueTable(ordered[starts[:-1]], hits[starts], rows[starts], bits, squash=squash)


def merge(a: ValueTable, b: ValueTable, capacity: int | None = None) -> ValueTable:
    """The table of both batches; see merge_all. A grid that a merge made is a running total:
    it is added into, and stands for the merged rows afterwards."""
    return merge_all((a, b), capacity)


def merge_all(tables, capacity: int | None = None) -> ValueTable:
    """The table of all the batches: exact while the distinct values fit, else a grid.

    Exact tables merge into the one table of their rows, whatever the grouping, so a tree
    reduction gives the same table as one batch would.
    """
    tables = tuple(tables)
    if len(tables) == 1:
        table = tables[0]
    elif any(t.is_grid for t in tables):
        table = _add_grids([to_grid(t, next(t.bits for t in tables if t.is_grid)) for t in tables])
    else:
        table = _union(tables)
    if capacity is not None and not table.is_grid and table.entries > capacity:
        return to_grid(table)
    return table


def _add_grids(grids: list[ValueTable]) -> ValueTable:
    """Grid tables added bin by bin into one whole grid: a running total (a grid made by an
    earlier merge) is added into in place, and stands for the merged rows afterwards."""
    first = next((grid for grid in grids if grid.accumulator), grids[0])
    if not isinstance(first, RunningGrid) and first.hits_below.dtype.kind == "f":
        return _add_weighted_grids(grids)
    total = first if isinstance(first, RunningGrid) else RunningGrid.empty(first.bits, first.dtype)
    for grid in grids:
        if grid is not total:
            total.add(grid)
    return total


def _add_weighted_grids(grids: list[ValueTable]) -> ValueTable:
    """Grid tables of summed weights added bin by bin into one whole grid.

    Counts add per bin, so the occupied bins of a batch are added where they fall. A running
    total (a grid made by an earlier merge: `accumulator`) is added into in place, so a
    stream of batches holds one whole grid and one batch's scattered counts, not three grids;
    every other input is left as it is.
    """
    totals = [grid for grid in grids if grid.accumulator]
    first = totals[0] if totals else grids[0]
    size = grid_size(first.bits)
    if first.accumulator:
        hits, rows, sums = first.hits_below, first.rows_below, first.sums
        grids = [grid for grid in grids if grid is not first]
    else:
        hits = np.zeros(size + 1, dtype=wide(first.hits_below[:0]).dtype)
        rows = np.zeros(size + 1, dtype=hits.dtype)
        sums = np.zeros(size)
    for grid in grids:
        if grid.keys is None:
            hits += grid.hits_below
            rows += grid.rows_below
            sums += grid.sums
            continue
        for total, below in ((hits, grid.hits_below), (rows, grid.rows_below)):
            per_bin = np.zeros(size + 1, dtype=total.dtype)
            per_bin[grid.keys + 1] = np.diff(below)
            total += np.cumsum(per_bin, out=per_bin)
        sums[grid.keys] += grid.sums
    empty = np.empty(0, dtype=first.dtype)
    return ValueTable(empty, hits, rows, first.bits, sums, accumulator=True)


def _union(tables: tuple[ValueTable, ...]) -> ValueTable:
    """Exact tables laid end to end, merged by a stable argsort (timsort merges the runs)."""
    if len(tables) == 2 and not any(_ends_in_nan(t) for t in tables):
        values, hits, rows = _merged_pair(*tables)
    else:
        values = np.concatenate([t.values for t in tables])
        hits = np.concatenate([np.diff(t.hits_below) for t in tables])
        rows = np.concatenate([np.diff(t.rows_below) for t in tables])
        order = np.argsort(values, kind="stable")
        values, hits, rows = values[order], hits[order], rows[order]
        del order
    is_start = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    if starts.size:
        hits, rows = np.add.reduceat(hits, starts), np.add.reduceat(rows, starts)
    dtype = count_dtype(number(rows.sum()))
    return exact(
        values[starts],
        cumulative(hits, dtype),
        cumulative(rows, dtype),
        tables[0].bits,
        tables[0].squash,
    )


def _ends_in_nan(table: ValueTable) -> bool:
    """Whether the table's last value, where a NaN sorts, is one."""
    return bool(table.entries and table.values.dtype.kind == "f" and np.isnan(table.values[-1]))


def _merged_pair(a: ValueTable, b: ValueTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values, hits and rows of two exact tables' entries in the order of a stable argsort
    of both laid end to end, by one search of b's values among a's: a merge of two ascending
    runs, without the argsort's index of every entry and the gathered copies (the largest
    temporaries of a stream, made when a running total is merged with a batch)."""
    at = np.searchsorted(a.values, b.values, side="right")  # after a's equal value: stable
    at += np.arange(b.entries)
    from_b = np.zeros(a.entries + b.entries, dtype=bool)
    from_b[at] = True
    from_a = ~from_b
    del from_b

    def placed(of_a: np.ndarray, of_b: np.ndarray) -> np.ndarray:
        out = np.empty(from_a.size, dtype=np.result_type(of_a, of_b))
        out[at] = of_b
        out[from_a] = of_a
        return out

    # each entry's own hits and rows (not those below it), as _union concatenates them
    values = placed(a.values, b.values)
    hits = placed(np.diff(a.hits_below), np.diff(b.hits_below))
    return values, hits, placed(np.diff(a.rows_below), np.diff(b.rows_below))


def complement(table: ValueTable) -> ValueTable:
    """The table of 1 - score rounded in the scores' dtype, hits and misses swapped.

    This is how scikit-learn scores class 0 of a binary problem. 1 - x reverses the order,
    and rounding can give neighbouring scores one value of 1 - x, whose entries are joined.
    On a grid the bins reverse: grid_keys puts scores whose 1 - x round alike in one bin.
    """
    n_rows, n_misses = table.rows, table.misses
    if table.is_grid or table.squash:
        # A grid's bins mirror; a logit's complement -z is exact, so no entries join.
        kept: slice | np.ndarray = slice(None, None, -1)
        values = -table.values[::-1] if table.squash else table.values
    else:
        flipped = 1 - table.values
        # Joined entries: the runs of equal 1 - x, found in the original order.
        starts = run_starts(flipped, count_dtype(table.entries + 1))
        values = flipped[(starts[1:] - 1)[::-1]]
        del flipped
        kept = starts[::-1]
    # Below an entry of the reversed table lies what was above it: the totals less the counts.
    above = table.rows_below[kept]  # a view of the table's own counts on a grid
    below = table.hits_below[kept]
    # Gathered counts are this table's own to overwrite: no third array of entries.
    owned = not isinstance(kept, slice) and above.dtype == below.dtype
    del kept
    hits_below = np.subtract(above, below, out=below if owned else None)  # the misses below
    np.subtract(n_misses, hits_below, out=hits_below)
    rows_below = np.subtract(n_rows, above, dtype=above.dtype, out=above if owned else None)
    if table.is_grid:
        sums = (np.diff(table.rows_below) - table.sums)[::-1]
        return ValueTable(values, hits_below, rows_below, table.bits, sums)
    return ValueTable(values, hits_below, rows_below, table.bits, squash=table.squash)
