"""Quantile bins of a numeric --by column (`--by age:5`): edges from the whole column's
distinct values and their counts, a summary that merges, then each row's bin by a search."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError

# Distinct values a binned column may hold: past it, counting them costs memory with the rows.
MAX_VALUES = 1 << 21


@dataclass(frozen=True, eq=False)
class ColumnValues:
    """A numeric column's distinct finite values, ascending, and their rows."""

    name: str
    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, name: str, column: np.ndarray) -> ColumnValues:
        column = np.asarray(column)
        if column.dtype.kind not in "biuf":
            raise InputError(
                f"--by {name}:BINS cuts a numeric column into quantile bins; {name!r} holds "
                f"{column.dtype} values: segment by it without :BINS"
            )
        column = column[np.isfinite(column)] if column.dtype.kind == "f" else column
        values, counts = np.unique(column, return_counts=True)
        return cls(name, values.astype(np.float64), counts)

    def merge(self, other: ColumnValues) -> ColumnValues:
        values, inverse = np.unique(
            np.concatenate([self.values, other.values]), return_inverse=True
        )
        if len(values) > MAX_VALUES:
            raise InputError(
                f"--by {self.name}:BINS: the column holds more than {MAX_VALUES:,} distinct "
                "values; round it first, or segment by a coarser column"
            )
        counts = np.zeros(len(values), dtype=np.int64)
        np.add.at(counts, inverse, np.concatenate([self.counts, other.counts]))
        return ColumnValues(self.name, values, counts)


@dataclass(frozen=True, eq=False)
class Bins:
    """Edges of quantile bins: bin i holds edges[i] <= x < edges[i + 1], the last also its
    top; missing values (NaN) are a bin of their own, after the others."""

    edges: np.ndarray

    @classmethod
    def quantiles(cls, seen: ColumnValues, n_bins: int) -> Bins:
        """Edges at the values where 1/n, 2/n, ... of the rows lie below (the inverted
        empirical distribution, numpy's method="inverted_cdf"), each once."""
        if not len(seen.values):
            raise InputError(f"--by {seen.name}: the column holds no finite value to cut")
        cumulative = np.cumsum(seen.counts)
        targets = np.arange(1, n_bins) / n_bins * cumulative[-1]
        inner = seen.values[np.searchsorted(cumulative, targets, side="left")]
        edges = np.unique(np.r_[seen.values[0], inner, seen.values[-1]])
        if len(edges) == 1:
            edges = np.r_[edges, edges]
        return cls(edges)

    def labels(self, codes: np.ndarray) -> list[str]:
        """How each bin shows: [low, high), the last [low, high]."""
        last = len(self.edges) - 2
        return [
            "missing"
            if i > last
            else f"[{self.edges[i]:g}, {self.edges[i + 1]:g}{']' if i == last else ')'}"
            for i in (int(c) for c in codes)
        ]


def bin_codes(column: np.ndarray, bins: Bins) -> tuple[np.ndarray, np.ndarray]:
    """The bins present in a batch, and each row's index into them (values outside the
    edges, seen in no pass that made them, fall in the first or last bin)."""
    x = np.asarray(column, dtype=np.float64)
    code = np.searchsorted(bins.edges[1:-1], x, side="right")
    code[~np.isfinite(x)] = len(bins.edges) - 1  # missing values: a segment of their own
    return np.unique(code, return_inverse=True)
