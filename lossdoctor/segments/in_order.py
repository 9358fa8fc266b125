"""Two exact tables of one group (a stream's batches of one file), counted in rows, merged
in order: the later one's scores placed among the earlier one's by a search, where sorting
both together would give the same entries in more time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lossdoctor.segments.tables import GroupTables


def one_group(a: GroupTables, b: GroupTables) -> bool:
    """Whether both hold entries of one group, the same (the batches of a stream's file)."""
    if not (len(a.groups) and len(b.groups)):
        return False
    return a.groups[0] == a.groups[-1] == b.groups[0] == b.groups[-1]


def held_scores(a: GroupTables, b: GroupTables, at: np.ndarray) -> np.ndarray:
    """Which of b's scores a holds, `at` their places among a's (np.searchsorted)."""
    equal = np.zeros(len(at), dtype=bool)
    inside = np.flatnonzero(at < len(a.values))
    equal[inside] = a.values[at[inside]] == b.values[inside]
    return equal


def merged_in_order(
    a: GroupTables, b: GroupTables, at: np.ndarray, equal: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The entries of two exact tables of one group, counted in rows: b's placed among a's
    (`at`, by np.searchsorted; `equal`: a holds the score), an equal score's counts added to
    a's entry (what combined() gives, without sorting both)."""
    new = np.flatnonzero(~equal)
    size = len(a.values) + len(new)
    placed = at[new] + np.arange(len(new))
    kept = np.ones(size, dtype=bool)
    kept[placed] = False
    found = []
    for column_a, column_b in ((a.values, b.values), (a.hits, b.hits), (a.rows, b.rows)):
        column = np.empty(size, dtype=np.result_type(column_a, column_b))
        column[kept] = column_a
        column[placed] = column_b[new]
        found.append(column)
    values, hits, rows = found
    matched = np.flatnonzero(equal)
    into = at[matched] + np.searchsorted(new, matched)  # a's entry, moved up by b's before it
    hits[into] += b.hits[matched]
    rows[into] += b.rows[matched]
    return np.full(size, a.groups[0]), values, hits, rows
