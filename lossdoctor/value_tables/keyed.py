"""Float32 scores sorted as 64-bit integer keys: a batch's exact table, or its grid table,
from one sort (integers sort several times faster than floats)."""

import sys

import numpy as np

from lossdoctor.value_tables.table import (
    BLOCK,
    SIGN,
    ValueTable,
    count_dtype,
    flatnonzero,
    float_bits,
    grid_keys,
    ordered_bits,
    run_starts,
)

# Sorted keys read at a time: the temporaries of a block stay in a core's cache.
_CACHED_ROWS = 1 << 16

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


def tabulate_keyed(
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


# A bin's sum of scores is exact in float64, in any order, for fewer rows than this (see
# tabulate_on_grid).
_EXACT_SUM_ROWS = 1 << 26
# the bits of 1.0: no probability lies above it
_ONE_BITS = np.asarray(1.0, dtype=np.float32).view(np.uint32)


def tabulate_on_grid(
    scores: np.ndarray, is_hit: np.ndarray, bits: int, cuts: np.ndarray
) -> tuple[ValueTable, np.ndarray, np.ndarray] | None:
    """to_grid(tabulate(scores, is_hit, None, bits)) of float32 probabilities, without the
    exact table: from one sort of keys as _tabulate_keyed's (a score's bits and its row's
    hit), each grid bin's hits, rows and sum. With it the hits and misses at or above each of
    `cuts`, as at_or_above reads them off the exact table. None where the scores are not
    float32 in [0, 1], or hold a -0.0.

    The sums are to_grid's to the last bit: within any bin but the first, the scores span at
    most two binades (the key's t is p, or 1 - p, to within a float32 rounding), so fewer than
    _EXACT_SUM_ROWS of them add up exactly in float64, in whatever order; the first bin holds
    every p whose 1 - p rounds to 1 (p <= 2**-25, of any binade) and is summed as to_grid
    sums it, over its distinct scores times their counts.
    """
    if scores.dtype != np.float32 or scores.size >= _EXACT_SUM_ROWS or not scores.size:
        return None
    score_bits = scores.view(np.uint32)
    if score_bits.max() > _ONE_BITS:
        return None  # a negative score (-0.0 too: the sign bit), NaN or a score above 1
    # From +0.0 to 1.0 a float32's bits ascend with it and leave the top bit free for a
    # shift: 32-bit keys, which sort twice as fast as ordered_bits' 64-bit ones, in the order
    # those would sort in.
    keys = np.left_shift(score_bits, 1)
    keys |= is_hit
    keys.sort()
    n_rows = scores.size
    hits_so_far = np.empty(n_rows + 1, dtype=np.int32)
    hits_so_far[0] = 0
    lowest_byte = 0 if sys.byteorder == "little" else keys.itemsize - 1
    hit_bits = keys.view(np.uint8)[lowest_byte :: keys.itemsize] & 1
    np.cumsum(hit_bits, dtype=np.int32, out=hits_so_far[1:])  # a narrow sum runs faster
    del hit_bits
    # A cut's key sorts before the rows of its score; a negative cut (-0.0 too) before all.
    cut_bits = np.asarray(cuts, dtype=np.float32).view(np.uint32)
    cut_keys = np.where(cut_bits >= SIGN, np.uint32(0), np.left_shift(cut_bits, 1))
    at = np.searchsorted(keys, cut_keys, side="left")
    hits_above = np.subtract(hits_so_far[-1], hits_so_far[at], dtype=np.int64)
    misses_above = (n_rows - at) - hits_above
    ordered = np.right_shift(keys, 1, out=keys).view(np.float32)
    del keys
    bins = grid_keys(ordered, bits)
    starts = run_starts(bins)
    occupied = bins[starts[:-1]]
    del bins
    # exact in float64 however it is added (above): no float64 copy of the scores
    sums = np.add.reduceat(ordered, starts[:-1], dtype=np.float64)
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
    starts = run_starts(ordered)
    weighted = np.diff(starts).astype(np.float64)
    weighted *= ordered[starts[:-1]]
    return float(np.add.reduceat(weighted, np.zeros(1, dtype=np.intp))[0])
