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
import sys
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
from lossdoctor.value_tables.table import count_dtype, flatnonzero, float_bits, ordered_bits

# sort_rows' keys: a score's ordered bits above the hit (bit 31) and the row
_SIGN, _SIGN_SHIFT = np.uint32(1 << 31), np.uint32(31)
_ROW = np.uint32((1 << 31) - 1)
# Which uint32 of a uint64 holds its high bits, and which its low bits
_HALVES = (1, 0) if sys.byteorder == "little" else (0, 1)


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
    # the key's high and low 32 bits, as two columns of uint32
    halves = packed.view(np.uint32).reshape(n, 2)
    high, low = _HALVES
    for start in range(0, n, BLOCK_ROWS):
        part = slice(start, min(start + BLOCK_ROWS, n))
        values = scores[part].astype(np.float32)
        values += np.float32(0)  # -0.0 is 0.0: equal scores, one key
        ordered_bits(values, out=halves[part, high])
        row = np.left_shift(is_hit[part], _SIGN_SHIFT, dtype=np.uint32)
        row |= np.arange(part.start, part.stop, dtype=np.uint32)
        halves[part, low] = row
    packed.sort()
    order = np.empty(n, dtype=np.int32)
    ordered = np.empty(n, dtype=scores.dtype)
    hit = np.empty(n, dtype=bool)
    for start in range(0, n, BLOCK_ROWS):
        part = slice(start, min(start + BLOCK_ROWS, n))
        row = halves[part, low]
        np.bitwise_and(row, _ROW, out=order[part].view(np.uint32))
        np.greater_equal(row, _SIGN, out=hit[part])
        ordered[part] = float_bits(halves[part, high])
    return order, ordered, hit


class Placed(NamedTuple):
    """A model's exact table of one batch, and each row's placement in it times twice the
    other side's count (an integer: a hit's 2 n0 V10, a miss's 2 n1 V01), in row order."""

    table: ValueTable
    doubled: np.ndarray


def placed_rows(ranked: Ranked, is_hit: np.ndarray, bits: int) -> Placed:
    """The exact table of the rows (as value_tables.tabulate makes it) and every row's doubled
    placement, from one sort.

    The rows go a block at a time in the sort's order (temporaries of a few megabytes): a
    block's entries ascend, so it reads one stretch of the table, as entry_placements does.
    """
    n = ranked.scores.size
    order, ordered, hit = sort_rows(ranked.scores, is_hit)
    dtype = count_dtype(n)
    boundary = np.ones(n + 1, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=boundary[1:-1])
    starts = flatnonzero(boundary, dtype)
    values = ordered[starts[:-1]]
    del ordered
    blocks = [slice(begin, min(begin + BLOCK_ROWS, n)) for begin in range(0, n, BLOCK_ROWS)]
    hits_below = np.empty(starts.size, dtype=dtype)
    hits = entries = 0  # before the block
    for part in blocks:
        so_far = np.zeros(part.stop - part.start + 1, dtype=dtype)
        np.cumsum(hit[part], out=so_far[1:])
        so_far += hits
        found = entries + int(np.count_nonzero(boundary[part]))
        hits_below[entries:found] = so_far[starts[entries:found] - part.start]
        hits, entries = int(so_far[-1]), found
    hits_below[-1] = hits
    table = ValueTable(values, hits_below, starts, bits, squash=ranked.squash)
    doubled = np.empty(n, dtype=count_dtype(2 * n + 2))
    entries = 0
    for part in blocks:
        at = np.cumsum(boundary[part], dtype=dtype)
        low = entries + int(at[0]) - 1  # the block's first entry
        entries += int(at[-1])
        at -= at[0]
        at *= 2
        at += hit[part]
        doubled[order[part]] = doubled_placements(table, slice(low, entries))[at]
    return Placed(table, doubled)


def moved_placements(first: Placed, second: Placed, is_hit: np.ndarray) -> np.ndarray:
    """Each row's placement in the second model's table less its placement in the first's,
    in row order, a block of rows at a time."""
    moved = np.empty(is_hit.size)
    n1, n0 = first.table.hits, first.table.misses
    of_hit, of_miss = float(2 * max(n0, 1)), float(2 * max(n1, 1))  # exact: counts < 2**53
    for start in range(0, is_hit.size, BLOCK_ROWS):
        part = slice(start, start + BLOCK_ROWS)
        scale = np.where(is_hit[part], of_hit, of_miss)
        np.divide(second.doubled[part], scale, out=moved[part])
        np.divide(first.doubled[part], scale, out=scale)
        moved[part] -= scale
    return moved


def doubled_placements(table: ValueTable, entries: slice = slice(None)) -> np.ndarray:
    """At some entries of a table, the placement of a miss and of a hit side by side, each
    times twice the other side's count: integers (the row at an entry e of them has its at
    2 e + is_hit).

    In halves: a hit's is the misses below its entry and below the next (2 below + tied); a
    miss's is 2 n1 less the hits below both.
    """
    start, stop, _ = entries.indices(table.entries)
    bounds = slice(start, stop + 1)
    dtype = np.promote_types(table.rows_below.dtype, count_dtype(2 * table.rows + 2))
    hits = table.hits_below[bounds].astype(dtype)
    misses = table.rows_below[bounds] - hits
    both = np.empty((stop - start, 2), dtype=dtype)
    np.add(hits[:-1], hits[1:], out=both[:, 0])
    np.subtract(2 * table.hits, both[:, 0], out=both[:, 0])
    np.add(misses[:-1], misses[1:], out=both[:, 1])
    return both.ravel()


def entry_placements(table: ValueTable, entries: slice = slice(None)) -> np.ndarray:
    """The placement of a miss and of a hit at some entries of a table, side by side, as
    doubled_placements over 2 n1 and 2 n0. On a (dense) grid each bin is read as one tied
    score, as the report's ranking metrics read it."""
    doubled = doubled_placements(table, entries).reshape(-1, 2)
    both = np.empty(doubled.shape)
    both[:, 0] = doubled[:, 0] / (2 * max(table.hits, 1))
    both[:, 1] = doubled[:, 1] / (2 * max(table.misses, 1))
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
        # np.compress copies the rows several times faster than indexing with the mask does
        positives.append(
            reduce(Moments.merge, (Moments.of(np.compress(is_hit[b], moved[b])) for b in blocks))
        )
        negatives.append(
            reduce(Moments.merge, (Moments.of(np.compress(~is_hit[b], moved[b])) for b in blocks))
        )
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
