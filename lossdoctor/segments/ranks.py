"""Every group's ROC-AUC and DeLong interval, read off a segment table.

Counts of rows, exact or on a grid, are read a chunk of groups at a time: the entries holding
hits (all that the ROC-AUC and DeLong's variance read, see value_tables.held_entries) found
and counted for the whole chunk at once, each group's Mann-Whitney sum from one running
total, and DeLong's sums over each group's slice, block by block as held_entries splits a
table's entries: the numbers of a table built and ranked group by group, without building
one (on a grid, without the empty bins of its whole grid). Summed weights are read group by
group, as the whole data's tables are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from lossdoctor.segments.tables import Tables
from lossdoctor.stats import Interval
from lossdoctor.stats.delong import auc_interval, held_variance, interval_of
from lossdoctor.value_tables import HeldEntries, rank
from lossdoctor.value_tables.table import BLOCK, cumulative

# Cells (or entries) of the groups read at once: temporaries that stay in the cache.
CHUNK = 1 << 16


class GroupRanking(NamedTuple):
    roc_auc: float | None  # None without both hits and misses
    roc_auc_bound: float  # on a grid; 0.0 when exact
    on_grid: bool
    interval: Interval | None  # DeLong's, when asked for and defined


def group_rankings(
    tables: Tables, n_groups: int, confidence: float, intervals: bool
) -> Iterator[GroupRanking]:
    """The ROC-AUC of groups 0..n_groups-1, in order, and with `intervals` DeLong's
    interval of each (at `confidence`)."""
    if not tables.counted:
        for group in range(n_groups):
            table = tables.table(group)
            ranking = rank(table)
            found = None
            if intervals and ranking.roc_auc is not None:
                found = auc_interval(table, confidence, ranking.roc_auc_bound, ranking.roc_auc)
            interval = None if found is None else found[0]
            yield GroupRanking(ranking.roc_auc, ranking.roc_auc_bound, table.is_grid, interval)
        return
    sizes = np.cumsum(tables.group_sizes(n_groups))
    first = 0
    while first < n_groups:
        done = sizes[first - 1] if first else 0
        # the groups within CHUNK cells of this chunk's start, and at least one
        last = max(int(np.searchsorted(sizes, done + CHUNK, side="right")), first + 1)
        yield from _chunk(tables, first, last, confidence, intervals)
        first = last


def _chunk(
    tables: Tables, first: int, last: int, confidence: float, intervals: bool
) -> Iterator[GroupRanking]:
    """Groups first..last-1, from their entries' counts (on a grid, the occupied bins')."""
    group_starts, hits_before, rows_before = tables.cumulative_counts(first, last)
    totals_hits = np.diff(hits_before[group_starts])
    totals_rows = np.diff(rows_before[group_starts])
    held = np.flatnonzero(hits_before[1:] != hits_before[:-1])
    held_starts = np.searchsorted(held, group_starts)
    hits_at = hits_before[held + 1] - hits_before[held]
    misses_at = rows_before[held + 1] - rows_before[held] - hits_at
    # the hits and misses below each held entry within its group: less those below the group
    first_entry = np.repeat(group_starts[:-1], np.diff(held_starts))
    hits_below = hits_before[held] - hits_before[first_entry]
    misses_below = rows_before[held] - rows_before[first_entry] - hits_below
    # each held entry's index in its group's table: its bin on a grid
    bins = tables.entry_bins(first, last)
    index = held - first_entry if bins is None else bins[held]
    # A miss strictly below a hit scores 2, a tied one 1 (value_tables.rank's sums); on a
    # grid, the pairs tied within a bin bound the AUC.
    pairs = hits_at * (2 * misses_below + misses_at)
    ordered_pairs = np.diff(cumulative(pairs, np.int64)[held_starts])
    grid = tables.is_grid
    if grid:
        tied_pairs = np.diff(cumulative(hits_at * misses_at, np.int64)[held_starts])
    columns = (hits_below, misses_below, hits_at, misses_at)
    for g in range(last - first):
        n1, n0 = int(totals_hits[g]), int(totals_rows[g] - totals_hits[g])
        if not (n1 and n0):
            yield GroupRanking(None, 0.0, grid, None)
            continue
        auc = int(ordered_pairs[g]) / (2 * n1 * n0)
        bound = 0.5 * int(tied_pairs[g]) / (n1 * n0) if grid else 0.0
        interval = None
        if intervals and n1 >= 2 and n0 >= 2:
            start, stop = held_starts[g], held_starts[g + 1]
            blocks = _blocks(index[start:stop], [column[start:stop] for column in columns])
            variance = held_variance(blocks, n1, n0, auc, bound, grid)
            interval = interval_of(variance, confidence, bound)[0]
        yield GroupRanking(auc, bound, grid, interval)


def _blocks(entries: np.ndarray, columns: list[np.ndarray]) -> list[HeldEntries]:
    """One group's held entries (`entries`: their index among the group's entries) split as
    held_entries splits a table's: by blocks of BLOCK entries, those holding any."""
    if entries[-1] < BLOCK:
        return [HeldEntries(0, entries, *columns)]
    cuts = np.flatnonzero(np.diff(entries // BLOCK)) + 1
    return [
        HeldEntries(0, entries[part], *(column[part] for column in columns))
        for part in np.split(np.arange(len(entries)), cuts)
    ]
