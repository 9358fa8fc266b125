"""Value tables built from rows, merged across batches, and complemented (class 0's scores)."""

import sys
from collections.abc import Callable
from threading import current_thread
from typing import TypeVar

import numpy as np

from lossdoctor.losses import sigmoid
from lossdoctor.value_tables.table import (
    BLOCK,
    GRID_BITS,
    SIGN,
    RunningGrid,
    ValueTable,
    count_dtype,
    cumulative,
    exact,
    flatnonzero,
    float_bits,
    grid_keys,
    grid_size,
    number,
    ordered_bits,
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
# Sorted keys read at a time: the temporaries of a block stay in a core's cache.
_CACHED_ROWS = 1 << 16


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
    boundary = np.ones(n_rows + 1, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=boundary[1:-1])
    starts = flatnonzero(boundary, dtype)
    del boundary
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
        keyed = _tabulate_keyed(scores, is_hit, bits, squash)
        if keyed is not None:
            return keyed
    return tabulate_sides(*sorted_sides(scores, is_hit), bits, squash)


# ordered_bits of -0.0 and of 0.0
_NEGATIVE_ZERO_KEY = 0x7FFFFFFF
_ZERO_KEY = int(SIGN)


def _ordered_keys(scores: np.ndarray, is_hit: np.ndarray) -> np.ndarray:
    """Each float32 score as a uint64 whose order is the scores' order (ordered_bits), shifted
    left one for its row's hit in the lowest bit. Built a block at a time: a small uint32
    temporary, reused."""
    keys = np.empty(scores.size, dtype=np.uint64)
    bits = np.empty(min(scores.size, BLOCK), dtype=np.uint32)
    for start in range(0, scores.size, BLOCK):
        part, out = scores[start : start + BLOCK], keys[start : start + BLOCK]
        out[...] = ordered_bits(part, bits[: part.size])
        out <<= np.uint64(1)
        out |= is_hit[start : start + BLOCK]
    return keys


def _tabulate_keyed(
    scores: np.ndarray, is_hit: np.ndarray, bits: int, squash: bool
) -> ValueTable | None:
    """The exact table of float32 scores from one sort of 64-bit keys: each score's ordered
    bits and, in the lowest bit, whether its row is a hit. A sort of integers is several
    times faster than sorting the two sides and merging them by a search (tabulate_sides),
    and gives the same table: the same distinct scores and counts below each.

    None when the batch holds both -0.0 and 0.0: equal scores of two keys, whose entry's
    value tabulate_sides takes from its own order of the rows.
    """
    n_rows = scores.size
    dtype = count_dtype(n_rows)
    keys = _ordered_keys(scores, is_hit)
    keys.sort()
    zero = int(np.searchsorted(keys, np.uint64(_ZERO_KEY << 1)))  # the first 0.0, if any
    around_zero = [int(key) >> 1 for key in keys[max(zero - 1, 0) : zero + 1]]
    if around_zero == [_NEGATIVE_ZERO_KEY, _ZERO_KEY]:
        return None
    boundary, hits_so_far = _runs_and_hits(keys, dtype)
    starts = flatnonzero(boundary, dtype)
    del boundary
    entry_keys = (keys[starts[:-1]] >> np.uint64(1)).astype(np.uint32)
    del keys
    return ValueTable(float_bits(entry_keys), hits_so_far[starts], starts, bits, squash=squash)


def _runs_and_hits(keys: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Of sorted keys: where each run of one score starts (and the end), and the hits before
    each row (and in all), a cache-sized block at a time: the temporaries stay in cache."""
    n_rows = keys.size
    boundary = np.empty(n_rows + 1, dtype=bool)
    boundary[0] = boundary[-1] = True
    hits_so_far = np.empty(n_rows + 1, dtype=dtype)
    hits_so_far[0] = 0
    scratch = np.empty(min(n_rows, _CACHED_ROWS), dtype=np.uint64)
    is_hit = np.empty(scratch.size, dtype=bool)
    total = 0
    for start in range(0, n_rows, _CACHED_ROWS):
        part = keys[start : start + _CACHED_ROWS + 1]  # and the next row, for the last pair
        rows, pairs = min(_CACHED_ROWS, n_rows - start), part.size - 1
        np.bitwise_xor(part[1:], part[:-1], out=scratch[:pairs])
        np.greater(scratch[:pairs], 1, out=boundary[start + 1 : start + 1 + pairs])
        np.bitwise_and(part[:rows], np.uint64(1), out=scratch[:rows])
        np.equal(scratch[:rows], 1, out=is_hit[:rows])
        counted = hits_so_far[start + 1 : start + 1 + rows]
        np.cumsum(is_hit[:rows], out=counted)
        counted += total
        total = int(counted[-1])
    return boundary, hits_so_far


def _tabulate_weighted(
    scores: np.ndarray, is_hit: np.ndarray, weights: np.ndarray, bits: int, squash: bool
) -> ValueTable:
    """The exact table of weighted rows: one sort, the weights summed below each entry."""
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    boundary = np.ones(ordered.size + 1, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=boundary[1:-1])
    starts = np.flatnonzero(boundary)
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
        kept = slice(None)
        values = -table.values[::-1] if table.squash else table.values
    else:
        flipped = 1 - table.values
        # Joined entries: the runs of equal 1 - x, found in the original order.
        boundary = np.ones(table.entries + 1, dtype=bool)
        np.not_equal(flipped[1:], flipped[:-1], out=boundary[1:-1])
        kept = flatnonzero(boundary, count_dtype(table.entries + 1))
        del boundary
        values = flipped[(kept[1:] - 1)[::-1]]
        del flipped
    # Below an entry of the reversed table lies what was above it: the totals less the counts.
    above = table.rows_below[kept][::-1]  # a view of the table's own counts on a grid
    hits_below = above - table.hits_below[kept][::-1]  # the misses below, in the original
    np.subtract(n_misses, hits_below, out=hits_below)
    rows_below = np.subtract(n_rows, above, dtype=above.dtype)
    if table.is_grid:
        sums = (np.diff(table.rows_below) - table.sums)[::-1]
        return ValueTable(values, hits_below, rows_below, table.bits, sums)
    return ValueTable(values, hits_below, rows_below, table.bits, squash=table.squash)


# A bin's sum of scores is exact in float64, in any order, for fewer rows than this (see
# tabulate_on_grid).
_EXACT_SUM_ROWS = 1 << 26
# ordered_bits of 1.0: no probability lies above it
_ONE_KEY = int(np.asarray(1.0, dtype=np.float32).view(np.uint32) | SIGN)


def tabulate_on_grid(
    scores: np.ndarray, is_hit: np.ndarray, bits: int, cuts: np.ndarray
) -> tuple[ValueTable, np.ndarray, np.ndarray] | None:
    """to_grid(tabulate(scores, is_hit, None, bits)) of float32 probabilities, without the
    exact table: from one sort of the keys of _tabulate_keyed, each grid bin's hits, rows and
    sum. With it the hits and misses at or above each of `cuts`, as at_or_above reads them off
    the exact table. None where the scores are not float32 in [0, 1], or hold a -0.0.

    The sums are to_grid's to the last bit: within any bin but the first, the scores span at
    most two binades (the key's t is p, or 1 - p, to within a float32 rounding), so fewer than
    _EXACT_SUM_ROWS of them add up exactly in float64, in whatever order; the first bin holds
    every p whose 1 - p rounds to 1 (p <= 2**-25, of any binade) and is summed as to_grid
    sums it, over its distinct scores times their counts.
    """
    if scores.dtype != np.float32 or scores.size >= _EXACT_SUM_ROWS or not scores.size:
        return None
    keys = _ordered_keys(scores, is_hit)
    keys.sort()
    low, high = int(keys[0]) >> 1, int(keys[-1]) >> 1
    if low < _ZERO_KEY or high > _ONE_KEY:
        return None  # a negative score (-0.0 too), NaN or a score above 1
    n_rows = scores.size
    hits_so_far = np.empty(n_rows + 1, dtype=np.int32)
    hits_so_far[0] = 0
    lowest_byte = 0 if sys.byteorder == "little" else keys.itemsize - 1
    hit_bits = keys.view(np.uint8)[lowest_byte :: keys.itemsize] & 1
    np.cumsum(hit_bits, dtype=np.int32, out=hits_so_far[1:])  # a narrow sum runs faster
    del hit_bits
    cut_keys = np.left_shift(ordered_bits(np.asarray(cuts, dtype=np.float32)), 1, dtype=np.uint64)
    at = np.searchsorted(keys, cut_keys, side="left")
    hits_above = np.subtract(hits_so_far[-1], hits_so_far[at], dtype=np.int64)
    misses_above = (n_rows - at) - hits_above
    ordered = float_bits((keys >> np.uint64(1)).astype(np.uint32))
    del keys
    bins = grid_keys(ordered, bits)
    boundary = np.empty(n_rows + 1, dtype=bool)
    boundary[0] = boundary[-1] = True
    np.not_equal(bins[1:], bins[:-1], out=boundary[1:-1])
    starts = np.flatnonzero(boundary)
    del boundary
    occupied = bins[starts[:-1]]
    del bins
    sums = np.add.reduceat(ordered.astype(np.float64), starts[:-1])
    if occupied[0] == 0:
        sums[0] = _first_bin_sum(ordered[: starts[1]])
    table = ValueTable(
        np.empty(0, dtype=scores.dtype),
        hits_so_far[starts].astype(np.int64),
        starts.astype(np.int64),
        bits,
        sums,
        occupied.astype(np.int32),
    )
    return table, hits_above, misses_above


def _first_bin_sum(ordered: np.ndarray) -> float:
    """The sum of the first bin's ascending scores as to_grid takes it: each distinct score
    times its count, added as np.add.reduceat adds one bin."""
    boundary = np.ones(ordered.size + 1, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=boundary[1:-1])
    starts = np.flatnonzero(boundary)
    weighted = np.diff(starts).astype(np.float64)
    weighted *= ordered[starts[:-1]]
    return float(np.add.reduceat(weighted, np.zeros(1, dtype=np.intp))[0])
