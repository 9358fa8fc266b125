"""The floor: the least any tool must do to rank these predictions.

    python benchmarks/floor.py FILE

Read the label and score columns of a Parquet file with pyarrow, turn them into numpy arrays
and sort the scores once (np.argsort). Every ranking metric (ROC-AUC, average precision, the
precision-recall curve) needs at least one such sort, so no tool computing them can beat this
by much, whatever else it does.

Binary: one argsort of the `prob` column (N values). Multi-class: the K columns `prob_*` are
stacked into the N×K score matrix (as a tool holding them needs them) and one argsort of the
flattened matrix is done: N·K values, as many as K one-vs-rest sorts of N, in one call.

np.argsort is an indirect sort and, with numpy 2 on x86-64, several times slower than np.sort
of the same float32 values (which uses SIMD sorting). A tool that sorts the values directly,
as lossdoctor does, can therefore come in under this floor.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow.parquet as pq


def main(path: str) -> int:
    names = pq.read_schema(path).names
    prob_columns = [n for n in names if n.startswith("prob_")] or ["prob"]
    table = pq.read_table(path, columns=["label", *prob_columns])
    labels = table.column("label").to_numpy()
    columns = [table.column(n).to_numpy() for n in prob_columns]
    scores = columns[0] if len(columns) == 1 else np.column_stack(columns)
    order = np.argsort(scores, axis=None)
    print(len(labels), int(order[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
