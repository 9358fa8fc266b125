"""Value tables: the rows of a class ("hits") and of the rest ("misses") at each score.

A table summarises one score column of a batch of rows, and two tables merge into the table of
both batches, so the ranking metrics of a dataset larger than memory come from its batches.
An exact table keeps one entry per distinct score. Past a capacity of distinct values it
becomes a fixed grid of bins over [0, 1] (see grid_keys), whose counts simply add; every value
read off a table comes with a bound on its error, 0.0 when the table is exact.

Counts are cumulative: for each entry, the hits and the rows scoring strictly below it, then
the totals. A slice of entries is then two subtractions, and a table costs one score and two
counts per distinct value (int32 counts while the rows fit).

Weighted rows (scikit-learn's sample_weight) make every count a float64 sum of the weights;
an unweighted table keeps integer counts, read exactly as before.

A table of logits (`squash`) keeps the scores' own order: a float64 sigmoid rounds every logit
above 37 to exactly 1, tying scores that rank apart. Its probabilities are read off through
sigmoid(); on a grid, whose bins lie over [0, 1], it becomes a table of those probabilities.
"""

from lossdoctor.value_tables.build import (
    complement,
    each_column,
    merge,
    merge_all,
    tabulate,
    tabulate_sides,
)
from lossdoctor.value_tables.keyed import tabulate_on_grid
from lossdoctor.value_tables.read import (
    BestF1,
    Bins,
    HeldEntries,
    Ranking,
    at_or_above,
    entry_at,
    entry_scores,
    held_entries,
    quantile_bins,
    rank,
    rows_at_or_above,
)
from lossdoctor.value_tables.table import (
    GRID_BINADES,
    GRID_BITS,
    ValueTable,
    dense,
    grid_bits,
    grid_keys,
    grid_size,
    probabilities,
    to_grid,
)

__all__ = [
    "GRID_BINADES",
    "GRID_BITS",
    "BestF1",
    "Bins",
    "HeldEntries",
    "Ranking",
    "ValueTable",
    "at_or_above",
    "complement",
    "dense",
    "each_column",
    "entry_at",
    "entry_scores",
    "grid_bits",
    "grid_keys",
    "grid_size",
    "held_entries",
    "merge",
    "merge_all",
    "probabilities",
    "quantile_bins",
    "rank",
    "rows_at_or_above",
    "tabulate",
    "tabulate_on_grid",
    "tabulate_sides",
    "to_grid",
]
