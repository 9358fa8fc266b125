"""What an exact per-row paired bootstrap of average precision costs on the whole data.

    python benchmarks/exact_bootstrap.py [DIR] [--replicates R]

DIR holds baseline.parquet and candidate.parquet (label, prob) of the same rows (default:
benchmarks/data/paired_1m). Each replicate gives every row its Poisson(1) weight from the hash
of its row number (lossdoctor.stats.bootstrap.poisson_weights) and computes both models'
average precision under those weights, each model's rows sorted once beforehand: the least an
exact bootstrap must do, a pass over every row per model and replicate. The first replicate is
checked against scikit-learn's weighted average_precision_score. It prints the time of one
replicate and of the 1,000 that `lossdoctor compare` draws by default, beside the whole
`lossdoctor compare` of the same files.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from lossdoctor.stats.bootstrap import poisson_weights

DEFAULT = Path(__file__).parent / "data" / "paired_1m"


def sorted_model(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The labels and row numbers by descending score, and where each distinct score ends."""
    table = pq.read_table(path, columns=["label", "prob"])
    y = table.column("label").to_numpy().astype(bool)
    score = table.column("prob").to_numpy()
    order = np.argsort(-score.astype(np.float64), kind="stable")
    ranked = score[order]
    ends = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), ranked.size - 1]
    return y[order], order, ends


def weighted_ap(hits: np.ndarray, order: np.ndarray, ends: np.ndarray, weights) -> float:
    """scikit-learn's average precision with sample weights, from rows sorted once."""
    w = weights[order].astype(np.float64)
    tp = np.cumsum(w * hits)[ends]
    rows = np.cumsum(w)[ends]
    recall_steps = np.diff(np.r_[0.0, tp]) / tp[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(rows > 0, tp / rows, 1.0)
    return float(np.sum(recall_steps * precision))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--replicates", type=int, default=10)
    args = parser.parse_args()
    models = [sorted_model(args.directory / f"{n}.parquet") for n in ("baseline", "candidate")]
    rows = np.arange(models[0][0].size)

    first = poisson_weights(rows, 0)
    from sklearn.metrics import average_precision_score

    table = pq.read_table(args.directory / "baseline.parquet", columns=["label", "prob"])
    reference = average_precision_score(
        table.column("label").to_numpy(), table.column("prob").to_numpy(), sample_weight=first
    )
    ours = weighted_ap(*models[0], first)
    assert abs(ours - reference) <= 1e-9 * abs(reference), (ours, reference)

    start = time.perf_counter()
    for replicate in range(args.replicates):
        weights = poisson_weights(rows, replicate)
        for model in models:
            weighted_ap(*model, weights)
    per_replicate = (time.perf_counter() - start) / args.replicates

    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "lossdoctor", "compare", "--format", "json"]
        + [str(args.directory / f"{n}.parquet") for n in ("baseline", "candidate")],
        stdout=subprocess.DEVNULL,
        check=False,
    )
    compare = time.perf_counter() - start
    print(f"rows: {rows.size:,}; weighted AP equals scikit-learn's ({reference:.12f})")
    print(f"one replicate, both models: {per_replicate * 1e3:.1f} ms")
    print(f"1,000 replicates: {per_replicate * 1e3:.1f} s")
    print(f"lossdoctor compare, whole process: {compare:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
