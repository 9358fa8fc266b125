"""Exact unweighted tables of many groups kept as their cells: float32 (or narrower) scores
sorted by (group, score), each with whether it is a hit. Five bytes a cell and no per-entry
counts; every group's entries (the runs of equal scores) are read off in one pass, without a
search or a sort (entry_counts), where a group's misses and hits kept apart would be merged
group by group.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from lossdoctor.segments.tables import GroupTables, Tables, combined
from lossdoctor.value_tables import grid_keys, grid_size
from lossdoctor.value_tables.table import BLOCK, cumulative, float_bits, ordered_bits


def tabulate_groups(
    groups: np.ndarray,
    scores: np.ndarray,
    is_hit: np.ndarray,
    n_groups: int,
    weights: np.ndarray | None = None,
    squash: bool = False,
) -> GroupTables | SortedCells:
    """The exact tables of a batch's cells: each cell's group (< n_groups), score and whether
    it is a hit."""
    if weights is None and scores.dtype.itemsize <= 4:
        return SortedCells.of(groups, scores, is_hit, n_groups, squash)
    rows = np.ones(len(scores), dtype=np.int64) if weights is None else weights
    hits = is_hit.astype(rows.dtype) if weights is None else np.where(is_hit, weights, 0.0)
    merged = combined(groups.astype(np.int64, copy=False), scores, hits, rows)
    return GroupTables(*merged, scores.dtype, -1, squash)


@dataclass(frozen=True, eq=False)
class SortedCells:
    """Cells ascending by (group, score); starts[g]: group g's first cell, then the end."""

    scores: np.ndarray
    is_hit: np.ndarray  # bool, one per cell
    starts: np.ndarray  # int64, n_groups + 1
    squash: bool = False  # the scores are logits

    is_grid = False
    counted = True

    @classmethod
    def of(
        cls,
        groups: np.ndarray,
        scores: np.ndarray,
        is_hit: np.ndarray,
        n_groups: int,
        squash: bool = False,
    ) -> SortedCells:
        """The cells sorted by (group, score): one sort of 64-bit keys (group, the score's
        bits in an order that sorts as the floats do, the hit), each made a block of cells
        at a time (no temporary the size of the cells beside the keys)."""
        if len(scores) and (groups[1:] >= groups[:-1]).all():  # a batch of a few files
            counts = np.zeros(n_groups, dtype=np.int64)
            bounds = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True])
            runs = [
                _sorted_with_hits(scores[start:stop], is_hit[start:stop])
                for start, stop in pairwise(bounds)
            ]
            counts[groups[bounds[:-1]]] = np.diff(bounds)
            sorted_scores, hits = (np.concatenate(c) for c in zip(*runs, strict=True))
            return cls(sorted_scores, hits, cumulative(counts, np.int64), squash)
        keys = np.empty(len(scores), dtype=np.uint64)
        for start in range(0, len(scores), BLOCK):
            block = slice(start, start + BLOCK)
            key = keys[block]  # (group, score's ordered bits, hit), shifted in place
            np.copyto(key, groups[block], casting="unsafe")
            key <<= np.uint64(32)
            key |= _ordered(scores[block])
            key <<= np.uint64(1)
            key |= is_hit[block]
        keys.sort()
        # each group's first cell, and the end: where its lowest key would go
        firsts = np.arange(n_groups + 1, dtype=np.uint64) << np.uint64(33)
        starts = np.searchsorted(keys, firsts).astype(np.int64, copy=False)
        sorted_scores, hits = _decoded(keys, scores.dtype)
        return cls(sorted_scores, hits, starts, squash)

    @property
    def n_groups(self) -> int:
        return len(self.starts) - 1

    def group_sizes(self, n_groups: int) -> np.ndarray:
        """The cells of each group."""
        return np.diff(self.starts)

    def cumulative_counts(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Groups first..last-1's entries (the runs of equal scores, ascending by (group,
        score)): where each group's begin, then the end; the hits and the rows below each
        entry counted from the first group's, then all of them (int64)."""
        start, stop = self.starts[first], self.starts[last]
        scores = self.scores[start:stop]
        new = np.ones(len(scores) + 1, dtype=bool)
        np.not_equal(scores[1:], scores[:-1], out=new[1:-1])
        new[self.starts[first:last] - start] = True  # a group begins a run
        rows_before = np.flatnonzero(new)
        hits = np.zeros(len(scores) + 1, dtype=np.int64)
        np.cumsum(self.is_hit[start:stop], out=hits[1:])
        group_starts = np.searchsorted(rows_before, self.starts[first : last + 1] - start)
        return group_starts, hits[rows_before], rows_before

    def entry_bins(self, first: int, last: int) -> None:
        """Exact: no bins."""
        return None

    def entry_values(self, first: int, last: int) -> np.ndarray:
        """Groups first..last-1's distinct scores, in entry_counts' order."""
        start, stop = self.starts[first], self.starts[last]
        scores = self.scores[start:stop]
        new = np.ones(len(scores) + 1, dtype=bool)
        np.not_equal(scores[1:], scores[:-1], out=new[1:-1])
        new[self.starts[first:last] - start] = True
        return scores[new[:-1]]

    def regrouped(self, new_index: np.ndarray, columns: int, n_segments: int) -> SortedCells:
        """Segment i renumbered new_index[i] of n_segments (ascending: the cells keep their
        order, the new segments hold none)."""
        segment, column = np.divmod(np.arange(self.n_groups), columns)
        counts = np.zeros(n_segments * columns, dtype=np.int64)
        counts[new_index[segment] * columns + column] = np.diff(self.starts)
        return SortedCells(self.scores, self.is_hit, cumulative(counts, np.int64), self.squash)

    def merge(self, other: Tables, capacity: int | None) -> Tables:
        """Both batches' cells (the same groups); past `capacity` cells, as entries (which
        past `capacity` entries go on a grid)."""
        if not isinstance(other, SortedCells) or (
            capacity is not None and len(self.scores) + len(other.scores) > capacity
        ):
            return self.entries().merge(other.entries(), capacity)
        groups = np.arange(self.n_groups, dtype=np.uint64)
        keys = np.concatenate([self._keys(groups), other._keys(groups)])
        keys.sort()
        scores, hits = _decoded(keys, self.scores.dtype)
        counts = np.diff(self.starts) + np.diff(other.starts)
        return SortedCells(scores, hits, cumulative(counts, np.int64), self.squash)

    def _keys(self, groups: np.ndarray) -> np.ndarray:
        keys = _ordered(self.scores).astype(np.uint64)
        keys <<= np.uint64(1)
        keys |= self.is_hit
        keys |= np.repeat(groups << np.uint64(33), np.diff(self.starts))
        return keys

    def on_grid(self, bits: int) -> GroupTables:
        """The cells counted in grid bins of `bits` mantissa bits, without a sort: the bins
        are ordered as the scores are, so the (group, bin) keys already ascend."""
        if not len(self.scores):
            return replace(self.entries(), bits=bits, squash=False)
        groups = np.repeat(np.arange(self.n_groups, dtype=np.int64), np.diff(self.starts))
        scores = _probabilities(self.scores) if self.squash else self.scores
        keys = grid_keys(np.asarray(scores, dtype=self.scores.dtype), bits).astype(np.int64)
        keys += groups * grid_size(bits)
        groups, bins, hits, rows = _runs(keys, self.is_hit, groups)
        return GroupTables(groups, bins % grid_size(bits), hits, rows, self.scores.dtype, bits)

    def entries(self) -> GroupTables:
        """The same tables as GroupTables' entries: the distinct (group, score) pairs."""
        group_starts, hits_before, rows_before = self.cumulative_counts(0, self.n_groups)
        groups = np.repeat(np.arange(self.n_groups, dtype=np.int64), np.diff(group_starts))
        values = self.entry_values(0, self.n_groups)
        hits, rows = np.diff(hits_before), np.diff(rows_before)
        return GroupTables(groups, values, hits, rows, self.scores.dtype, -1, self.squash)


def _runs(
    keys: np.ndarray, is_hit: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each run of equal ascending keys: its group, key, hits and rows."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    hits_below = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(is_hit, out=hits_below[1:])
    bounds = np.r_[starts, len(keys)]
    return groups[starts], keys[starts], np.diff(hits_below[bounds]), np.diff(bounds)


def _sorted_with_hits(scores: np.ndarray, is_hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One group's cells by score: its misses and its hits each sorted (two plain sorts of
    the scores, no 64-bit keys), then merged by one search of the hits among the misses."""
    misses, hits = np.compress(~is_hit, scores), np.compress(is_hit, scores)
    for side in (misses, hits):
        side += side.dtype.type(0)  # -0.0 is 0.0
        side.sort()
    at = np.searchsorted(misses, hits, side="left")
    at += np.arange(len(hits))
    merged = np.empty(len(scores), dtype=scores.dtype)
    flags = np.zeros(len(scores), dtype=bool)
    merged[at], flags[at] = hits, True
    merged[~flags] = misses
    return merged, flags


def _ordered(scores: np.ndarray) -> np.ndarray:
    """float32 bits as uint32 that sort as the floats do (-0.0 as 0.0)."""
    return ordered_bits(scores.astype(np.float32, copy=False) + np.float32(0))


def _decoded(keys: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The scores (in their dtype) and hits of sorted keys, a block at a time; `keys` (spent)
    is their memory: each block's scores are written where blocks already read lay, and the
    keys' second half is handed back (no fresh pages the size of the scores)."""
    n, itemsize = len(keys), np.dtype(dtype).itemsize
    hits = np.empty(n, dtype=bool)
    scores = keys.view(np.uint8)[: n * itemsize].view(dtype)
    shifted = np.empty(min(n, BLOCK), dtype=np.uint64)
    for start in range(0, n, BLOCK):
        rows = slice(start, start + BLOCK)
        size = len(hits[rows])
        np.bitwise_and(keys[rows], np.uint64(1), out=shifted[:size])
        hits[rows] = shifted[:size]
        np.right_shift(keys[rows], np.uint64(1), out=shifted[:size])
        bits = shifted[:size].astype(np.uint32)  # the score's ordered bits
        scores[rows] = float_bits(bits)  # over keys already read
    del scores
    # no view of the keys is left: realloc shrinks their memory in place
    keys.resize(-(-n * itemsize // keys.itemsize), refcheck=False)
    return keys.view(np.uint8)[: n * itemsize].view(dtype), hits


def _probabilities(logits: np.ndarray) -> np.ndarray:
    from lossdoctor.losses import sigmoid

    return sigmoid(logits)
