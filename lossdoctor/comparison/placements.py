"""DeLong's placements of each row in its model's value table, and the paired test's sums.

A row's placement depends on its score alone: for a hit, the share of misses below it (a tie
counting half); for a miss, the share of hits above it. The paired variance reads each row's
two placements side by side, so its sums run over the rows, once the tables of all rows are
known. In memory (one batch, exact tables) the sort that builds a table also says where each
row sits in it, and the sums come with the first pass; streamed, the tables are known only
once the first pass has merged them, and a second pass finds each row in them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import reduce
from typing import NamedTuple

import numpy as np

from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import Task
from lossdoctor.losses import BLOCK_ROWS, sigmoid
from lossdoctor.pipeline import logits_of
from lossdoctor.stats.means import Moments
from lossdoctor.value_tables import ValueTable, grid_keys, rank
from lossdoctor.value_tables.table import count_dtype, flatnonzero

# sort_rows' keys: a score's bits, its sign bit first, above the hit (bit 31) and the row
_SIGN, _SIGN_SHIFT = np.uint32(1 << 31), np.uint32(31)
_ROW = np.uint64((1 << 31) - 1)


class Ranked(NamedTuple):
    """The scores a table ranks: probabilities, or logits (`squash`) in their own order."""

    scores: np.ndarray
    squash: bool


def ranked_classes(
    baseline: Plan, candidate: Plan, a: Prepared, b: Prepared
) -> Iterator[tuple[Ranked, Ranked, np.ndarray]]:
    """Per class: each model's ranking scores (logits where the report ranks them) and whether
    the row is of the class."""
    if baseline.task == Task.BINARY:
        yield _binary_ranking(baseline, a), _binary_ranking(candidate, b), a.y.astype(bool)
        return
    for k in range(baseline.n_classes):
        yield Ranked(a.proba[:, k], False), Ranked(b.proba[:, k], False), a.y == k


def _binary_ranking(plan: Plan, prepared: Prepared) -> Ranked:
    logits = logits_of(plan, prepared)
    if logits is None:
        return Ranked(prepared.proba, False)
    return Ranked(np.asarray(logits, dtype=np.float64), True)


def sort_rows(scores: np.ndarray, is_hit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows in ascending order of score, their scores in that order, and whether each is a
    hit. Equal scores share an entry of the table, so their order does not matter: misses
    first, then by row, or (wider scores) by row.

    Scores of 32 bits or fewer sort as one 64-bit integer per row: an order-keeping key of the
    score, the hit, the row number. numpy sorts integers several times faster than it argsorts,
    and the score and the hit come back with the row, not gathered from all over memory. The
    keys are made and read a block at a time: no temporary as large as the scores.
    """
    n = scores.size
    if scores.dtype.kind != "f" or scores.dtype.itemsize > 4 or n >= 1 << 31:
        order = np.argsort(scores, kind="stable")
        return order, scores[order], is_hit[order]
    packed = np.empty(n, dtype=np.uint64)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        block = packed[start:stop]
        values = scores[start:stop].astype(np.float32)
        values += np.float32(0)  # -0.0 is 0.0: equal scores, one key
        # IEEE order as unsigned order: a positive score gains the sign bit, a negative one
        # has every bit flipped (the sign spread by an arithmetic shift, then xor).
        flip = values.view(np.int32) >> np.int32(31)
        key = values.view(np.uint32) ^ (flip.view(np.uint32) | _SIGN)
        np.left_shift(key, np.uint64(32), out=block, dtype=np.uint64)
        block |= np.left_shift(is_hit[start:stop], np.uint64(31), dtype=np.uint64)
        block |= np.arange(start, stop, dtype=np.uint64)
    packed.sort()
    order = np.empty(n, dtype=np.int32)
    ordered = np.empty(n, dtype=scores.dtype)
    hit = np.empty(n, dtype=bool)
    for start in range(0, n, BLOCK_ROWS):
        block = packed[start : start + BLOCK_ROWS]
        part = slice(start, start + block.size)
        order[part] = block & _ROW
        hit[part] = (block >> np.uint64(31)) & np.uint64(1)
        key = (block >> np.uint64(32)).astype(np.uint32)
        # the key's sign bit set: the score was positive, only that bit to clear; else all
        key ^= (key >> _SIGN_SHIFT) - np.uint32(1) | _SIGN
        ordered[part] = key.view(np.float32)
    return order, ordered, hit


class Sorted(NamedTuple):
    """A model's exact table of one batch, and where each of its rows sits in it."""

    table: ValueTable
    order: np.ndarray  # the rows in ascending score order
    entry: np.ndarray  # the table entry of each row, in that order
    hit: np.ndarray  # whether each row is a hit, in that order


def sorted_table(ranked: Ranked, is_hit: np.ndarray, bits: int) -> Sorted:
    """The exact table of the rows (as value_tables.tabulate makes it) from one sort, which
    also gives every row's entry."""
    n = ranked.scores.size
    order, ordered, hit = sort_rows(ranked.scores, is_hit)
    dtype = count_dtype(n)
    boundary = np.ones(n + 1, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=boundary[1:-1])
    starts = flatnonzero(boundary, dtype)
    values = ordered[starts[:-1]]
    del ordered
    entry = np.cumsum(boundary[:n], dtype=dtype)
    entry -= 1
    del boundary
    hits_so_far = np.zeros(n + 1, dtype=dtype)
    np.cumsum(hit, out=hits_so_far[1:])
    table = ValueTable(values, hits_so_far[starts], starts, bits, squash=ranked.squash)
    return Sorted(table, order, entry, hit)


def entry_placements(table: ValueTable, entries: slice = slice(None)) -> np.ndarray:
    """The placement of a miss and of a hit at some entries of a table, side by side (the
    row at an entry e of them has its at 2 e + is_hit). On a (dense) grid each bin is read as
    one tied score, as the report's ranking metrics read it.

    In halves, from integer counts: a hit's is the misses below its entry and below the next
    (2 below + tied), over 2 n0; a miss's is 2 n1 less the hits below both, over 2 n1.
    """
    start, stop, _ = entries.indices(table.entries)
    bounds = slice(start, stop + 1)
    hits = table.hits_below[bounds].astype(np.int64)
    misses = table.rows_below[bounds] - hits
    n1, n0 = table.hits, table.misses
    both = np.empty((stop - start, 2))
    doubled = hits[:-1] + hits[1:]
    np.subtract(2 * n1, doubled, out=doubled)
    both[:, 0] = doubled / (2 * max(n1, 1))
    np.add(misses[:-1], misses[1:], out=doubled)
    both[:, 1] = doubled / (2 * max(n0, 1))
    return both.ravel()


def _at(placements: np.ndarray, entry: np.ndarray, is_hit: np.ndarray) -> np.ndarray:
    """Rows' placements, by their entries (ascending, so the table is read front to back)."""
    index = entry.astype(np.int64)
    index *= 2
    index += is_hit
    return placements[index]


def placement(
    table: ValueTable, placements: np.ndarray, ranked: Ranked, is_hit: np.ndarray
) -> np.ndarray:
    """Each row's placement in a table of all rows (and its entry_placements), found by score."""
    order, ordered, hit = sort_rows(ranked.scores, is_hit)
    if table.is_grid:
        entry = grid_keys(sigmoid(ordered) if ranked.squash else ordered, table.bits)
    else:
        entry = np.searchsorted(table.values, ordered)
    result = np.empty(ordered.size)
    result[order] = _at(placements, entry, hit)
    return result


def row_placements(model: Sorted) -> np.ndarray:
    """Each row's placement in its model's table, in row order: a block of rows in score
    order at a time, with the placements of the entries they sit at (temporaries of a few
    megabytes)."""
    rows = model.order.size
    result = np.empty(rows)
    for start in range(0, rows, BLOCK_ROWS):
        entry = model.entry[start : start + BLOCK_ROWS]
        low = int(entry[0])
        placements = entry_placements(model.table, slice(low, int(entry[-1]) + 1))
        hit = model.hit[start : start + BLOCK_ROWS]
        result[model.order[start : start + BLOCK_ROWS]] = _at(placements, entry - low, hit)
    return result


@dataclass(frozen=True)
class PlacementSums:
    """Per class, the moments of the candidate's less the baseline's placement over the
    class's rows and over the rest; the squares of the macro average's per-row terms."""

    positives: tuple[Moments, ...]
    negatives: tuple[Moments, ...]
    macro_squares: float

    def merge(self, other: PlacementSums) -> PlacementSums:
        return PlacementSums(
            tuple(a.merge(b) for a, b in zip(self.positives, other.positives, strict=True)),
            tuple(a.merge(b) for a, b in zip(self.negatives, other.negatives, strict=True)),
            self.macro_squares + other.macro_squares,
        )


def macro_term(
    several: bool, first: ValueTable, second: ValueTable
) -> tuple[float, float, float] | None:
    """A class's share in the macro average's per-row terms: its AUC difference and its hits and
    misses; None for a class the average leaves out (fewer than two of either), or binary."""
    if not several or not _defined(first):
        return None
    return rank(second).roc_auc - rank(first).roc_auc, first.hits, first.misses


def placement_sums(
    classes: Iterable[tuple[np.ndarray, np.ndarray, tuple[float, float, float] | None]],
    n_terms: int,
) -> PlacementSums:
    """The sums of some rows, given per class each row's moved placement, whether the row is
    of the class, and the class's macro_term; `n_terms` classes have one. Summed a block of
    rows at a time, class by class: the same sums to the last bit, whichever way the rows came
    (one batch, or a stream of them)."""
    positives, negatives = [], []
    terms = None
    for moved, is_hit, term in classes:
        blocks = [slice(start, start + BLOCK_ROWS) for start in range(0, moved.size, BLOCK_ROWS)]
        blocks = blocks or [slice(0, 0)]
        positives.append(reduce(Moments.merge, (Moments.of(moved[b][is_hit[b]]) for b in blocks)))
        negatives.append(reduce(Moments.merge, (Moments.of(moved[b][~is_hit[b]]) for b in blocks)))
        if term is not None:
            difference, n1, n0 = term
            terms = np.zeros(moved.size) if terms is None else terms
            scale = np.where(is_hit, math.sqrt(n1 * (n1 - 1)), math.sqrt(n0 * (n0 - 1)))
            terms += (moved - difference) / scale
    squares = 0.0
    if terms is not None:
        terms /= n_terms
        for start in range(0, terms.size, BLOCK_ROWS):
            block = terms[start : start + BLOCK_ROWS]
            squares += float(np.dot(block, block))
    return PlacementSums(tuple(positives), tuple(negatives), squares)


def _defined(table: ValueTable) -> bool:
    return table.hits >= 2 and table.misses >= 2
